"""The guidance in bfloat16 (refiner.precision) against the float32 reference."""

from pathlib import Path

import numpy as np
import pytest
import torch

from spnrefine.errors import SpnrefineError
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.refiner import Refiner
from spnrefine.refiner import precision as precision_module
from spnrefine.refiner.network import RefinerConfig, SpnRefiner

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _astronaut():
    """The example photo and its person mask as (2, H, W) probabilities, blurred like a network's map."""
    import cv2

    image = read_image(EXAMPLES / "images" / "astronaut.jpg")
    person = (read_label_png(EXAMPLES / "masks" / "astronaut.png") > 0).astype(np.float32)
    small = cv2.resize(person, (person.shape[1] // 8, person.shape[0] // 8), interpolation=cv2.INTER_AREA)
    soft = 0.05 + 0.9 * cv2.resize(small, person.shape[::-1], interpolation=cv2.INTER_LINEAR)
    return image, np.stack([1 - soft, soft]).astype(np.float32)


def test_a_bfloat16_guidance_refines_a_photo_as_the_float32_one_does():
    image, coarse = _astronaut()
    reference = Refiner.load("agnostic", precision="float32").refine(image, coarse)
    fast = Refiner.load("agnostic", precision="bfloat16").refine(image, coarse)
    assert fast.dtype == np.float32 and fast.shape == reference.shape
    np.testing.assert_allclose(fast.sum(0), 1, atol=1e-5)
    assert np.abs(fast - reference).mean() < 2e-4, np.abs(fast - reference).mean()  # measured: 2e-5
    assert np.abs(fast - reference).max() < 0.03, np.abs(fast - reference).max()  # measured: 0.006
    assert (fast.argmax(0) == reference.argmax(0)).mean() > 0.999
    assert not np.array_equal(fast, reference)  # it did run in bfloat16


def test_a_bfloat16_guidance_steers_in_float32_and_feeds_a_class_head():
    torch.manual_seed(0)
    model = SpnRefiner(RefinerConfig(classes=3, class_head=True, class_guidance=True, pixel_blend=True)).eval()
    image, coarse = torch.rand(1, 3, 20, 24), torch.softmax(3 * torch.randn(1, 3, 20, 24), 1)
    with torch.no_grad():
        reference = model(image, coarse)
        model.guidance.to(torch.bfloat16)
        steering, decoded = model.steering(image, coarse)
        fast = model(image, coarse)
    assert steering.dtype == decoded.dtype == fast.dtype == torch.float32
    assert (fast - reference).abs().max() < 0.05


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bfloat16_only_where_the_cpu_has_it(monkeypatch, native):
    monkeypatch.setattr(precision_module, "native_bfloat16", lambda: native)
    refiner = Refiner.load("agnostic")  # precision "auto"
    expected = torch.bfloat16 if native else torch.float32
    assert refiner.guidance_dtype == expected
    assert refiner.model.guidance.head[1].weight.dtype == expected
    assert refiner.certain_model.guidance.head[1].weight.dtype == expected


def test_this_machines_cpu_flags_decide_auto():
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    assert precision_module.native_bfloat16() == (
        ("avx512_bf16" in flags or "amx_bf16" in flags) and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def test_an_unknown_precision_and_bfloat16_on_a_gpu_are_refused_clearly():
    with pytest.raises(SpnrefineError, match="precision 'half': expected one of auto, float32, bfloat16"):
        Refiner.load("agnostic", precision="half")
    with pytest.raises(SpnrefineError, match="bfloat16 is for CPUs"):
        precision_module.guidance_dtype("bfloat16", torch.device("cuda"))
    assert precision_module.guidance_dtype("auto", torch.device("cuda")) == torch.float32
