"""Zero a network's subnormal weights before inference.

Weight decay leaves some trained weights below the smallest normal float (|w| < 1.2e-38 in float32 and bfloat16).
x86 CPUs compute with such subnormal numbers in microcode, tens of times slower, and the products they spread through
the activations slow every later layer too: the pretrained ESPNet-CamVid holds 10,610 of them and ran 4× slower
until they were zeroed (``scripts/subnormal_speed.py``: 158 → 39 ms per 480×360 image on this CPU). A subnormal weight
changes an output by less than 1e-37, so zeroing it leaves the results as they were (bit-identical logits on 20 CamVid
frames, the same val mIoU); ``torch.set_flush_denormal(True)`` did not help (measured: it sets the calling thread's
flags only).
"""

from __future__ import annotations

import torch
from torch import nn


def is_subnormal(tensor: torch.Tensor) -> torch.Tensor:
    """Bool mask of ``tensor``'s subnormal values, float32, bfloat16 and float64 only (all False otherwise: float16 is
    widened before any CPU computes with it, and its subnormals reach 6e-5)."""
    if tensor.dtype not in (torch.float32, torch.bfloat16, torch.float64):
        return torch.zeros_like(tensor, dtype=torch.bool)
    return (tensor != 0) & (tensor.abs() < torch.finfo(tensor.dtype).tiny)


def zero_subnormal_weights(model: nn.Module) -> int:
    """Set ``model``'s subnormal parameters and buffers (``is_subnormal``) to 0, in place; returns how many."""
    zeroed = 0
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            subnormal = is_subnormal(tensor)
            count = int(subnormal.sum())
            if count:
                tensor[subnormal] = 0
                zeroed += count
    return zeroed
