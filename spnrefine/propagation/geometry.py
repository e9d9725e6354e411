"""Scan directions and how each one walks a contiguous (H, W) plane.

Every direction is the same recurrence on a "canonical" walk: a step index ``s``
along the scan axis and a line index ``p`` across it. Inside a plane of ``H * W``
contiguous elements, element (s, p) sits at ``start + s * step_stride + p * line_stride``.
The gate for neighbour ``k`` (0, 1, 2) of a pixel weighs the previous step's value at
line ``p + k - 1``, i.e. for left→right/right→left: row above, same row, row below;
for top→bottom/bottom→top: column left, same column, column right.
"""

from __future__ import annotations

from dataclasses import dataclass

DIRECTIONS: tuple[str, ...] = ("lr", "rl", "tb", "bt")
"""left→right, right→left, top→bottom, bottom→top."""


@dataclass(frozen=True)
class ScanGeometry:
    """Integer description of one direction's walk over an (H, W) plane."""

    plane_size: int
    lines: int
    steps: int
    line_stride: int
    step_stride: int
    start: int

    def as_args(self) -> tuple[int, ...]:
        """The kernel arguments, in the order the kernels declare them."""
        return (self.plane_size, self.lines, self.steps, self.line_stride, self.step_stride, self.start)


def check_direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return direction


def scan_geometry(direction: str, height: int, width: int) -> ScanGeometry:
    """Walk of ``direction`` over a contiguous (height, width) plane."""
    check_direction(direction)
    size = height * width
    if direction == "lr":
        return ScanGeometry(size, height, width, width, 1, 0)
    if direction == "rl":
        return ScanGeometry(size, height, width, width, -1, width - 1)
    if direction == "tb":
        return ScanGeometry(size, width, height, 1, width, 0)
    return ScanGeometry(size, width, height, 1, -width, (height - 1) * width)
