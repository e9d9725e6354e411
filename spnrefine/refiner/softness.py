"""Masks that are merely low-resolution: recognised as upsampled hard masks (certain interiors) and sharpened.

Where two classes meet, a probability map ramps from one to the other. A network's own output is rarely
certain (ESPNet on CamVid training images, and on degraded copies of them as uncertain as on unseen images:
≤ 10.4% of their pixels reach 0.999). A hard mask predicted or stored at low resolution and upsampled
bilinearly is certain away from its boundaries (×8: 35–97% of the pixels at 0.999 on every training list
here) and ramps over about twice the factor (×2: ~4 px, ×8: 11–19). The refiner learned from network
outputs; on such masks it blurred the ramps further and lost to the input, the more the better the mask was
(README). Raised to a power γ and renormalized, a ramp narrows γ-fold around the same argmax: the labels stay,
the boundary becomes a step that propagation snaps to the image. Network outputs must not be sharpened
(0006R0, agnostic: γ 2 costs −0.37 mIoU, γ 16 −1.33), hence the test for certainty (``lowres_power``).
A confident network is certain too (MediaPipe's person maps: ~90% of pixels ≥ 0.999), and its soft band carries
what it is unsure of (sharpened, the refiner's gain on them fell from +0.70 to +0.16 mIoU): what tells an
upsampled hard mask is that its band is a pixel or two wide at the low resolution, i.e. it ramps in a few
straight pieces (``ramp_pieces``). A map upsampled by nearest neighbour (blocks) is first interpolated as if
it had been upsampled bilinearly (``unblocked``). Chosen on training images and the held-out training sequence
0006R0 only (models/README.md).
"""

from __future__ import annotations

import numpy as np
import torch

from ..io.coarse import lattice_side, resize_maps

POWER = 20.0
"""γ for an upsampled hard mask: its ramps (×2: ~4 px, ×16: ~30 px) become steps of a pixel or two."""
SATURATED = 0.999
"""A pixel whose top probability reaches this is saturated (certain)."""
SATURATED_SHARE = 0.2
"""A map is an upsampled hard mask if at least this share of its pixels is saturated."""
SAMPLED_PIXELS = 1 << 15
"""About this many pixels (rows spread over the image) are read to tell how certain a map is."""
MAX_PIECES = 9.0
"""A map is an upsampled hard mask only if its ramps bend at most this often per boundary crossing."""
MAX_PIECES_8BIT = 7.5
"""The same for a map stored in 8 bits (a matte): rounding hides a network's gentler bends, so fewer count."""
SAMPLED_LINES = 128
"""About this many rows and as many columns are read to count the bends of the ramps."""
BLOCK_LINES = 32
"""About this many rows (and, for a blocky map, columns) are read to find the lattice of its blocks."""


