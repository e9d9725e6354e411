"""Windows of a large image: it is refined band by band in bounded memory.

Refinement has two halves (``SpnRefiner.steering`` and ``SpnRefiner.finished``), windowed differently:

* Steering (the guidance CNN: gates and blend per pixel) depends on a pixel's neighbourhood only. It is
  computed once per pixel, band by band, in windows with ``STEERING_MARGIN`` pixels of context that are
  aligned to the network's stride (so its strided convolutions sample the same grid as on the whole image).
* Propagation carries information along whole rows and columns. It runs in windows of ``TILE`` pixels with
  ``MARGIN`` pixels of context, on the steering of their band: a scan that enters a window from inside the
  image starts from the input at the window's edge, and the gates decay what lies further.

Running the whole network per padded 512 px tile instead, 3840×2160 took 95× the time of 480×360; now 63×
(README, `spnrefine benchmark scaling`).
The tolerance against the untiled result is measured on a real image in tests/refiner/test_tiles.py.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

TILE = 512
"""Side of a propagation window and height of a band, pixels (the core, without context)."""
MARGIN = 48
"""Context of a propagation window on each inner side, pixels."""
STEERING_SPAN = 640
"""Width of a steering window, pixels (the core): wider ones overlap less but need more memory (1280 px:
+0.5 GB at 3840×2160, 2% faster)."""
STEERING_MARGIN = 24
"""Context of a steering window on each inner side, pixels (before alignment)."""


def _spans(start: int, stop: int, tile: int) -> list[tuple[int, int]]:
    parts = max(1, math.ceil((stop - start) / tile))
    bounds = [start + round(i * (stop - start) / parts) for i in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def _padded(start: int, stop: int, length: int, margin: int, align: int) -> slice:
    first = max(0, (start - margin) // align * align)
    return slice(first, min(length, first + -(-(stop + margin - first) // align) * align))


def steering_windows(height: int, width: int, rows: slice, span: int, margin: int, align: int = 1
                     ) -> Iterator[tuple[tuple[slice, slice], tuple[slice, slice]]]:
    """(core, padded) windows covering ``rows`` × all columns of an (H, W) image: the rows whole, the columns in
    near-equal spans ≤ ``span``, each padded by at least ``margin`` inside the image, starting and extending by
    multiples of ``align``."""
    if rows.stop <= rows.start:
        return
    for left, right in _spans(0, width, span):
        yield ((rows, slice(left, right)),
               (_padded(rows.start, rows.stop, height, margin, align), _padded(left, right, width, margin, align)))


def spans_with_context(length: int, span: int, margin: int) -> Iterator[tuple[slice, slice]]:
    """(core, padded) ranges along one axis, in order: cores of near-equal length ≤ ``span`` that cover
    [0, length) once, padded by ``margin`` inside it."""
    for first, stop in _spans(0, length, span):
        yield slice(first, stop), slice(max(0, first - margin), min(length, stop + margin))
