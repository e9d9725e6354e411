"""The thin-object guard: which pixels it keeps, against a per-pixel reference, and the refiner with it."""

import numpy as np
import pytest
import torch

from spnrefine.refiner import Refiner
from spnrefine.refiner.channels import ProbabilityChannels
from spnrefine.refiner.thin_guard import THIN_CONFIDENCE, coarse_winners, keep_thin, relabelled, thin_overrules


def _disk(radius):
    """Offsets of the digital disk cv2.getStructuringElement(MORPH_ELLIPSE, (2r + 1, 2r + 1)) holds."""
    import cv2

    shape = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return [(dy - radius, dx - radius) for dy, dx in zip(*np.nonzero(shape))]


def _thin_reference(labels, radius):
    """Per pixel, by definition: no pixel q of the same label within the (2r + 1)² window whose disk lies inside the
    label's region (pixels outside the image count as inside: the image edge does not thin a region)."""
    height, width = labels.shape
    disk = _disk(radius)

    def core(y, x):
        return all(not (0 <= y + dy < height and 0 <= x + dx < width) or labels[y + dy, x + dx] == labels[y, x]
                   for dy, dx in disk)

    cores = np.array([[core(y, x) for x in range(width)] for y in range(height)])
    thin = np.ones(labels.shape, bool)
    for y in range(height):
        for x in range(width):
            window = (slice(max(0, y - radius), y + radius + 1), slice(max(0, x - radius), x + radius + 1))
            thin[y, x] = not (cores[window] & (labels[window] == labels[y, x])).any()
    return thin


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_overruled_pixels_are_the_thin_sure_pixels_the_refiner_relabelled(seed):
    rng = np.random.default_rng(seed)
    labels = np.zeros((40, 50), np.int64)  # blobs and lines of three classes on a background
    for _ in range(12):
        y, x = rng.integers(0, 40), rng.integers(0, 50)
        h, w = rng.integers(1, 14, size=2)
        labels[y:y + h, x:x + w] = rng.integers(1, 4)
    sure = rng.random(labels.shape) < 0.8
    refined = np.where(rng.random(labels.shape) < 0.5, (labels + 1) % 4, labels)
    expected = _thin_reference(labels, 3) & sure & (refined != labels)
    np.testing.assert_array_equal(thin_overrules(labels, relabelled(labels, sure, winners=refined), radius=3), expected)
    assert expected.any() and (sure & (refined != labels) & ~expected).any()  # both kinds occur


def test_a_pole_is_kept_and_a_wide_region_is_not():
    labels = np.zeros((60, 60), np.int64)
    labels[:, 20:23] = 1  # a pole 3 px wide
    labels[:, 40:] = 2  # a wide region
    refined = np.zeros_like(labels)  # the refiner erased both
    overruled = thin_overrules(labels, refined != labels)
    assert overruled[:, 20:23].all()
    assert not overruled[:, 40:].any() and not overruled[:, :20].any()


def test_unsure_pixels_are_not_kept():
    probs = np.full((2, 30, 30), 0.5, np.float32)
    probs[1, :, 10:12] = 0.9  # a sure line
    probs[0, :, 10:12] = 0.1
    probs[1, :, 20:22] = 0.7  # a line the map is not sure of
    probs[0, :, 20:22] = 0.3
    probs[0, :, :10] = 0.95
    probs[1, :, :10] = 0.05
    index, sure = coarse_winners(ProbabilityChannels(probs, threshold=0), rows=7)  # bands of 7 rows
    np.testing.assert_array_equal(index, probs.argmax(0))
    np.testing.assert_array_equal(sure, probs.max(0) >= THIN_CONFIDENCE)
    overruled = thin_overrules(index, relabelled(index, sure, winners=np.zeros_like(index)))
    assert overruled[:, 10:12].all() and not overruled[:, 20:22].any()


def test_keeping_swaps_the_two_probabilities():
    rng = np.random.default_rng(0)
    refined = rng.dirichlet(np.ones(4), size=(8, 9)).transpose(2, 0, 1).astype(np.float32)
    index = refined.argmax(0)
    coarse_index = (index + 1) % 4
    sure = rng.random(index.shape) < 0.7
    lost = relabelled(coarse_index, sure, refined)
    np.testing.assert_array_equal(lost, relabelled(coarse_index, sure, winners=index))  # both readings agree
    overruled = lost & (rng.random(index.shape) < 0.5)
    before = refined.copy()
    keep_thin(refined, index, coarse_index, overruled)
    np.testing.assert_allclose(refined.sum(0), before.sum(0), rtol=1e-6)
    np.testing.assert_array_equal(refined.argmax(0), np.where(overruled, coarse_index, before.argmax(0)))
    np.testing.assert_array_equal(index, refined.argmax(0))
    np.testing.assert_array_equal(np.sort(refined, 0), np.sort(before, 0))  # the same values, two of them swapped


