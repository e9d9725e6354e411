"""Speed of the propagation backends, measured side by side in one run.

For each shape, every usable backend runs the full four-direction propagation
(forward, and forward+backward). The "bandwidth pass" is one fused elementwise
loop per direction that reads x and the 3 gates and writes h, i.e. the memory
traffic of a scan with no recurrence: the floor a CPU scan can hope for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from numba import njit, prange

from ..propagation import DIRECTIONS, backend_statuses, normalize_gates, propagate
from ..propagation.cpu import _plane_views

DEFAULT_SHAPES = ((1, 32, 96, 128), (4, 21, 360, 480))


@njit(parallel=True, cache=True)
def _bandwidth_pass(x, gates, h, channels, plane_size):
    for plane in prange(x.size // plane_size):
        strides = (3 * channels * plane_size, channels * plane_size, plane_size)  # batch, k, channel
        xp, hp, g0p, g1p, g2p = _plane_views(x, h, gates, plane, channels, strides, plane_size)
        for i in range(plane_size):
            total = g0p[i] + g1p[i] + g2p[i]
            hp[i] = xp[i] - total * xp[i] + total


@dataclass
class Row:
    shape: tuple[int, int, int, int]
    backend: str
    forward_s: float
    train_s: float  # forward + backward


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _inputs(shape, device: str):
    generator = torch.Generator().manual_seed(0)
    n, c, height, width = shape
    x = torch.rand(shape, generator=generator)
    raw = torch.randn((n, len(DIRECTIONS), 3, c, height, width), generator=generator)
    return x.to(device), normalize_gates(raw, dim=2).to(device)


def time_backend(shape, backend: str, repeats: int, device: str = "cpu") -> Row:
    x, gates = _inputs(shape, device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def forward():
        with torch.no_grad():
            propagate(x, gates, backend=backend)
        sync()

    xg, gg = x.clone().requires_grad_(), gates.clone().requires_grad_()

    def train():
        xg.grad = gg.grad = None
        propagate(xg, gg, backend=backend).sum().backward()
        sync()

    forward(), train()  # warm-up (JIT compile, caches)
    return Row(shape, backend, best_time(forward, repeats), best_time(train, repeats))


def time_bandwidth_pass(shape, repeats: int) -> float:
    """Seconds for one bandwidth pass per direction (all four directions)."""
    x, gates = _inputs(shape, "cpu")
    x = x.numpy().reshape(-1)
    per_direction = gates[:, 0].contiguous().numpy().reshape(-1)
    h = np.empty_like(x)
    args = (x, per_direction, h, shape[1], shape[2] * shape[3])
    _bandwidth_pass(*args)
    return len(DIRECTIONS) * best_time(lambda: _bandwidth_pass(*args), repeats)


def run(shapes=DEFAULT_SHAPES, repeats: int = 3, reference_repeats: int = 1):
    """Yields printable lines: a table per shape with ratios."""
    usable = {s.name for s in backend_statuses() if s.usable}
    yield f"threads: torch {torch.get_num_threads()}; backends usable: {', '.join(sorted(usable))}"
    header = f"{'shape':>18} {'backend':>8} {'forward s':>10} {'fwd+bwd s':>10} {'fwd vs ref':>11} {'fwd+bwd vs ref':>15}"
    yield header
    for shape in shapes:
        rows = [time_backend(shape, "torch", reference_repeats)]
        rows.append(time_backend(shape, "numba", repeats))
        if "cuda" in usable:
            rows.append(time_backend(shape, "cuda", repeats, device="cuda"))
        ref = rows[0]
        for row in rows:
            yield (
                f"{str(shape):>18} {row.backend:>8} {row.forward_s:>10.4f} {row.train_s:>10.4f} "
                f"{ref.forward_s / row.forward_s:>10.1f}x {ref.train_s / row.train_s:>14.1f}x"
            )
        bandwidth = time_bandwidth_pass(shape, repeats)
        numba = rows[1]
        yield (
            f"{str(shape):>18} {'bw-pass':>8} {bandwidth:>10.4f} {'':>10} "
            f"numba forward = {numba.forward_s / bandwidth:.2f}x the bandwidth pass"
        )
