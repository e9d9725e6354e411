"""Which propagation backends this machine can run, and why not."""

from __future__ import annotations

from dataclasses import dataclass

BACKENDS = ("torch", "numba", "cuda")


@dataclass(frozen=True)
class BackendStatus:
    name: str
    usable: bool
    detail: str


def _numba_status() -> BackendStatus:
    try:
        import numba
    except ImportError as error:  # pragma: no cover - numba is a dependency
        return BackendStatus("numba", False, f"numba cannot be imported: {error}")
    return BackendStatus("numba", True, f"numba {numba.__version__}, {numba.config.NUMBA_NUM_THREADS} threads")


def _cuda_status() -> BackendStatus:
    try:
        import cupy
    except ImportError:
        return BackendStatus("cuda", False, "CuPy is not installed (pip install 'spnrefine[cuda]' or '[cuda12]')")
    import torch

    if not torch.cuda.is_available():
        return BackendStatus("cuda", False, f"CuPy {cupy.__version__} installed, but torch sees no CUDA device")
    return BackendStatus("cuda", True, f"CuPy {cupy.__version__}, {torch.cuda.get_device_name()}")


def nvrtc_status() -> BackendStatus:
    """Whether NVRTC can compile the kernels here (needs CuPy, not a GPU)."""
    try:
        from cupy_backends.cuda.libs import nvrtc

        major, minor = nvrtc.getVersion()
    except Exception as error:  # ImportError or a missing libnvrtc
        return BackendStatus("nvrtc", False, f"NVRTC unavailable: {error}")
    return BackendStatus("nvrtc", True, f"NVRTC {major}.{minor} (kernels compile without a GPU)")


def backend_statuses() -> list[BackendStatus]:
    return [BackendStatus("torch", True, "reference, always available"), _numba_status(), _cuda_status()]


def resolve_backend(backend: str, device_type: str) -> str:
    """Pick the concrete backend for ``backend`` ("auto" or a name) on a device type."""
    if backend == "auto":
        if device_type == "cuda":
            return "cuda" if _cuda_status().usable else "torch"
        return "numba" if device_type == "cpu" and _numba_status().usable else "torch"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {BACKENDS}, got {backend!r}")
    if backend == "numba" and device_type != "cpu":
        raise ValueError(f"backend 'numba' runs on CPU tensors, got a {device_type} tensor")
    if backend == "cuda":
        if device_type != "cuda":
            raise ValueError(f"backend 'cuda' needs CUDA tensors, got a {device_type} tensor")
        status = _cuda_status()
        if not status.usable:
            raise RuntimeError(f"backend 'cuda' is not usable: {status.detail}")
    return backend
