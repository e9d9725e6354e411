"""Upsampled hard masks (certain interiors) are recognised and sharpened; network outputs are left alone."""

import numpy as np
import pytest
from helpers import CAMVID, ESPNET_WEIGHTS, camvid_names, needs_shared

from spnrefine.evaluation.comparison import lowres_coarse
from spnrefine.io.coarse import to_two_channels
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.refiner import Refiner
from spnrefine.refiner.channels import ProbabilityChannels
from spnrefine.refiner.softness import (
    MAX_PIECES,
    POWER,
    lowres_power,
    ramp_pieces,
    saturated_share,
    sharpened,
    unblocked,
)


def _ramp(width: int, size: int = 64) -> np.ndarray:
    """(2, size, size): class 1 rises linearly from 0 to 1 over ``width`` columns in the middle (vertical edge)."""
    columns = np.clip((np.arange(size) + 0.5 - size / 2 + width / 2) / width, 0, 1).astype(np.float32)
    foreground = np.broadcast_to(columns, (size, size))
    return np.stack([1 - foreground, foreground])


@pytest.mark.parametrize("width", [1, 4, 16])
def test_only_saturated_maps_are_upsampled_hard_masks(width):
    """The same ramp: with certain pixels away from it, an upsampled hard mask; uncertain everywhere (as a
    network's output on an image it finds hard), left as it is."""
    hard = _ramp(width)
    assert saturated_share(hard) > 0.5 and lowres_power(hard) == POWER
    unsure = 0.9 * hard + 0.05
    assert saturated_share(unsure) == 0 and lowres_power(unsure) == 1


def _disc(size: int, factor: int, transition: float | None = None) -> np.ndarray:
    """(2, size, size) foreground probability of a disc computed at 1/``factor`` resolution and upsampled
    bilinearly: the hard mask area-downsampled (``transition`` None), or a confident network's logistic of the
    signed distance, ``transition`` low-resolution pixels per unit of logit."""
    import cv2

    small = size // factor
    yy, xx = np.mgrid[:small, :small] + 0.5
    distance = small * 0.3 - np.hypot(yy - small * 0.55, xx - small * 0.45)
    if transition is None:
        full = np.mgrid[:size, :size] + 0.5
        disc = (np.hypot(full[0] - size * 0.55, full[1] - size * 0.45) < size * 0.3).astype(np.float32)
        low = cv2.resize(disc, (small, small), interpolation=cv2.INTER_AREA)
    else:
        low = (1 / (1 + np.exp(-distance / transition))).astype(np.float32)
    return to_two_channels(cv2.resize(low, (size, size), interpolation=cv2.INTER_LINEAR))


@pytest.mark.parametrize("factor", [2, 4, 8, 16])
@pytest.mark.parametrize("eight_bit", [False, True])
def test_an_upsampled_hard_mask_ramps_in_few_pieces(factor, eight_bit):
    """A hard mask at 1/factor resolution, upsampled bilinearly (stored as floats or as an 8-bit matte)."""
    probs = _disc(512, factor)
    if eight_bit:
        probs = np.round(probs * 255) / 255
    assert ramp_pieces(probs) <= MAX_PIECES and lowres_power(probs) == POWER


@pytest.mark.parametrize("factor, eight_bit", [(1, False), (2, False), (4, False), (1, True), (2, True)])
def test_a_confident_network_map_is_left_as_it_is(factor, eight_bit):
    """A network's map can be as certain away from its boundaries as an upsampled mask (MediaPipe's person
    maps: ~90% of pixels ≥ 0.999) but its transition spans many low-resolution pixels: not sharpened. (Stored
    in 8 bits and upsampled ×4, rounding hides its bends: the model card's limitation.)"""
    probs = _disc(512, factor, transition=1.5)
    if eight_bit:
        probs = np.round(probs * 255) / 255
    assert saturated_share(probs) >= 0.2
    assert ramp_pieces(probs) > MAX_PIECES and lowres_power(probs) == 1


@pytest.mark.parametrize("size", [(360, 480), (333, 500)])
def test_a_map_upsampled_by_nearest_neighbour_is_interpolated_as_if_bilinearly(size):
    """Blocks of constant probabilities (F.interpolate's default mode; 500 / 62 px is not a whole number): the
    low-resolution map is read at the block centres and upsampled bilinearly, exactly; then sharpened."""
    import cv2

    height, width = size
    rows, columns = np.mgrid[:height, :width] + 0.5
    disc = (np.hypot(rows - 150, columns - 230) < 100).astype(np.float32)
    small = cv2.resize(disc, (width // 8, height // 8), interpolation=cv2.INTER_AREA)
    bilinear = to_two_channels(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))
    blocky = to_two_channels(cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST))
    np.testing.assert_allclose(unblocked(blocky), bilinear, atol=1e-6)
    assert lowres_power(unblocked(blocky)) == POWER
    assert unblocked(bilinear) is None and unblocked(_disc(512, 2, transition=1.5)) is None


