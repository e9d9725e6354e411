"""Public entry points: :func:`propagate` (four directions, merged) and :func:`propagate_direction`."""

from __future__ import annotations

import functools

import torch

from .backends import resolve_backend
from .geometry import DIRECTIONS, check_direction, scan_geometry
from .reference import propagate_direction_reference

_COMPUTE_DTYPES = (torch.float32, torch.float64)
MERGES = ("max", "none")


class _Propagate(torch.autograd.Function):
    """All directions through one kernel backend (Numba on CPU, CUDA kernels on GPU).

    Forward keeps every direction's result, (D, N, C, H, W), for the backward pass.
    """

    @staticmethod
    def forward(ctx, x, gates, directions, merge, backend):
        geometries = [scan_geometry(d, x.shape[2], x.shape[3]) for d in directions]
        results = x.new_empty((len(directions), *x.shape))
        for i, geometry in enumerate(geometries):
            backend.forward(x, gates[:, i], results[i], geometry)
        merged = results.amax(dim=0) if merge == "max" else results.transpose(0, 1)
        ctx.save_for_backward(x, gates, results, merged if merge == "max" else None)
        ctx.geometries, ctx.backend = geometries, backend
        return merged

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        x, gates, results, merged = ctx.saved_tensors
        grad_x, grad_gates, grad_h = torch.zeros_like(x), torch.empty_like(gates), torch.empty_like(x)
        adjoint = torch.empty_like(x) if ctx.backend.needs_adjoint else None
        if merged is not None:  # max: share the gradient among the directions that reach the max
            winners = results == merged
            share = grad_out / winners.sum(dim=0)
        for i, geometry in enumerate(ctx.geometries):
            if merged is not None:
                torch.mul(share, winners[i], out=grad_h)
            else:
                grad_h.copy_(grad_out[:, i])
            ctx.backend.backward(x, gates[:, i], results[i], grad_h, adjoint, grad_x, grad_gates[:, i], geometry)
        need_x, need_gates = ctx.needs_input_grad[:2]
        return (grad_x if need_x else None), (grad_gates if need_gates else None), None, None, None


def _propagate_inference(x, gates, directions, merge, backend) -> torch.Tensor:
    """Same values as :class:`_Propagate` without keeping results for backward (running max)."""
    height, width = x.shape[2:]
    if merge == "none":
        results = x.new_empty((x.shape[0], len(directions), *x.shape[1:]))
        for i, d in enumerate(directions):
            h = torch.empty_like(x)
            backend.forward(x, gates[:, i], h, scan_geometry(d, height, width))
            results[:, i] = h
        return results
    merged = torch.empty_like(x)
    backend.forward_merged(x, gates, merged, [scan_geometry(d, height, width) for d in directions])
    return merged


@functools.lru_cache(maxsize=None)
def _backend(backend: str):
    if backend == "numba":
        from .cpu import NumbaBackend

        return NumbaBackend()
    from .cuda import CupyLauncher, KernelBackend

    return KernelBackend(CupyLauncher())


def _check(x: torch.Tensor, gates: torch.Tensor, gate_shape: tuple, gate_layout: str) -> None:
    """Validate x and gates; errors name the argument and the expected layout."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a (N, C, H, W) tensor, got {getattr(x, 'shape', type(x))}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    if not isinstance(gates, torch.Tensor) or tuple(gates.shape) != gate_shape:
        raise ValueError(f"gates must have shape {gate_layout} = {gate_shape}, got {tuple(getattr(gates, 'shape', ()))}")
    if gates.device != x.device:
        raise ValueError(f"gates are on {gates.device} but x is on {x.device}")
    if gates.dtype != x.dtype:
        raise TypeError(f"gates have dtype {gates.dtype} but x has {x.dtype}")
    if min(x.shape) == 0:
        raise ValueError(f"x must not be empty, got shape {tuple(x.shape)}")


def _run(x: torch.Tensor, gates: torch.Tensor, directions: tuple, merge: str, backend: str) -> torch.Tensor:
    """Checked inputs → result in x's dtype; half precision is computed in float32."""
    compute = x if x.dtype in _COMPUTE_DTYPES else x.float()
    compute_gates = gates.to(compute.dtype)
    name = resolve_backend(backend, x.device.type)
    if name == "torch":
        results = torch.stack(
            [propagate_direction_reference(compute, compute_gates[:, i], d) for i, d in enumerate(directions)],
            dim=1,
        )
        out = results.amax(dim=1) if merge == "max" else results
    else:
        out = run_backend(compute, compute_gates, directions, merge, _backend(name))
    return out.to(x.dtype)


