"""Fast CPU backend: Numba kernels, parallel over (n, c) planes.

Same math and arguments as ``kernels/spn_scan.cu`` (geometry from
:class:`~spnrefine.propagation.geometry.ScanGeometry`), organised for a CPU core:
each plane walks its steps one line vector at a time, and the previous step (or,
backward, what the next step sends back) lives in small zero-padded line buffers,
so the inner loops have no branches. Where lines are contiguous (top→bottom,
bottom→top) LLVM vectorizes them; otherwise the same loops run on strided views.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

from .geometry import ScanGeometry


@njit(cache=True, inline="always")
def _plane_views(values, out, gates, plane, channels, gate_strides, plane_size):
    """Flat views of one (n, c) plane: values, out, and its three gate planes.

    gate_strides: (batch, k, channel) strides of the gates in elements.
    """
    batch = plane // channels
    offset = plane * plane_size
    go = batch * gate_strides[0] + (plane - batch * channels) * gate_strides[2]
    gate_stride = gate_strides[1]
    return (
        values[offset:offset + plane_size],
        out[offset:offset + plane_size],
        gates[go:go + plane_size],
        gates[go + gate_stride:go + gate_stride + plane_size],
        gates[go + 2 * gate_stride:go + 2 * gate_stride + plane_size],
    )


@njit(cache=True, inline="always")
def _line(plane, column, lines, line_stride):
    """Strided view of the line vector of one step."""
    return plane[column:column + (lines - 1) * line_stride + 1:line_stride]


@njit(cache=True, inline="always")
def _forward_step(xs, g0, g1, g2, hs, previous):
    """hs = (1 - g0 - g1 - g2) xs + g0 h[p-1] + g1 h[p] + g2 h[p+1] of the previous step."""
    for p in range(xs.size):
        xv = xs[p]
        hs[p] = (
            xv - (g0[p] + g1[p] + g2[p]) * xv
            + g0[p] * previous[p] + g1[p] * previous[p + 1] + g2[p] * previous[p + 2]
        )
    previous[1:xs.size + 1] = hs


@njit(cache=True, inline="always")
def _max_into(out, line):
    for p in range(line.size):
        out[p] = max(out[p], line[p])


@njit(cache=True, inline="always")
def _scan_plane(xp, hp, g0p, g1p, g2p, lines, steps, line_stride, step_stride, start, merge_max):
    """One plane, one direction: hp = scan, or hp = max(hp, scan) without storing the scan."""
    previous = np.zeros(lines + 2, dtype=xp.dtype)  # previous[p + 1]: line p of the last step
    current = np.empty(lines, dtype=xp.dtype)
    for s in range(steps):
        c = start + s * step_stride
        if line_stride == 1:
            out = hp[c:c + lines]
            _forward_step(xp[c:c + lines], g0p[c:c + lines], g1p[c:c + lines], g2p[c:c + lines],
                          current if merge_max else out, previous)
            if merge_max:
                _max_into(out, current)
        else:
            out = _line(hp, c, lines, line_stride)
            _forward_step(_line(xp, c, lines, line_stride), _line(g0p, c, lines, line_stride),
                          _line(g1p, c, lines, line_stride), _line(g2p, c, lines, line_stride),
                          current, previous)
            if merge_max:
                _max_into(out, current)
            else:
                out[:] = current


@njit(parallel=True, cache=True)
def _scan_forward(
    x, gates, h, channels, gate_batch_stride, gate_k_stride, gate_channel_stride,
    plane_size, lines, steps, line_stride, step_stride, start,
):
    """h = scan(x, gates) for one direction."""
    strides = (gate_batch_stride, gate_k_stride, gate_channel_stride)
    for plane in prange(x.size // plane_size):
        xp, hp, g0p, g1p, g2p = _plane_views(x, h, gates, plane, channels, strides, plane_size)
        _scan_plane(xp, hp, g0p, g1p, g2p, lines, steps, line_stride, step_stride, start, False)


@njit(parallel=True, cache=True)
def _scan_forward_merged(
    x, gates, out, channels, direction_stride, gate_batch_stride, gate_k_stride, gate_channel_stride,
    plane_size, geometries,
):
    """out = max over directions d of scan_d(x, gates[:, d]); geometries: (D, 5) rows of
    (lines, steps, line_stride, step_stride, start). One call: a plane stays in cache for all directions."""
    strides = (gate_batch_stride, gate_k_stride, gate_channel_stride)
    for plane in prange(x.size // plane_size):
        for d in range(geometries.shape[0]):
            lines, steps, line_stride, step_stride, start = geometries[d]
            xp, hp, g0p, g1p, g2p = _plane_views(x, out, gates[d * direction_stride:], plane, channels, strides,
                                                 plane_size)
            _scan_plane(xp, hp, g0p, g1p, g2p, lines, steps, line_stride, step_stride, start, d > 0)


@njit(cache=True, inline="always")
def _backward_step(xs, g0, g1, g2, gh, gx, d0, d1, d2, previous, sent, adjoint):
    """One step of the reverse pass.

    previous: h of the step before, zero-padded; sent[k, p + 1]: g_k * adjoint of line p
    at the step after (h[s+1][q] reads h[s][q-1] with g0, h[s][q] with g1, h[s][q+1] with g2).
    """
    lines = xs.size
    for p in range(lines):
        adjoint[p] = gh[p] + sent[0, p + 2] + sent[1, p + 1] + sent[2, p]
    for p in range(lines):
        a = adjoint[p]
        xv = xs[p]
        gx[p] += a - (g0[p] + g1[p] + g2[p]) * a
        d0[p] = a * (previous[p] - xv)
        d1[p] = a * (previous[p + 1] - xv)
        d2[p] = a * (previous[p + 2] - xv)
        sent[0, p + 1] = g0[p] * a
        sent[1, p + 1] = g1[p] * a
        sent[2, p + 1] = g2[p] * a


@njit(parallel=True, cache=True)
def _scan_backward(
    x, gates, h, grad_h, grad_x, grad_gates,
    channels, gate_batch_stride, gate_k_stride, gate_channel_stride,
    plane_size, lines, steps, line_stride, step_stride, start,
):
    strides = (gate_batch_stride, gate_k_stride, gate_channel_stride)
    for plane in prange(x.size // plane_size):
        xp, hp, g0p, g1p, g2p = _plane_views(x, h, gates, plane, channels, strides, plane_size)
        ghp, gxp, d0p, d1p, d2p = _plane_views(grad_h, grad_x, grad_gates, plane, channels, strides, plane_size)
        sent = np.zeros((3, lines + 2), dtype=x.dtype)
        previous = np.zeros(lines + 2, dtype=x.dtype)
        adjoint = np.empty(lines, dtype=x.dtype)
        for s in range(steps - 1, -1, -1):
            c = start + s * step_stride
            if s == 0:
                previous[:] = 0
            elif line_stride == 1:
                previous[1:lines + 1] = hp[c - step_stride:c - step_stride + lines]
            else:
                previous[1:lines + 1] = _line(hp, c - step_stride, lines, line_stride)
            if line_stride == 1:
                _backward_step(xp[c:c + lines], g0p[c:c + lines], g1p[c:c + lines], g2p[c:c + lines],
                               ghp[c:c + lines], gxp[c:c + lines], d0p[c:c + lines], d1p[c:c + lines],
                               d2p[c:c + lines], previous, sent, adjoint)
            else:
                _backward_step(_line(xp, c, lines, line_stride), _line(g0p, c, lines, line_stride),
                               _line(g1p, c, lines, line_stride), _line(g2p, c, lines, line_stride),
                               _line(ghp, c, lines, line_stride), _line(gxp, c, lines, line_stride),
                               _line(d0p, c, lines, line_stride), _line(d1p, c, lines, line_stride),
                               _line(d2p, c, lines, line_stride), previous, sent, adjoint)


def _flat(t: torch.Tensor) -> np.ndarray:
    """1-D NumPy view from t's first element over its whole extent (no copy).

    ``t`` may have any strides (also 0) on its leading axes; only its last two must be contiguous.
    """
    array = t.detach().numpy()
    extent = 1 + sum((size - 1) * stride for size, stride in zip(array.shape, array.strides)) // array.itemsize
    return np.lib.stride_tricks.as_strided(array, shape=(extent,), strides=(array.itemsize,))


def _gate_strides(gates: torch.Tensor) -> tuple[int, int, int]:
    """(batch, k, channel) strides of (N, 3, C, H, W) gates."""
    return gates.stride(0), gates.stride(1), gates.stride(2)


class NumbaBackend:
    """Runs the scan kernels on CPU tensors (float32 or float64), writing into given buffers."""

    name = "numba"
    needs_adjoint = False  # line buffers hold it

    def forward(self, x, gates, h, geometry: ScanGeometry) -> None:
        """x, h: contiguous (N, C, H, W); gates: (N, 3, C, H, W), (H, W) contiguous, any N/k/C strides."""
        _scan_forward(_flat(x), _flat(gates), _flat(h), x.shape[1], *_gate_strides(gates), *geometry.as_args())

    def forward_merged(self, x, gates, out, geometries: list[ScanGeometry]) -> None:
        """out = max over directions of the scans (inference); gates: (N, D, 3, C, H, W)."""
        table = np.array([g.as_args()[1:] for g in geometries], dtype=np.int64)
        _scan_forward_merged(_flat(x), _flat(gates), _flat(out), x.shape[1], gates.stride(1),
                             gates.stride(0), gates.stride(2), gates.stride(3), geometries[0].plane_size, table)

    def backward(self, x, gates, h, grad_h, adjoint, grad_x, grad_gates, geometry: ScanGeometry) -> None:
        """Adds dL/dx into grad_x, writes dL/dgates into grad_gates (which must have the gates' strides).

        ``adjoint`` (scratch for the CUDA kernel) is not needed: line buffers hold it here.
        """
        _scan_backward(
            _flat(x), _flat(gates), _flat(h), _flat(grad_h), _flat(grad_x), _flat(grad_gates),
            x.shape[1], *_gate_strides(gates), *geometry.as_args(),
        )