def test_a_blocky_map_is_refined_as_its_bilinear_version():
    import cv2

    rng = np.random.default_rng(0)
    image = cv2.resize(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8), (160, 120), interpolation=cv2.INTER_CUBIC)
    small = rng.dirichlet(np.ones(3), (15, 20)).transpose(2, 0, 1).astype(np.float32)
    blocky = np.stack([cv2.resize(p, (160, 120), interpolation=cv2.INTER_NEAREST) for p in small])
    bilinear = np.stack([cv2.resize(p, (160, 120), interpolation=cv2.INTER_LINEAR) for p in small])
    refiner = Refiner.load("agnostic")
    np.testing.assert_allclose(refiner.refine(image, blocky), refiner.refine(image, bilinear), atol=1e-5)
    as_given = Refiner.load("agnostic", sharpen_lowres=False).refine(image, blocky)
    assert np.abs(as_given - refiner.refine(image, blocky)).max() > 0.05


@pytest.mark.parametrize("width", [4, 16, 30])
def test_sharpening_keeps_the_labels_and_makes_the_ramp_a_step(width):
    probs = _ramp(width)
    sharp = sharpened(probs, POWER)
    np.testing.assert_allclose(sharp.sum(0), 1, atol=1e-6)
    assert (sharp.argmax(0) == probs.argmax(0)).all()
    between = (sharp[1] > 0.02) & (sharp[1] < 0.98)  # pixels still in the ramp
    assert between.any(axis=0).sum() <= 2, np.flatnonzero(between.any(axis=0))
    np.testing.assert_allclose(sharpened(probs, 1.0), probs, atol=1e-6)


def test_a_shared_channel_is_sharpened_as_the_classes_it_stands_for():
    """Compact (k, H, W) with a channel standing for 3 equal classes = the full map sharpened, then compacted."""
    rng = np.random.default_rng(0)
    active = rng.dirichlet(np.ones(3), (5, 6)).transpose(2, 0, 1).astype(np.float32) * 0.97
    rest = np.full((3, 5, 6), 0.01, np.float32)
    full = np.concatenate([active, rest])
    compact = np.concatenate([active, rest[:1]])
    np.testing.assert_allclose(sharpened(compact, 5.0, np.array([1, 1, 1, 3]))[:3], sharpened(full, 5.0)[:3],
                               rtol=1e-5, atol=1e-7)
    coarse = ProbabilityChannels(np.concatenate([active, rest]), threshold=0.02).raised(5.0)
    assert coarse.channels.compact
    np.testing.assert_allclose(coarse.channels.expand(coarse.window(slice(0, 5), slice(0, 6))),
                               sharpened(full, 5.0), rtol=1e-5, atol=1e-7)


@needs_shared
def test_a_low_resolution_mask_is_sharpened_and_a_network_output_is_not():
    """CamVid val frame: its ground truth at ×8 low resolution is sharpened before refinement (the refined
    mask is the one of the sharpened map); ESPNet's own probabilities are refined as given."""
    from spnrefine.backbones import load_backbone, predict_logits

    name = camvid_names("val")[0]
    image, truth = read_image(CAMVID / "images" / name), read_label_png(CAMVID / "masks" / name)
    sharpening = Refiner.load("agnostic", thin_guard=False)  # the guard reads the map as given: off here
    plain = Refiner.load("agnostic", sharpen_lowres=False, thin_guard=False)

    lowres = lowres_coarse(truth.astype(np.int64), 12, 8)
    assert lowres_power(lowres) == POWER
    refined = sharpening.refine(image, lowres)
    np.testing.assert_allclose(refined, plain.refine(image, sharpened(lowres, lowres_power(lowres))), atol=1e-5)
    assert np.abs(refined - plain.refine(image, lowres)).max() > 0.1

    logits = predict_logits(load_backbone("espnet-camvid", ESPNET_WEIGHTS), [image])[0]
    probs = logits.softmax(0).numpy()
    assert lowres_power(probs) == 1
    np.testing.assert_array_equal(sharpening.refine(image, probs), plain.refine(image, probs))
