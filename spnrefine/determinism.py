"""Make a backbone's CPU results independent of the number of torch threads.

PyTorch runs a 1×1, stride-1, undilated convolution with its own kernel when it has one thread and
with oneDNN when it has more; the two round differently, so a worker with one thread would write
other probabilities than a process with two. A 1×1 kernel has no taps to spread, so dilation does
not change what it computes: marking such convolutions as dilated sends them to oneDNN on any
thread count, which is what the multi-threaded default already ran (results are bit-identical to it).
"""

from __future__ import annotations

from torch import nn


def pin_pointwise_convolutions(model: nn.Module) -> int:
    """Route every 1×1 stride-1 ``nn.Conv2d`` of ``model`` to oneDNN on CPU; returns how many."""
    changed = 0
    for module in model.modules():
        if (isinstance(module, nn.Conv2d) and module.kernel_size == (1, 1) and module.stride == (1, 1)
                and module.dilation == (1, 1) and module.padding in ((0, 0), "valid")):
            module.dilation = (2, 2)
            changed += 1
    return changed
