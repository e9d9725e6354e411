"""CUDA backend: the kernels of ``kernels/spn_scan.cu`` through CuPy.

The launch plan (kernel name, grid, block, arguments) is computed by
:func:`forward_launch` / :func:`backward_launch`, which know nothing about CuPy;
a *launcher* makes the final call. :class:`CupyLauncher` runs it on a GPU, and the
test suite runs the very same plans through a g++ host build of the same source.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
import torch

from .geometry import ScanGeometry

KERNEL_FILE = "spn_scan.cu"
KERNEL_NAMES = ("spn_scan_forward", "spn_scan_backward")
MAX_THREADS = 256
_TEMPLATE_ARGS = {torch.float32: "float", torch.float64: "double"}


def kernel_source() -> str:
    """Text of the shipped ``.cu`` file (``RawModule`` wants source text, not a path)."""
    return resources.files("spnrefine.kernels").joinpath(KERNEL_FILE).read_text()


def kernel_name(base: str, dtype: torch.dtype) -> str:
    """Template instantiation for a dtype, e.g. ``spn_scan_forward<float>``."""
    return f"{base}<{_TEMPLATE_ARGS[dtype]}>"


def name_expressions() -> list[str]:
    return [kernel_name(base, dtype) for base in KERNEL_NAMES for dtype in _TEMPLATE_ARGS]


@dataclass(frozen=True)
class Launch:
    """One kernel launch: tensors are passed as device pointers, ints as int64."""

    kernel: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    args: tuple


def _block_for(lines: int) -> tuple[int, int, int]:
    """Threads cover the lines of a plane: a multiple of 32, at most MAX_THREADS."""
    return (min(MAX_THREADS, 32 * ((lines + 31) // 32)), 1, 1)


def _ints(x: torch.Tensor, gates: torch.Tensor, geometry: ScanGeometry) -> tuple[np.int64, ...]:
    strides = (gates.stride(0), gates.stride(1), gates.stride(2))  # batch, k, channel
    return tuple(np.int64(v) for v in (x.shape[1], *strides, *geometry.as_args()))


def forward_launch(x: torch.Tensor, gates: torch.Tensor, h: torch.Tensor, geometry: ScanGeometry) -> Launch:
    """Plan for h = scan(x, gates); one block per (n, c) plane. Layouts as in the ``.cu`` file."""
    return Launch(
        kernel_name("spn_scan_forward", x.dtype),
        (x.shape[0] * x.shape[1], 1, 1),
        _block_for(geometry.lines),
        (x, gates, h, *_ints(x, gates, geometry)),
    )


def backward_launch(x, gates, h, grad_h, adjoint, grad_x, grad_gates, geometry: ScanGeometry) -> Launch:
    """Plan for the reverse pass; ``adjoint`` is scratch of x's shape, grad_x is added to."""
    return Launch(
        kernel_name("spn_scan_backward", x.dtype),
        (x.shape[0] * x.shape[1], 1, 1),
        _block_for(geometry.lines),
        (x, gates, h, grad_h, adjoint, grad_x, grad_gates, *_ints(x, gates, geometry)),
    )


@functools.lru_cache(maxsize=None)
def _cupy_module(device_index: int):
    import cupy

    with cupy.cuda.Device(device_index):
        return cupy.RawModule(
            code=kernel_source(), options=("--std=c++14",), name_expressions=name_expressions()
        )


class CupyLauncher:
    """Runs a :class:`Launch` with CuPy on the tensors' device and torch's current stream."""

    def __call__(self, launch: Launch) -> None:
        import cupy

        device = next(a for a in launch.args if isinstance(a, torch.Tensor)).device
        args = tuple(cupy.from_dlpack(a.detach()) if isinstance(a, torch.Tensor) else a for a in launch.args)
        with cupy.cuda.Device(device.index):
            stream = cupy.cuda.ExternalStream(torch.cuda.current_stream(device).cuda_stream)
            kernel = _cupy_module(device.index).get_function(launch.kernel)
            with stream:
                kernel(launch.grid, launch.block, args)


class KernelBackend:
    """Scan backend over the ``.cu`` kernels; ``launcher`` decides where they run.

    Same interface as :class:`spnrefine.propagation.cpu.NumbaBackend`.
    """

    needs_adjoint = True  # scratch of x's shape for the backward kernel

    def __init__(self, launcher, name: str = "cuda"):
        self.launcher = launcher
        self.name = name

    def forward(self, x, gates, h, geometry: ScanGeometry) -> None:
        self.launcher(forward_launch(x, gates, h, geometry))

    def forward_merged(self, x, gates, out, geometries: list[ScanGeometry]) -> None:
        """out = max over directions of the scans (inference); gates: (N, D, 3, C, H, W)."""
        self.forward(x, gates[:, 0], out, geometries[0])
        h = torch.empty_like(x) if len(geometries) > 1 else None
        for i, geometry in enumerate(geometries[1:], start=1):
            self.forward(x, gates[:, i], h, geometry)
            torch.maximum(out, h, out=out)

    def backward(self, x, gates, h, grad_h, adjoint, grad_x, grad_gates, geometry: ScanGeometry) -> None:
        self.launcher(backward_launch(x, gates, h, grad_h, adjoint, grad_x, grad_gates, geometry))
