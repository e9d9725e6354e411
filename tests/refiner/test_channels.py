"""Refinement on the channels that matter (refiner.channels) equals the full computation."""

import numpy as np
import pytest
import torch
from helpers import CAMVID, ESPNET_WEIGHTS, camvid_names, needs_shared

from spnrefine.io.coarse import labels_to_probabilities, soften
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.refiner import Refiner
from spnrefine.refiner.channels import ACTIVE_THRESHOLD, Channels, LabelChannels, ProbabilityChannels


@pytest.fixture(scope="module")
def refiner():
    """float32: the compact and the full computation differ by float rounding only, which a bfloat16 guidance
    would round further."""
    return Refiner.load("agnostic", precision="float32")


def _camvid(index=0):
    name = camvid_names("val")[index]
    return read_image(CAMVID / "images" / name), read_label_png(CAMVID / "masks" / name)


def _full(refiner, image, probs):
    refined, labels = refiner.refine_channels(image, ProbabilityChannels(probs, threshold=0))
    return refined, labels


def test_channels_keep_argmax_ties_and_expand_back():
    channels = Channels.of(np.array([1, 4]), 6)
    assert channels.ids.tolist() == [0, 1, 4] and channels.counts.tolist() == [4, 1, 1]
    compact = np.arange(3, dtype=np.float32).reshape(3, 1, 1) * np.ones((3, 2, 2), np.float32)
    assert channels.expand(compact)[:, 0, 0].tolist() == [0, 1, 0, 0, 2, 0]
    assert channels.labels(np.array([[0, 1], [2, 0]])).tolist() == [[0, 1], [4, 0]]
    assert not Channels.of(np.arange(3), 3).compact


@needs_shared
@pytest.mark.parametrize("num_classes, ignore_index", [(150, None), (150, 11), (12, 11)])
def test_label_masks_on_present_classes_equal_the_full_label_space(refiner, num_classes, ignore_index):
    """CamVid ground truth as a label mask of a large label space: exact up to float rounding."""
    image, labels = _camvid()
    labels = labels.astype(np.int64)
    if ignore_index is None:
        labels = np.where(labels == 11, 149, labels)  # void as a class far off the others
    coarse = LabelChannels(labels, num_classes, ignore_index)
    assert len(coarse.channels.ids) <= 13 and coarse.channels.compact == (num_classes > 12)
    full = soften(labels_to_probabilities(labels, num_classes, ignore_index))
    np.testing.assert_allclose(coarse.channels.expand(coarse.window(slice(0, 360), slice(0, 480))), full,
                               atol=1e-5)
    refined, refined_labels = refiner.refine_channels(image, coarse)
    full_refined, full_labels = _full(refiner, image, full)
    np.testing.assert_allclose(coarse.channels.expand(refined), full_refined, atol=1e-5)
    assert (refined_labels == full_labels).all()


@needs_shared
def test_probability_maps_on_channels_with_mass_are_within_the_threshold(refiner):
    """ESPNet's real probabilities spread into a 150-channel map (the other 138 channels hold a softmax's
    leftovers): refined within the threshold of the full computation, labels the same almost everywhere."""
    from spnrefine.backbones import load_backbone, predict_logits

    backbone = load_backbone("espnet-camvid", ESPNET_WEIGHTS)
    image, _ = _camvid(1)
    logits = predict_logits(backbone, [image])[0]
    noise = torch.randn((138, *logits.shape[1:]), generator=torch.Generator().manual_seed(0))
    probs = torch.softmax(torch.cat([logits, logits.min(0).values - 4 + noise]), 0).numpy()
    coarse = ProbabilityChannels(probs)
    assert 2 <= len(coarse.channels.ids) <= 13, coarse.channels.ids
    refined, labels = refiner.refine_channels(image, coarse)
    full_refined, full_labels = _full(refiner, image, probs)
    difference = np.abs(coarse.channels.expand(refined) - full_refined).max()
    assert difference < ACTIVE_THRESHOLD, difference
    assert (labels == full_labels).mean() > 0.999


def test_a_map_with_every_channel_active_is_computed_in_full(refiner):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    probs = rng.dirichlet(np.ones(4), (40, 50)).transpose(2, 0, 1).astype(np.float32)
    coarse = ProbabilityChannels(probs)
    assert not coarse.channels.compact
    with torch.inference_mode():
        direct = refiner.model(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255,
                               torch.from_numpy(probs)[None], log=False)[0].numpy()
    np.testing.assert_array_equal(refiner.refine(image, probs), direct)


def test_a_class_head_gets_every_channel_of_a_compact_label_mask():
    from spnrefine.refiner.network import RefinerConfig, SpnRefiner

    refiner = Refiner(SpnRefiner(RefinerConfig(width=8, classes=6)))
    labels = np.zeros((24, 32), np.int64)
    labels[:, 16:] = 4
    image = np.zeros((24, 32, 3), np.uint8)
    coarse = LabelChannels(labels, 6)
    assert coarse.channels.compact
    fitted = refiner.fitting(coarse)
    assert not fitted.channels.compact
    np.testing.assert_allclose(fitted.probs, coarse.channels.expand(coarse.window(slice(0, 24), slice(0, 32))))
    refined, refined_labels = refiner.refine_channels(image, fitted)
    assert refined.shape == (6, 24, 32) and set(np.unique(refined_labels)) <= set(range(6))
    assert refiner.fitting(ProbabilityChannels(refined)).channels.ids.tolist() == list(range(6))
