"""Dense CRF after the refiner (``--then-crf``): never, always, or ``auto`` — only for an image whose coarse
probability map is unsure, where the two together gained most (model card, session 22)."""

from __future__ import annotations

import numpy as np

from ..errors import SpnrefineError

MODES = ("never", "auto", "always")
UNSURE_TOP1 = 0.92
"""``auto`` runs CRF when the coarse map's mean top-1 probability is below this (set on the tuning sequence 0006R0:
0.90–0.95 tried)."""


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SpnrefineError(f"--then-crf {mode!r}: expected one of {', '.join(MODES)}")
    return mode


def wants_crf(mode: str, coarse_probs: np.ndarray | None) -> bool:
    """Whether CRF follows the refiner for one image; ``coarse_probs``: its (K, H, W) coarse probabilities, None
    for a label mask (certain: ``auto`` leaves it to the refiner)."""
    if mode == "always":
        return True
    if mode == "never" or coarse_probs is None:
        return False
    return float(np.asarray(coarse_probs, np.float32).max(0).mean()) < UNSURE_TOP1
