"""Overlapping tiles: large images are refined window by window in bounded memory.

Each tile is refined with ``margin`` pixels of context on every inner side and only its core is kept.
Propagation carries information along whole rows and columns, so a tile cannot see past its margin; the
gates decay that influence, and the margin makes what is lost negligible (the tolerance against the untiled
result is measured on a real image in tests/refiner/test_tiles.py).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

TILE = 512
"""Core side of a tile, pixels. With its margins (~0.4 Mpx) a tile costs per pixel what a 480×360 image does;
larger tiles are slower per pixel (the column scans of the propagation leave the cache: a 1024 tile costs ~1.5×)."""
MARGIN = 64
"""Context on each inner side of a tile, pixels."""


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    parts = max(1, math.ceil(length / tile))
    bounds = [round(i * length / parts) for i in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def _padded(start: int, stop: int, length: int, margin: int, align: int) -> slice:
    first = max(0, (start - margin) // align * align)
    return slice(first, min(length, first + -(-(stop + margin - first) // align) * align))


def tile_windows(height: int, width: int, tile: int = TILE, margin: int = MARGIN, align: int = 1
                 ) -> Iterator[tuple[tuple[slice, slice], tuple[slice, slice]]]:
    """(core, padded) windows covering an (H, W) image: cores of near-equal size ≤ ``tile`` that tile it
    exactly, each padded by at least ``margin`` on the sides inside the image. Padded windows start and
    extend by multiples of ``align`` (the network's stride: its strided convolutions then sample the same
    grid as on the whole image). One window when the image fits."""
    for top, bottom in _spans(height, tile):
        for left, right in _spans(width, tile):
            core = (slice(top, bottom), slice(left, right))
            yield core, (_padded(top, bottom, height, margin, align), _padded(left, right, width, margin, align))
