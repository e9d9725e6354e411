"""Command line: ``spnrefine`` (Typer). Heavy imports live inside the commands."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from . import __version__

app = typer.Typer(help="Refine semantic-segmentation masks with learned spatial propagation.", no_args_is_help=True)
benchmark_app = typer.Typer(help="Measure speed.", no_args_is_help=True)
app.add_typer(benchmark_app, name="benchmark")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"spnrefine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Refine semantic-segmentation masks with learned spatial propagation."""


@app.command()
def info() -> None:
    """Print versions and which propagation backends this machine can use (and why not)."""
    import platform

    import numpy
    import torch

    from .propagation import backend_statuses, nvrtc_status

    typer.echo(f"spnrefine {__version__}")
    typer.echo(f"python {platform.python_version()}, torch {torch.__version__}, numpy {numpy.__version__}")
    typer.echo("propagation backends:")
    for status in [*backend_statuses(), nvrtc_status()]:
        mark = "yes" if status.usable else "no "
        typer.echo(f"  {status.name:<6} {mark}  {status.detail}")


@benchmark_app.command("propagation")
def benchmark_propagation(
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs per fast backend (best is kept).")] = 3,
    quick: Annotated[bool, typer.Option(help="Only the small shape (1, 32, 96, 128).")] = False,
) -> None:
    """Time each propagation backend against the torch reference and a bandwidth-bound pass."""
    from . import benchmark

    shapes = benchmark.DEFAULT_SHAPES[:1] if quick else benchmark.DEFAULT_SHAPES
    for line in benchmark.run(shapes, repeats=repeats):
        typer.echo(line)


def main() -> None:
    # Large CPU tensors on transparent huge pages: page faults on fresh buffers otherwise
    # dominate CPU training steps (the propagation benchmark's forward+backward: 0.76 s -> 0.40 s).
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    app()
