"""Backbones and refiners compute the same bits on one torch thread as on several (what lets a
1-CPU Ray worker write the local engine's files)."""

import pytest
import torch

from spnrefine.backbones.registry import REGISTRY
from spnrefine.determinism import pin_pointwise_convolutions


def _on_threads(counts, run):
    threads = torch.get_num_threads()
    try:
        results = []
        for count in counts:
            torch.set_num_threads(count)
            with torch.inference_mode():
                results.append(run())
        return results
    finally:
        torch.set_num_threads(threads)


def test_pinned_pointwise_convolution_is_unchanged_and_thread_independent():
    conv = torch.nn.Sequential(torch.nn.Conv2d(24, 12, 1, bias=False), torch.nn.Conv2d(12, 12, 3))
    x = torch.randn(2, 24, 45, 60, generator=torch.Generator().manual_seed(0))
    (before,) = _on_threads([2], lambda: conv(x))
    assert pin_pointwise_convolutions(conv) == 1  # the 3×3 is left alone
    after_two, after_one = _on_threads([2, 1], lambda: conv(x))
    assert torch.equal(before, after_two) and torch.equal(after_two, after_one)




@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_backbone_computes_on_one_thread_what_it_does_on_two(name):
    """Not on any count: DeepLabV3-ResNet's BatchNorm and 24/36-dilated convolutions differ on 3 threads."""
    spec = REGISTRY[name]
    torch.manual_seed(0)  # random weights: the architecture decides which kernels run
    model = spec.build().eval()
    pin_pointwise_convolutions(model)
    x = torch.randn(2, 3, 96, 128, generator=torch.Generator().manual_seed(0))

    def run():
        out = model(x)
        return out[spec.output_key] if spec.output_key else out

    one, two = _on_threads([1, 2], run)  # a 1-CPU Ray worker vs this 2-core machine's local engine
    assert torch.equal(one, two)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_the_shipped_refiners_compute_on_one_thread_what_they_do_on_two_and_three(precision):
    from spnrefine.refiner import Refiner

    generator = torch.Generator().manual_seed(0)
    image = (torch.rand(96, 128, 3, generator=generator) * 255).to(torch.uint8).numpy()
    coarse = torch.softmax(3 * torch.randn(12, 96, 128, generator=generator), 0).numpy()
    for name in ("agnostic", "camvid"):
        refiner = Refiner.load(name, precision=precision)
        one, two, three = _on_threads([1, 2, 3], lambda: refiner.refine(image, coarse))
        assert (one == two).all() and (two == three).all(), name
