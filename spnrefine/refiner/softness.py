"""Masks that are merely low-resolution: recognised as hard masks upsampled (certain interiors), sharpened.

Where two classes meet, a probability map ramps from one to the other. A network's own output is rarely
certain (ESPNet on CamVid training images, and on degraded copies of them as uncertain as on unseen images:
≤ 10.4% of their pixels reach 0.999) and ramps over a few pixels (3.5 px by ``boundary_width``; degraded:
6.9). A hard mask predicted or stored at low resolution and upsampled bilinearly is certain away from its
boundaries (×8: 35–97% of the pixels at 0.999 on every training list here) and ramps over about twice the
factor (×2: ~3.7 px, ×8: 11–19). The refiner learned from network outputs; on such masks it blurred the ramps
further and lost to the input, the more the better the mask was (README). Raised to a power γ and
renormalized, a ramp narrows γ-fold around the same argmax: the labels stay, the boundary becomes a step
that propagation snaps to the image. Network outputs must not be sharpened (0006R0, agnostic: γ 2 costs
−0.37 mIoU, γ 16 −1.33), hence the test for certainty (``lowres_power``). Chosen on training images and the
held-out training sequence 0006R0 only (models/README.md).
"""

from __future__ import annotations

import numpy as np
import torch

STEPS_PER_PIXEL = 1.5
"""Sharpening: γ = this × the boundary width (a ramp of w px becomes about 2/3 px: a step)."""
SATURATED = 0.999
"""A pixel whose top probability reaches this is saturated (certain)."""
SATURATED_SHARE = 0.2
"""A map is an upsampled hard mask only if at least this share of its pixels is saturated."""
SAMPLED_PIXELS = 1 << 15
"""About this many pixels (rows spread over the image) are read to tell how certain a map is and its ramp width."""


def saturated_share(probs: np.ndarray) -> float:
    """(K, H, W) probabilities → the share of pixels (sampled rows) whose top probability is ``SATURATED``."""
    height, width = probs.shape[1:]
    step = max(1, height * width // SAMPLED_PIXELS)
    return float((probs[:, ::step].max(0) >= SATURATED).mean())


def boundary_width(probs: np.ndarray) -> float:
    """(K, H, W) probabilities → the median width in pixels over which a class's probability hands over to
    its neighbour's where the argmax changes (1: a step, a linear ramp of w pixels: w); 0 without any change.

    Measured on pairs of adjacent rows spread over the image (``SAMPLED_PIXELS``): across each label change
    between horizontal or vertical neighbours a → b, the mean of a's drop and b's rise is 1 / width."""
    height, width = probs.shape[1:]
    if height < 2:
        return 0.0
    step = max(1, (height - 1) * width // SAMPLED_PIXELS)
    upper, lower = probs[:, 0:height - 1:step], probs[:, 1:height:step]
    top, bottom = upper.argmax(0), lower.argmax(0)
    i, j = np.nonzero(top[:, 1:] != top[:, :-1])  # horizontal neighbours (i, j) | (i, j + 1)
    a, b = top[i, j], top[i, j + 1]
    across = upper[a, i, j] - upper[a, i, j + 1] + upper[b, i, j + 1] - upper[b, i, j]
    i, j = np.nonzero(top != bottom)  # vertical neighbours
    a, b = top[i, j], bottom[i, j]
    down = upper[a, i, j] - lower[a, i, j] + lower[b, i, j] - upper[b, i, j]
    handover = np.concatenate([across, down]) / 2
    if handover.size == 0:
        return 0.0
    return float(1 / max(np.median(handover), 1e-3))


def lowres_power(probs: np.ndarray) -> float:
    """(K, H, W) probabilities → the power to raise them to before refinement: 1 (as they are) unless the map
    is an upsampled hard mask, saturated away from its boundaries (``SATURATED_SHARE``); then
    ``STEPS_PER_PIXEL`` × its boundary width (at least 1)."""
    if saturated_share(probs) < SATURATED_SHARE:
        return 1.0
    return max(1.0, STEPS_PER_PIXEL * boundary_width(probs))


def sharpened(probs: np.ndarray, power: float, counts: np.ndarray | None = None) -> np.ndarray:
    """(k, H, W) probabilities raised to ``power`` and renormalized (argmax unchanged), float32. counts: (k,)
    how many classes each channel stands for (``refiner.channels``: a shared channel holds that many classes
    of its value each); None: one each."""
    values = torch.from_numpy(np.asarray(probs, np.float32))
    raised = (values / values.amax(0, keepdim=True).clamp_min(1e-12)).pow_(power)  # top channel 1: no underflow
    weighted = raised if counts is None else raised * torch.from_numpy(counts).to(raised.dtype).view(-1, 1, 1)
    return raised.div_(weighted.sum(0, keepdim=True)).numpy()
