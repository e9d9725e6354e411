"""Thin objects of the coarse map kept: where the coarse map draws a thin region confidently, the refiner may not
give its pixels another class.

The refiners learned on masks whose thin objects they mostly improve, and no tuning input foretold the maps where
they do not. The guard is the rule "small and thin objects survive" made explicit for what a map is sure of: a pixel
whose coarse class c forms a region at most ~2·``THIN_RADIUS`` px wide around it, with coarse top-1 probability
≥ ``THIN_CONFIDENCE``, keeps c. Chosen on the tuning sequence 0006R0 (models/README.md): the most protective setting
that cost no refiner more than 0.05 mIoU on any of its inputs. It leaves unsure thin regions to the refiner (the poles
`agnostic` loses on CamVid val are such). Probability maps only: a label mask carries no certainty (the refiner reads
it blurred, and its thin regions come out unsure).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from .channels import ProbabilityChannels

THIN_RADIUS = 3
"""A region is thin at a pixel when no disk of this radius inside the region lies within the (2r + 1)² window
around the pixel (the region is at most ~2r px wide there)."""
THIN_CONFIDENCE = 0.8
"""Only pixels the coarse map gives this top-1 probability or more are kept."""
BAND_ROWS = 256
"""Coarse probability maps are read in bands of this many rows (bounded memory on large images)."""


def coarse_winners(coarse: ProbabilityChannels, rows: int = BAND_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """A probability map as given (before any sharpening) → (H, W) index of its winning compact channel and (H, W)
    bool: the pixels sure enough to keep (top-1 ≥ ``THIN_CONFIDENCE``)."""
    height, width = coarse.shape
    index = np.empty((height, width), np.int32)
    sure = np.empty((height, width), bool)
    for top in range(0, height, rows):
        band = slice(top, min(height, top + rows))
        best, winner = torch.from_numpy(np.asarray(coarse.band(band), np.float32)).max(0)
        index[band], sure[band] = winner.numpy(), (best >= THIN_CONFIDENCE).numpy()
    return index, sure


def relabelled(coarse_index: np.ndarray, sure: np.ndarray, refined: np.ndarray | None = None,
               winners: np.ndarray | None = None) -> np.ndarray:
    """(H, W) bool: the ``sure`` pixels whose coarse winner the refiner did not keep on top — read from the (k, H, W)
    ``refined`` probabilities (its winner's probability above the coarse winner's) or, without them, from the (H, W)
    refined ``winners``."""
    if refined is None:
        return sure & (winners != coarse_index)
    at_coarse = np.take_along_axis(refined, coarse_index[None], 0)[0]
    return sure & (at_coarse < refined.max(0))


def thin_overrules(coarse_index: np.ndarray, lost: np.ndarray, radius: int = THIN_RADIUS) -> np.ndarray:
    """(H, W) coarse winners (compact channel indices) and the sure pixels the refiner gave another class
    (``relabelled``) → (H, W) bool: those of them where the coarse region is thin.

    A region's core (the pixels whose disk of ``radius`` lies inside it) is found for every region at once: the
    disk's smallest and largest label agree. A lost pixel is thin where no core pixel of its own region lies within
    its (2r + 1)² window; each class is examined within the bounding box of its lost pixels (cost follows them)."""
    overruled = np.zeros(coarse_index.shape, bool)
    ys, xs = np.nonzero(lost)
    if len(ys) == 0:
        return overruled
    labels = coarse_index.astype(np.uint16 if coarse_index.max() < 2 ** 16 else np.float32)  # cv2 morphology types
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    core = cv2.erode(labels, disk) == cv2.dilate(labels, disk)
    window = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    channels = coarse_index[ys, xs]
    order = np.argsort(channels, kind="stable")
    ys, xs, channels = ys[order], xs[order], channels[order]
    starts = np.flatnonzero(np.r_[True, channels[1:] != channels[:-1]])
    for start, stop in zip(starts, np.r_[starts[1:], len(channels)]):
        y, x = ys[start:stop], xs[start:stop]
        rows = slice(max(0, y.min() - radius), y.max() + radius + 1)  # the windows of its lost pixels
        cols = slice(max(0, x.min() - radius), x.max() + radius + 1)
        own_core = core[rows, cols] & (coarse_index[rows, cols] == channels[start])
        thin = cv2.dilate(own_core.astype(np.uint8), window)[y - rows.start, x - cols.start] == 0
        overruled[y[thin], x[thin]] = True
    return overruled


def keep_thin(refined: np.ndarray | None, winners: np.ndarray | None, coarse_index: np.ndarray,
              overruled: np.ndarray) -> None:
    """In place: at ``overruled`` pixels the coarse winner takes the refined winner's place — in the (k, H, W)
    ``refined`` probabilities the two channels' values swapped (the map stays a distribution), in the (H, W)
    ``winners`` the coarse winner set (either may be None)."""
    ys, xs = np.nonzero(overruled)
    kept = coarse_index[ys, xs]
    if refined is not None:
        won = refined[:, ys, xs].argmax(0)  # the first on ties, as ``labels.class_labels``
        top, other = refined[won, ys, xs], refined[kept, ys, xs]
        refined[won, ys, xs], refined[kept, ys, xs] = other, top
    if winners is not None:
        winners[ys, xs] = kept


def guard(coarse: ProbabilityChannels, refined: np.ndarray | None, winners: np.ndarray | None) -> None:
    """The whole guard, in place: the probability map as given, its (k, H, W) refinement and/or (H, W) refined
    winners (compact channels; either may be None) → sure thin coarse regions kept (``keep_thin``)."""
    coarse_index, sure = coarse_winners(coarse)
    overruled = thin_overrules(coarse_index, relabelled(coarse_index, sure, refined, winners))
    keep_thin(refined, winners, coarse_index, overruled)
