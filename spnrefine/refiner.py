"""The SPN refiner (not trained yet)."""

from __future__ import annotations

from .errors import SpnrefineError


def load_refiner(checkpoint, device):
    raise SpnrefineError("no refinement checkpoint ships yet; pass --no-refine")