def saturated_share(probs: np.ndarray) -> float:
    """(K, H, W) probabilities → the share of pixels (sampled rows) whose top probability is ``SATURATED``."""
    height, width = probs.shape[1:]
    step = max(1, height * width // SAMPLED_PIXELS)
    return float((probs[:, ::step].max(0) >= SATURATED).mean())


def is_certain(probs: np.ndarray) -> bool:
    """(K, H, W) probabilities → whether at least ``SATURATED_SHARE`` of the pixels are certain: an upsampled hard
    mask or a confident segmenter's map, not a network's soft output (``Refiner``: the weights for certain masks)."""
    return saturated_share(probs) >= SATURATED_SHARE


def ramp_pieces(probs: np.ndarray, quantized: bool | None = None) -> float:
    """(K, H, W) probabilities → how often the top probability changes slope inside the uncertain band, per
    change of label, along sampled rows and columns. A hard mask upsampled bilinearly ramps in 3–8 straight
    pieces (the low-resolution band is a pixel or two wide); a network's map bends at nearly every pixel, and
    one upsampled from a low resolution in as many pieces as its transition has low-resolution pixels (12+).
    quantized: whether the map is stored in 8 bits (``eight_bit``; None: found out here)."""
    height, width = probs.shape[1:]
    rows = probs[:, :: max(1, height // SAMPLED_LINES)]
    columns = probs[:, :, :: max(1, width // SAMPLED_LINES)].transpose(0, 2, 1)
    quantized = eight_bit(rows) if quantized is None else quantized
    tolerance = 1.5 / 255 if quantized else 1e-4  # rounding to 8 bits bends a straight ramp by one step often
    bends = crossings = 0
    for lines in (rows, columns):
        top = lines.max(0).astype(np.float64)
        uncertain = top < SATURATED
        inside = uncertain[:, :-2] & uncertain[:, 1:-1] & uncertain[:, 2:]
        curvature = np.abs(top[:, 2:] - 2 * top[:, 1:-1] + top[:, :-2])
        bends += int((inside & (curvature > tolerance)).sum())
        labels = lines.argmax(0)
        crossings += int((labels[:, 1:] != labels[:, :-1]).sum())
    return bends / max(crossings, 1)


def eight_bit(probs: np.ndarray) -> bool:
    """Whether (K, h, W) probabilities are multiples of 1/255 (a map stored as an 8-bit image)."""
    top = probs.max(0).astype(np.float64)
    return bool(np.abs(top * 255 - np.round(top * 255)).max() < 1e-3)


def lowres_power(probs: np.ndarray) -> float:
    """(K, H, W) probabilities → the power to raise them to before refinement: ``POWER`` for an upsampled hard
    mask (``SATURATED_SHARE`` of its pixels certain, ramps of at most ``MAX_PIECES`` straight pieces, or
    ``MAX_PIECES_8BIT`` stored in 8 bits), else 1 (as they are)."""
    if not is_certain(probs):
        return 1.0
    quantized = eight_bit(probs[:, :: max(1, probs.shape[1] // SAMPLED_LINES)])
    return POWER if ramp_pieces(probs, quantized) <= (MAX_PIECES_8BIT if quantized else MAX_PIECES) else 1.0


def unblocked(probs: np.ndarray) -> np.ndarray | None:
    """(K, H, W) probabilities upsampled by nearest neighbour (constant blocks, e.g. ``F.interpolate``'s default)
    → the same low-resolution map upsampled bilinearly, float32; None for a map that is not blocky. Blocks hide
    where inside them a boundary lies; interpolation puts it where the block values say (and a hard mask's map
    then ramps straight, so it is sharpened next)."""
    height, width = probs.shape[1:]
    rows = probs[:, :: max(1, height // BLOCK_LINES)].max(0)  # top probability of sampled rows
    across = (rows[:, 1:] != rows[:, :-1]).any(0)  # columns before which a value changes: block boundaries
    side = lattice_side(across)
    if side < 2:  # most maps end here, having read a few rows
        return None
    columns = probs[:, :, :: max(1, width // BLOCK_LINES)].max(0)
    down = (columns[1:] != columns[:-1]).any(1)
    side = min(side, lattice_side(down))
    if side < 2:
        return None
    scales = []
    for changes in (across, down):
        gaps = np.diff(np.flatnonzero(changes))
        scales.append(float(gaps[gaps <= side + 1].mean()))  # blocks of a non-integer scale: side or side + 1
    small_width, small_height = max(1, round(width / scales[0])), max(1, round(height / scales[1]))
    centres_x = np.minimum(((np.arange(small_width) + 0.5) * width / small_width).astype(np.int64), width - 1)
    centres_y = np.minimum(((np.arange(small_height) + 0.5) * height / small_height).astype(np.int64), height - 1)
    small = np.asarray(probs, np.float32)[:, centres_y][:, :, centres_x]  # each block's value, at its centre
    resampled = resize_maps(small, (width, height))
    return resampled / np.maximum(resampled.sum(0, keepdims=True), 1e-12)


def sharpened(probs: np.ndarray, power: float, counts: np.ndarray | None = None) -> np.ndarray:
    """(k, H, W) probabilities raised to ``power`` and renormalized (argmax unchanged), float32. counts: (k,)
    how many classes each channel stands for (``refiner.channels``: a shared channel holds that many classes
    of its value each, as ``ProbabilityChannels`` and ``SpnRefiner.propagated`` read it); None: one each.
    Not ``network.sharpened``: that one is a trained per-pixel power in torch, and reads a shared channel as
    the classes' total."""
    values = torch.from_numpy(np.asarray(probs, np.float32))
    raised = (values / values.amax(0, keepdim=True).clamp_min(1e-12)).pow_(power)  # top channel 1: no underflow
    weighted = raised if counts is None else raised * torch.from_numpy(counts).to(raised.dtype).view(-1, 1, 1)
    return raised.div_(weighted.sum(0, keepdim=True)).numpy()
