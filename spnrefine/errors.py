"""The one exception type users see: a clear message, turned into exit code 1 by the CLI."""


class SpnrefineError(Exception):
    """A problem with the user's input or setup, with a message that says what to do."""