def run_backend(x: torch.Tensor, gates: torch.Tensor, directions: tuple, merge: str, backend) -> torch.Tensor:
    """Propagate through a kernel backend (inputs already checked, float32/float64).

    Exposed so the tests can drive the CUDA launch plans through a host build.
    """
    if torch.is_grad_enabled() and (x.requires_grad or gates.requires_grad):
        return _Propagate.apply(x.contiguous(), gates.contiguous(), directions, merge, backend)
    # Inference reads gates in place when each (H, W) plane is contiguous: e.g. one gate set
    # expanded over all channels (stride 0) is never copied.
    width = gates.shape[-1]
    planes_contiguous = gates.stride(-1) == 1 and gates.stride(-2) == width
    return _propagate_inference(x.contiguous(), gates if planes_contiguous else gates.contiguous(), directions,
                                merge, backend)


def propagate_direction(x: torch.Tensor, gates: torch.Tensor, direction: str, backend: str = "auto") -> torch.Tensor:
    """Propagate along one direction.

    Args:
        x: (N, C, H, W), float16/bfloat16/float32/float64 (half types computed in float32).
        gates: (N, 3, C, H, W), same dtype and device; see :mod:`spnrefine.propagation.gates`.
        direction: ``"lr"``, ``"rl"``, ``"tb"`` or ``"bt"``.
        backend: ``"auto"`` (Numba on CPU, CUDA kernels on GPU), ``"torch"``, ``"numba"`` or ``"cuda"``.
    Returns:
        h: (N, C, H, W) in x's dtype.
    """
    check_direction(direction)
    n, c, height, width = x.shape if isinstance(x, torch.Tensor) and x.dim() == 4 else (0, 0, 0, 0)
    _check(x, gates, (n, 3, c, height, width), "(N, 3, C, H, W)")
    return _run(x, gates.unsqueeze(1), (direction,), "none", backend).squeeze(1)


def propagate(
    x: torch.Tensor,
    gates: torch.Tensor,
    directions: tuple[str, ...] = DIRECTIONS,
    merge: str = "max",
    backend: str = "auto",
) -> torch.Tensor:
    """Propagate along several directions and merge them.

    Args:
        x: (N, C, H, W).
        gates: (N, D, 3, C, H, W) with D = len(directions), in the order of ``directions``.
        directions: subset of ``("lr", "rl", "tb", "bt")``, no repeats.
        merge: ``"max"`` (node-wise maximum, as in SPN) → (N, C, H, W);
            ``"none"`` → the stacked results (N, D, C, H, W).
        backend: see :func:`propagate_direction`.
    """
    directions = tuple(check_direction(d) for d in directions)
    if not directions or len(set(directions)) != len(directions):
        raise ValueError(f"directions must be distinct and non-empty, got {directions}")
    if merge not in MERGES:
        raise ValueError(f"merge must be one of {MERGES}, got {merge!r}")
    n, c, height, width = x.shape if isinstance(x, torch.Tensor) and x.dim() == 4 else (0, 0, 0, 0)
    _check(x, gates, (n, len(directions), 3, c, height, width), "(N, D, 3, C, H, W)")
    return _run(x, gates, directions, merge, backend)
