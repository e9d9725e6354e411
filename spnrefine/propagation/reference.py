"""Plain PyTorch reference of the propagation: loops over the scan axis only.

Slow but obviously right; every fast path is tested against it, and it is
differentiable by autograd (gradcheck in float64 runs on it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .geometry import check_direction


def _to_canonical(t: torch.Tensor, direction: str) -> torch.Tensor:
    """(…, H, W) → (…, lines, steps), so the scan runs along the last axis."""
    if direction in ("tb", "bt"):
        t = t.transpose(-1, -2)
    if direction in ("rl", "bt"):
        t = t.flip(-1)
    return t


def _from_canonical(t: torch.Tensor, direction: str) -> torch.Tensor:
    if direction in ("rl", "bt"):
        t = t.flip(-1)
    if direction in ("tb", "bt"):
        t = t.transpose(-1, -2)
    return t


def propagate_direction_reference(x: torch.Tensor, gates: torch.Tensor, direction: str) -> torch.Tensor:
    """One direction of the three-way propagation.

    Args:
        x: (N, C, H, W).
        gates: (N, 3, C, H, W), layout as in :mod:`spnrefine.propagation.gates`.
        direction: one of ``"lr", "rl", "tb", "bt"``.
    Returns:
        h: (N, C, H, W).
    """
    check_direction(direction)
    xc = _to_canonical(x, direction)
    gc = _to_canonical(gates, direction)
    # unbind once: indexing step by step would make autograd allocate a full-size
    # gradient per step (quadratic backward).
    x_steps, gate_steps = xc.unbind(-1), gc.unbind(-1)
    previous = torch.zeros_like(x_steps[0])
    outputs = []
    for x_step, gate_step in zip(x_steps, gate_steps):
        g0, g1, g2 = gate_step.unbind(1)
        above = F.pad(previous[..., :-1], (1, 0))
        below = F.pad(previous[..., 1:], (0, 1))
        previous = (1 - g0 - g1 - g2) * x_step + g0 * above + g1 * previous + g2 * below
        outputs.append(previous)
    return _from_canonical(torch.stack(outputs, dim=-1), direction)
