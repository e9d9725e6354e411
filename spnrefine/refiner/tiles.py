"""Windows of a large image: it is refined band by band in bounded memory.

Refinement has two halves (``SpnRefiner.steering`` and ``SpnRefiner.finished``), windowed differently:

* Steering (the guidance CNN: gates and blend per pixel) depends on a pixel's neighbourhood only. It is
  computed once per pixel, band by band, in windows with ``STEERING_MARGIN`` pixels of context that are
  aligned to the network's stride (so its strided convolutions sample the same grid as on the whole image).
  Only the guidance's levels below full resolution (``Guidance.context``: the reach) need that context; its
  full-resolution layers (``Guidance.detail``: about half the work) run in cache-sized pieces of a window
  with ``DETAIL_MARGIN`` pixels, which give what the whole window would (exactly where its sides are even).
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
STEERING_SPAN = 1920
"""Width of a steering window, pixels (the core): its half-resolution levels overlap the next window's by
the margins, so wider is less work; its full-resolution layers go in pieces of ``DETAIL_SPAN``."""
STEERING_MARGIN = 24
"""Context of a steering window on each inner side, pixels (before alignment)."""
DETAIL_SPAN = 320
"""Width of a piece of a steering window whose full-resolution layers run at once, pixels (the core: its
activations stay in cache; wider pieces were slower)."""
DETAIL_MARGIN = 4
"""Context of such a piece on each inner side, pixels: its three 3×3 convolutions read 3 px, and an even
start keeps the ×2 upsampling of the context on the window's grid."""


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


def detail_pieces(core: tuple[slice, slice], padded: tuple[slice, slice], span: int, margin: int
                  ) -> Iterator[tuple[tuple[slice, slice], tuple[slice, slice]]]:
    """(core, padded) pieces of a steering window's ``core`` (rows whole, columns in near-equal spans ≤ ``span``),
    each padded by at least ``margin`` inside the window ``padded`` and starting at an even offset; all in the
    window's coordinates."""
    rows = slice(core[0].start - padded[0].start, core[0].stop - padded[0].start)
    height, width = padded[0].stop - padded[0].start, padded[1].stop - padded[1].start
    for left, right in _spans(core[1].start - padded[1].start, core[1].stop - padded[1].start, span):
        yield ((rows, slice(left, right)),
               (_padded(rows.start, rows.stop, height, margin, 2), _padded(left, right, width, margin, 2)))
