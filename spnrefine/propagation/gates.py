"""Gate layout and the normalizations that keep the propagation stable.

Layout used everywhere in :mod:`spnrefine.propagation`:

* all directions: ``gates`` of shape (N, D, 3, C, H, W), where D follows the order
  of the ``directions`` argument (default ``("lr", "rl", "tb", "bt")``) and index
  ``k`` in the third axis weighs the previous step's neighbour at line offset
  ``k - 1`` (see :mod:`spnrefine.propagation.geometry`);
* one direction: (N, 3, C, H, W).

A guidance CNN emits raw values of shape (N, D * 3 * C, H, W) (channel index
``(d * 3 + k) * C + c``); :func:`gates_from_guidance` reshapes and normalizes them.
"""

from __future__ import annotations

import torch

GATE_MODES = ("signed", "convex")


def normalize_gates(raw: torch.Tensor, mode: str = "signed", dim: int = -4) -> torch.Tensor:
    """Map raw guidance values to gates with |g1| + |g2| + |g3| <= 1 per pixel.

    Args:
        raw: any shape with the 3 neighbours on axis ``dim``.
        mode: ``"signed"`` (default, as in the SPN paper) divides the three values by
            ``max(1, |g1| + |g2| + |g3|)``: gates already inside the stable set pass
            unchanged, others are scaled back onto its border; gates may be negative.
            ``"convex"`` takes a softmax over the three values and a fourth implicit
            logit 0 (the weight kept by x), so gates are positive and every output is a
            convex combination of inputs and of the zeros that stand for neighbours outside
            the image: outputs stay within [min(x, 0), max(x, 0)] (probabilities stay in [0, 1]).
        dim: the neighbour axis of ``raw`` (size 3).
    Returns:
        Gates with the shape of ``raw``.
    """
    if raw.shape[dim] != 3:
        raise ValueError(f"raw gates need size 3 on axis {dim}, got shape {tuple(raw.shape)}")
    if mode == "signed":
        # Dividing by the largest magnitude first keeps the sum finite for huge inputs;
        # it changes nothing where that magnitude is <= 1.
        raw = raw / raw.abs().amax(dim=dim, keepdim=True).clamp(min=1.0)
        return raw / raw.abs().sum(dim=dim, keepdim=True).clamp(min=1.0)
    if mode == "convex":
        keep = torch.zeros_like(raw.narrow(dim, 0, 1))
        return torch.softmax(torch.cat([raw, keep], dim=dim), dim=dim).narrow(dim, 0, 3)
    raise ValueError(f"mode must be one of {GATE_MODES}, got {mode!r}")


def gates_from_guidance(
    guidance: torch.Tensor, channels: int, num_directions: int = 4, mode: str = "signed"
) -> torch.Tensor:
    """Turn a guidance CNN's output into normalized gates.

    Args:
        guidance: (N, num_directions * 3 * channels, H, W).
        channels: C, the channel count of the propagated tensor.
        num_directions: D.
        mode: see :func:`normalize_gates`.
    Returns:
        (N, D, 3, C, H, W) gates.
    """
    n, k, height, width = guidance.shape
    if k != num_directions * 3 * channels:
        raise ValueError(
            f"guidance has {k} channels; expected directions*3*channels = "
            f"{num_directions}*3*{channels} = {num_directions * 3 * channels}"
        )
    raw = guidance.reshape(n, num_directions, 3, channels, height, width)
    return normalize_gates(raw, mode=mode, dim=2)
