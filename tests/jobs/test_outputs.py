"""The fast paths of writing outputs against the plain operations they replace."""

import numpy as np
import torch

from spnrefine.jobs.outputs import to_float16
from spnrefine.labels import class_labels
from spnrefine.refiner import Refiner


def test_class_labels_is_argmax_including_ties():
    generator = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 4, (3, 7, 20, 30), generator=generator).float()  # many exact ties
    labels = class_labels(scores)
    assert labels.dtype == torch.uint8
    assert torch.equal(labels.long(), scores.argmax(dim=1))  # the first maximum wins, as in argmax
    wide = torch.rand(1, 300, 4, 5, generator=generator)
    assert torch.equal(class_labels(wide).long(), wide.argmax(dim=1)) and class_labels(wide).dtype == torch.int32


def test_float16_by_torch_has_numpys_bits():
    values = np.random.default_rng(0).random((12, 36, 48), dtype=np.float32)
    values[0, 0, :4] = [1e-8, 65519.0, 70000.0, 0.5 + 2**-12]  # subnormal, rounding, overflow, tie
    assert np.array_equal(to_float16(values).view(np.uint16), values.astype(np.float16).view(np.uint16))


def test_refining_one_image_at_a_time_matches_one_batched_pass():
    refiner = Refiner.load("agnostic")
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 56, 3), dtype=np.uint8) for _ in range(3)]
    probabilities = torch.softmax(torch.from_numpy(rng.standard_normal((3, 5, 40, 56), dtype=np.float32)), 1)
    with torch.inference_mode():
        batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(255)
        batched = refiner.model(batch, probabilities, log=False)
    # the same math; convolution kernels may round differently for another batch size (at 480×360 the
    # shipped refiners gave identical bits)
    torch.testing.assert_close(refiner.refine_batch(images, probabilities), batched, atol=1e-6, rtol=1e-5)