def _street(seed=0):
    """A 64×80 image with a dark pole on a bright wall and a coarse map that draws the pole surely."""
    rng = np.random.default_rng(seed)
    image = np.full((64, 80, 3), 200, np.uint8)
    image[:, 30:33] = 40
    image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    probs = np.full((3, 64, 80), 0.02, np.float32)
    probs[0] = 0.96
    probs[0, :, 29:34], probs[1, :, 29:34] = 0.06, 0.92  # drawn 5 px wide, sure
    probs[0, :, 60:], probs[2, :, 60:] = 0.55, 0.43  # an unsure region
    return image, probs


@pytest.mark.parametrize("name", ["agnostic", "camvid"])
def test_the_refiner_keeps_sure_thin_regions_and_changes_nothing_else(name):
    image, probs = _street()
    if name == "camvid":  # 12 channels: the same map on three of them
        probs = np.concatenate([probs, np.full((9, 64, 80), 1e-4, np.float32)])
        probs /= probs.sum(0)
    guarded = Refiner.load(name, precision="float32").refine(image, probs)
    plain = Refiner.load(name, precision="float32", thin_guard=False).refine(image, probs)
    coarse = probs.argmax(0)
    index, sure = coarse_winners(ProbabilityChannels(probs, threshold=0))
    overruled = thin_overrules(index, relabelled(index, sure, winners=plain.argmax(0)))
    np.testing.assert_array_equal(guarded.argmax(0), np.where(overruled, coarse, plain.argmax(0)))
    np.testing.assert_array_equal(guarded[:, ~overruled], plain[:, ~overruled])
    assert (guarded.argmax(0)[:, 29:34] == 1).all()  # the pole survives
    refiner = Refiner.load(name, precision="float32")
    tiled, labels = refiner.refine_channels(image, refiner.fitting(ProbabilityChannels(probs)), tile=32, margin=8,
                                            steering_span=48)  # in windows: judged on the whole map all the same
    np.testing.assert_array_equal(labels, guarded.argmax(0))


def test_a_line_without_image_support_is_kept_in_probability_maps_only():
    rng = np.random.default_rng(0)
    image = np.clip(200 + rng.normal(0, 8, (64, 80, 3)), 0, 255).astype(np.uint8)  # a plain wall
    probs = np.full((3, 64, 80), 0.02, np.float32)
    probs[0] = 0.96
    probs[0, :, 30:32], probs[1, :, 30:32] = 0.08, 0.90  # a sure line 2 px wide the image does not show
    kept = {}
    for guard in (False, True):
        refiner = Refiner.load("agnostic", precision="float32", thin_guard=guard)
        for hard in (False, True):  # hard: made from a label mask, which carries no certainty to judge by
            _, labels = refiner.refine_channels(image, ProbabilityChannels(probs, threshold=0, hard=hard))
            kept[guard, hard] = (labels[:, 30:32] == 1).mean()
    assert kept[False, False] < 0.9 and kept[True, False] == 1.0  # the refiner erases some of it, the guard none
    assert kept[True, True] == kept[False, True]


def test_a_batch_is_guarded_as_its_images_are():
    """The batched path (GPUs) guards each image after one forward pass, as ``refine`` does one image."""
    image, probs = _street()
    other = np.ascontiguousarray(image[::-1])
    batch = torch.from_numpy(np.stack([probs, np.ascontiguousarray(probs[:, ::-1])]))
    refiner = Refiner.load("agnostic", precision="float32")
    with torch.inference_mode():  # as refine_batch runs it
        plain = refiner._forward(np.stack([image, other]), batch, None)
        kept = refiner._kept_thin(batch, plain)
    for i, picture in enumerate((image, other)):
        expected = refiner.refine(picture, batch[i].numpy(), threshold=0)
        np.testing.assert_array_equal(kept[i].numpy().argmax(0), expected.argmax(0))
        np.testing.assert_allclose(kept[i].numpy(), expected, atol=1e-5)
    assert (kept.numpy().argmax(1) != plain.numpy().argmax(1)).any()  # the guard overruled something
