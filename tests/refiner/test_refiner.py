"""The refinement network and its checkpoints."""

import math
import pickle

import cv2
import numpy as np
import pytest
import torch

from spnrefine.errors import SpnrefineError
from spnrefine.io.checkpoints import sha256_of
from spnrefine.refiner import Refiner
from spnrefine.refiner.channels import LabelChannels, ProbabilityChannels
from spnrefine.refiner.network import (
    PROMOTE_OFFSET,
    RefinerConfig,
    SpnRefiner,
    fold_batchnorm,
    log_scaled,
    mask_features,
    neighbour_offsets,
    sharpened,
)
from spnrefine.refiner.softness import is_certain, lowres_power
from spnrefine.refiner.weights import (
    SHIPPED,
    checkpoint_for_labels,
    checkpoint_payload,
    paired_payload,
    shipped_checkpoint,
)
from spnrefine.training.loop import widened


def _inputs(k, seed=0, size=(2, 24, 30)):
    generator = torch.Generator().manual_seed(seed)
    n, h, w = size
    image = torch.rand((n, 3, h, w), generator=generator)
    coarse = torch.softmax(3 * torch.randn((n, k, h, w), generator=generator), 1)
    return image, coarse


@pytest.mark.parametrize("k", [1, 2, 12, 21])
def test_class_agnostic_refiner_takes_any_number_of_classes(k):
    model = SpnRefiner().eval()
    image, coarse = _inputs(k)
    with torch.no_grad():
        log_probs = model(image, coarse)
    assert log_probs.shape == coarse.shape
    torch.testing.assert_close(log_probs.exp().sum(1), torch.ones(2, 24, 30), atol=1e-4, rtol=0)
    with torch.no_grad():  # inference skips the log: the same probabilities (up to the log's epsilon)
        torch.testing.assert_close(model(image, coarse, log=False), log_probs.exp(), atol=2e-6, rtol=1e-5)


def test_class_order_does_not_matter_to_the_agnostic_refiner():
    model = SpnRefiner().eval()
    image, coarse = _inputs(5)
    order = torch.tensor([3, 0, 4, 1, 2])
    with torch.no_grad():
        torch.testing.assert_close(model(image, coarse)[:, order], model(image, coarse[:, order]), atol=1e-5, rtol=0)


def test_class_head_checks_the_class_count():
    model = SpnRefiner(RefinerConfig(classes=4)).eval()
    with pytest.raises(ValueError, match="made for 4 classes; got 3 channels"):
        model(*_inputs(3))


def test_mask_features():
    probs = torch.tensor([[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]]).view(1, 3, 1, 2)
    features = mask_features(probs)
    torch.testing.assert_close(features[0, :2, 0], torch.tensor([[0.7, 0.5], [0.2, 0.3]]))
    assert features[0, 3, 0].tolist() == [0.0, 1.0]  # label edge between the two pixels
    entropy = [-(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1)) / math.log(3),
               -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2)) / math.log(3)]
    torch.testing.assert_close(features[0, 2, 0], torch.tensor(entropy))
    certain = mask_features(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))  # p·log p is 0 at p = 0, not NaN
    assert certain[0, 2].item() == 0.0


def test_log_scaled_class_guidance_spreads_small_probabilities():
    probs = torch.tensor([1.0, 0.5, 0.037, 1e-4, 1e-6, 0.0])
    torch.testing.assert_close(log_scaled(probs), torch.tensor([1.0, 0.9247, 0.6421, 0.0, 0.0, 0.0]), atol=1e-4, rtol=0)
    config = RefinerConfig(classes=3, class_head=False, class_guidance=True, pixel_blend=True)
    image, coarse = _inputs(3, size=(1, 8, 10))
    plain = SpnRefiner(config).guidance_input(image, coarse)
    logged = SpnRefiner(RefinerConfig(**{**config.__dict__, "log_class_guidance": True})).guidance_input(image, coarse)
    torch.testing.assert_close(plain[:, :-3], logged[:, :-3])  # image and mask features as before
    torch.testing.assert_close(plain[:, -3:], coarse.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(logged[:, -3:], log_scaled(coarse).contiguous(memory_format=torch.channels_last))


def test_sharpening_raises_probabilities_to_a_power_per_pixel():
    probs = torch.tensor([[0.6, 0.5], [0.3, 0.5], [0.1, 0.0]]).view(1, 3, 1, 2)
    log_power = torch.log(torch.tensor([2.0, 3.0])).view(1, 1, 1, 2)
    expected = torch.tensor([[0.36 / 0.46, 0.5], [0.09 / 0.46, 0.5], [0.01 / 0.46, 0.0]]).view(1, 3, 1, 2)
    torch.testing.assert_close(sharpened(probs, log_power), expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(sharpened(probs, torch.zeros(1, 1, 1, 2)), probs, atol=1e-5, rtol=0)


def test_sharpening_a_compact_map_is_sharpening_its_full_label_space():
    """A channel that stands for n classes holds n classes of p / n each (refiner.channels)."""
    _, compact = _inputs(4, size=(1, 5, 6))
    counts = torch.tensor([1, 3, 1, 2])
    full = torch.cat([compact[:, :1], compact[:, 1:2].expand(-1, 3, -1, -1) / 3, compact[:, 2:3],
                      compact[:, 3:].expand(-1, 2, -1, -1) / 2], 1)
    log_power = torch.randn(1, 1, 5, 6, generator=torch.Generator().manual_seed(2))
    sharp = sharpened(full, log_power)
    summed = torch.stack([sharp[:, 0], sharp[:, 1:4].sum(1), sharp[:, 4], sharp[:, 5:].sum(1)], 1)
    torch.testing.assert_close(sharpened(compact, log_power, counts), summed, atol=5e-4, rtol=0)  # log's epsilon


def test_a_sharpening_refiner_starts_at_power_one_and_learns_the_power():
    """The log-power channel starts at zero weight (power 1) and gets gradients."""
    torch.manual_seed(0)
    model = SpnRefiner(RefinerConfig(width=8, sharpen=True))
    image, coarse = _inputs(3)
    model(image, coarse).mean().backward()
    last = model.guidance.head[1]
    assert float(last.weight.detach()[-1].abs().max()) == 0.0 and float(last.weight.grad[-1].abs().max()) > 0


def test_promoting_the_second_class_raises_exactly_it_by_the_predicted_boost():
    """promote_second adds softplus(raw + offset) to the log-probability of each pixel's second coarse class."""
    model = SpnRefiner(RefinerConfig(width=8, promote_second=True, pixel_blend=True))
    probs = torch.tensor([0.6, 0.3, 0.1]).view(1, 3, 1, 1).repeat(1, 1, 1, 2)
    coarse = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]).T.reshape(1, 3, 1, 2)  # second class: 1, then 1
    coarse[0, :, 0, 1] = torch.tensor([0.5, 0.1, 0.4])  # second class of pixel 2: 2
    steering = torch.zeros(1, model.steering_channels, 1, 2)
    steering[:, model.gate_channels + 1] = torch.tensor([10.0, 10.0])  # boost softplus(6) ≈ 6.0
    out = model.promoted(probs, coarse, steering)
    boost = torch.nn.functional.softplus(torch.tensor(10.0 + PROMOTE_OFFSET))
    logits = torch.log(probs + 1e-6)
    expected = torch.softmax(logits + torch.stack([torch.tensor([0.0, 1, 0]), torch.tensor([0.0, 0, 1])], 1)
                             .view(1, 3, 1, 2) * boost, 1)
    torch.testing.assert_close(out, expected)
    assert out[0, :, 0, 0].argmax() == 1 and out[0, :, 0, 1].argmax() == 2


def test_a_promoting_refiner_starts_near_the_model_without_it():
    """A new promote channel (zero weights, as ``train --init`` widens it) changes the output by the offset's
    small boost only, and gets gradients."""
    torch.manual_seed(0)
    plain = SpnRefiner(RefinerConfig(width=8))
    model = SpnRefiner(RefinerConfig(width=8, promote_second=True))
    model.load_state_dict(widened(plain.state_dict(), model.state_dict()), strict=False)
    image, coarse = _inputs(3)
    with torch.no_grad():
        difference = (model(image, coarse, log=False) - plain(image, coarse, log=False)).abs().max()
    assert 0 < float(difference) < 0.01
    model(image, coarse).mean().backward()
    assert float(model.guidance.head[1].weight.grad[-1].abs().max()) > 0


@pytest.mark.parametrize("reach", [1, 2])
def test_a_neighbour_pick_with_one_dominant_logit_copies_that_neighbour(reach):
    """neighbour_pick mixes the refined map in a pixel's window; a large logit on one neighbour copies it (the
    nearest pixel's value where that neighbour lies outside the image), and the mix is differentiable."""
    model = SpnRefiner(RefinerConfig(width=8, pixel_blend=True, neighbour_pick=reach, sharpen=True))
    assert model.steering_channels == model.gate_channels + 1 + (2 * reach + 1) ** 2 + 1
    probs = torch.softmax(torch.randn(1, 3, 5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)), 1)
    start = model.gate_channels + 1  # after the gates and the blend logit
    steering = torch.full((1, model.steering_channels, 5, 6), -50.0, dtype=torch.float64)
    steering[:, start + neighbour_offsets(reach).index((1, -reach))] = 50.0  # below, ``reach`` to the left
    out = model.picked(probs, steering)
    torch.testing.assert_close(out[:, :, :-1, reach:], probs[:, :, 1:, :-reach])
    torch.testing.assert_close(out[:, :, -1, reach:], probs[:, :, -1, :-reach])  # below the last row: the last row
    torch.testing.assert_close(out[:, :, :-1, :reach], probs[:, :, 1:, :1].expand(-1, -1, -1, reach))  # left edge
    steering = torch.randn(1, model.steering_channels, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(model.picked, (probs.clone().requires_grad_(), steering))


def test_a_picking_refiner_starts_near_the_model_without_it():
    """New pick channels (zero weights, as ``train --init`` widens them) leave ~0.87 of each pixel on itself: the
    output stays a distribution near the old model's, and the channels get gradients."""
    torch.manual_seed(0)
    plain = SpnRefiner(RefinerConfig(width=8, pixel_blend=True))
    model = SpnRefiner(RefinerConfig(width=8, pixel_blend=True, neighbour_pick=1))
    model.load_state_dict(widened(plain.state_dict(), model.state_dict()), strict=False)
    image, coarse = _inputs(3)
    with torch.no_grad():
        out = model(image, coarse, log=False)
        difference = (out - plain(image, coarse, log=False)).abs().max()
    torch.testing.assert_close(out.sum(1), torch.ones_like(out[:, 0]))
    assert 0 < float(difference) < 0.2
    model(image, coarse).mean().backward()
    assert float(model.guidance.head[1].weight.grad[model.gate_channels + 1:].abs().max()) > 0


def test_batchnorm_folding_keeps_the_outputs():
    torch.manual_seed(0)
    model = SpnRefiner(RefinerConfig(classes=3))
    image, coarse = _inputs(3)
    model.train()
    for _ in range(3):  # give the BatchNorms non-trivial statistics
        model(image, coarse)
    model.eval()
    with torch.no_grad():
        expected = model(image, coarse)
        torch.testing.assert_close(fold_batchnorm(model)(image, coarse), expected, atol=1e-4, rtol=1e-4)


def test_checkpoint_round_trip(tmp_path):
    model = SpnRefiner(RefinerConfig(width=8, classes=3)).eval()
    torch.save(checkpoint_payload(model), tmp_path / "r.pt")
    refiner = Refiner.load(tmp_path / "r.pt")
    image, coarse = _inputs(3, size=(1, 16, 20))
    rgb = (image[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    refined = refiner.refine(rgb, coarse[0].numpy())
    assert refined.shape == (3, 16, 20) and np.allclose(refined.sum(0), 1, atol=1e-4)


def _lowres_disc(size: int = 64, factor: int = 8) -> np.ndarray:
    """(2, size, size): a disc's hard mask area-downsampled ×``factor`` and upsampled bilinearly."""
    import cv2

    yy, xx = np.mgrid[:size, :size] + 0.5
    disc = (np.hypot(yy - size * 0.55, xx - size * 0.45) < size * 0.3).astype(np.float32)
    small = cv2.resize(disc, (size // factor, size // factor), interpolation=cv2.INTER_AREA)
    foreground = cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    return np.stack([1 - foreground, foreground])


def test_a_paired_checkpoint_refines_certain_masks_with_its_second_weights(tmp_path):
    """Uncertain probability maps get the first weights; label masks (blocky or not) and certain probability maps
    (upsampled hard masks, sharpened or not; a confident segmenter's) the second."""
    torch.manual_seed(1)
    network, hard = SpnRefiner(RefinerConfig(width=8)).eval(), SpnRefiner(RefinerConfig(width=8)).eval()
    torch.save(paired_payload(checkpoint_payload(network), checkpoint_payload(hard)), tmp_path / "pair.pt")
    pair, as_given = Refiner.load(tmp_path / "pair.pt"), Refiner.load(tmp_path / "pair.pt", sharpen_lowres=False)
    first, second = Refiner(network), Refiner(hard)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    network_map = torch.softmax(torch.randn(2, 96, 96), 0).numpy()
    upsampled = _lowres_disc(96)
    yy, xx = np.mgrid[:96, :96] + 0.5
    foreground = 1 / (1 + np.exp(-(30 - np.hypot(yy - 50, xx - 45)) / 2))  # a confident segmenter's logistic edge
    confident = np.stack([1 - foreground, foreground]).astype(np.float32)  # certain interiors; not sharpened
    assert is_certain(confident) and lowres_power(confident) == 1 and not is_certain(network_map)
    labels = upsampled.argmax(0)
    blocky = np.kron(rng.integers(0, 2, (12, 12)), np.ones((8, 8), np.int64))
    assert LabelChannels(blocky, 2, None).block == 8 and LabelChannels(labels, 2, None).block == 1
    cases = [(pair.refine(image, network_map), first.refine(image, network_map)),
             (pair.refine(image, upsampled), second.refine(image, upsampled)),
             (as_given.refine(image, upsampled), Refiner(hard, sharpen_lowres=False).refine(image, upsampled)),
             (pair.refine(image, confident), second.refine(image, confident)),
             (pair.refine_labels(image, labels, 2), second.refine_labels(image, labels, 2)),
             (pair.refine_labels(image, blocky, 2), second.refine_labels(image, blocky, 2))]
    for case, (refined, expected) in enumerate(cases):
        np.testing.assert_array_equal(refined, expected, err_msg=f"case {case}")
    assert np.abs(first.refine(image, network_map) - second.refine(image, network_map)).max() > 1e-3
    # a refiner tied to a label set takes a label mask of some of its classes as probabilities on all: still hard
    network, hard = (SpnRefiner(RefinerConfig(width=8, classes=6, class_head=False, class_guidance=True)).eval()
                     for _ in range(2))
    tied = Refiner(network, certain_model=hard)
    np.testing.assert_array_equal(tied.refine_labels(image, labels, 6), Refiner(hard).refine_labels(image, labels, 6))


def test_pairing_with_a_paired_checkpoint_takes_its_certain_weights():
    torch.manual_seed(2)
    first, second, third = (checkpoint_payload(SpnRefiner(RefinerConfig(width=8))) for _ in range(3))
    shipped = paired_payload(second, third)
    joined = paired_payload(first, shipped)
    assert joined["state_dict"] is first["state_dict"] and joined["certain_state_dict"] is third["state_dict"]


def test_only_checkpoints_of_one_network_and_label_set_pair():
    small = checkpoint_payload(SpnRefiner(RefinerConfig(width=8)))
    with pytest.raises(SpnrefineError, match="differ in network configuration or label set"):
        paired_payload(small, checkpoint_payload(SpnRefiner(RefinerConfig(width=12))))
    with pytest.raises(SpnrefineError, match="differ in network configuration or label set"):
        paired_payload(small, {**small, "labels": {"name": "camvid", "channels": 12}})


def test_bad_checkpoints_are_refused_clearly(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "plain.pt")
    with pytest.raises(SpnrefineError, match="not an spnrefine refinement checkpoint"):
        Refiner.load(tmp_path / "plain.pt")
    payload = checkpoint_payload(SpnRefiner(RefinerConfig(width=8)))
    payload["config"]["width"] = 16
    torch.save(payload, tmp_path / "other.pt")
    with pytest.raises(SpnrefineError, match="not for the SPN refiner: .*wrong shape"):
        Refiner.load(tmp_path / "other.pt")

    class Exploit:
        def __reduce__(self):
            return (print, ("code ran",))

    with open(tmp_path / "evil.pt", "wb") as handle:
        pickle.dump({"format": "spnrefine-refiner", "x": Exploit()}, handle)
    with pytest.raises(SpnrefineError, match="refused to load"):
        Refiner.load(tmp_path / "evil.pt")


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_checkpoints_load_and_match_their_recorded_sha256(name):
    path, sha256 = shipped_checkpoint(name)
    assert sha256 is not None and sha256_of(path) == sha256
    assert isinstance(Refiner.load(name).model, SpnRefiner)


def test_a_tampered_shipped_checkpoint_is_refused(tmp_path, monkeypatch):
    import spnrefine.refiner.api as refiner_module

    path, sha256 = shipped_checkpoint("agnostic")
    copy = tmp_path / "agnostic.pt"
    copy.write_bytes(path.read_bytes()[:-1] + b"\\0")
    monkeypatch.setattr(refiner_module, "shipped_checkpoint", lambda name: (copy, sha256))
    with pytest.raises(SpnrefineError, match="sha256 does not match"):
        Refiner.load("agnostic")


def test_a_backbone_gets_the_refiner_made_for_its_label_set_else_the_agnostic_one():
    assert checkpoint_for_labels("camvid", 12) == "camvid"
    assert checkpoint_for_labels("camvid", 11) == "agnostic"  # another channel count: not its label set
    assert checkpoint_for_labels("voc", 21) == "agnostic"
    camvid = Refiner.load("camvid")
    assert camvid.model.config.class_guidance and not camvid.model.config.class_head
    with pytest.raises(SpnrefineError, match="is made for 12 classes, but the masks have 2"):
        camvid.check_classes(2, "checkpoint camvid")


def test_a_refiner_for_a_label_set_refines_a_compact_map_on_every_channel():
    """Given a label mask of 3 of its 12 classes, the camvid refiner still sees all 12 channels (``fitting``)."""
    refiner = Refiner.load("camvid")
    labels = np.zeros((40, 56), np.int64)
    labels[10:30, 8:40] = 3
    labels[:, 45:] = 8
    image = np.random.default_rng(0).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    coarse = refiner.fitting(LabelChannels(labels, 12))
    assert len(coarse.channels.ids) == 12
    _, refined_labels = refiner.refine_channels(image, coarse, keep_probabilities=False)
    assert set(np.unique(refined_labels)) <= {0, 3, 8}


def test_mirror_averages_the_refinement_of_the_image_and_of_its_mirror_image():
    """``mirror``: (refined + mirror of the mirror image's refinement) / 2, for probability maps, label masks and
    tiled images alike; the result is exactly mirror-symmetric, labels are the average's argmax."""
    torch.manual_seed(0)
    model = SpnRefiner(RefinerConfig(width=8)).eval()
    for parameter in model.parameters():  # no zero-initialized head: the guidance tells left from right
        parameter.data += 0.05 * torch.randn_like(parameter)
    plain, mirror = Refiner(model), Refiner(model, mirror=True)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    probs = rng.dirichlet(np.ones(3), (40, 56)).transpose(2, 0, 1).astype(np.float32)
    labels = probs.argmax(0)
    mirror_image = np.ascontiguousarray(image[:, ::-1])

    def flipped(array):  # (..., H, W) maps and masks
        return np.ascontiguousarray(array[..., ::-1])

    refined = mirror.refine(image, probs)
    expected = (plain.refine(image, probs) + flipped(plain.refine(mirror_image, flipped(probs)))) / 2
    np.testing.assert_allclose(refined, expected, atol=1e-6)
    assert np.abs(refined - plain.refine(image, probs)).max() > 1e-3  # the two passes differ
    np.testing.assert_array_equal(flipped(mirror.refine(mirror_image, flipped(probs))), refined)
    from_labels = mirror.refine_labels(image, labels, 3)
    expected = (plain.refine_labels(image, labels, 3) + flipped(plain.refine_labels(mirror_image, flipped(labels), 3))) / 2
    np.testing.assert_allclose(from_labels, expected, atol=1e-6)
    coarse = ProbabilityChannels(probs, threshold=0)
    tiled, tiled_labels = mirror.refine_channels(image, coarse, tile=16, margin=8, steering_span=24)
    left, _ = plain.refine_channels(image, coarse, tile=16, margin=8, steering_span=24)
    right, _ = plain.refine_channels(mirror_image, ProbabilityChannels(flipped(probs), threshold=0), tile=16,
                                     margin=8, steering_span=24)
    np.testing.assert_allclose(tiled, (left + flipped(right)) / 2, atol=1e-6)
    np.testing.assert_array_equal(tiled_labels, tiled.argmax(0))
    _, only_labels = mirror.refine_channels(image, coarse, tile=16, margin=8, steering_span=24, keep_probabilities=False)
    np.testing.assert_array_equal(only_labels, tiled_labels)


def test_upscale_refines_the_image_and_its_map_at_that_size_and_averages_back():
    """``upscale=2``: the refinement of the bilinearly doubled image and map, each 2×2 block averaged (tiled
    images alike; labels are the result's argmax); mirror then averages two such passes; bad factors refused. The
    thin guard is off: it reads the map at the image's size (its own test: tests/refiner/test_thin_guard.py)."""
    torch.manual_seed(0)
    model = SpnRefiner(RefinerConfig(width=8)).eval()
    for parameter in model.parameters():
        parameter.data += 0.05 * torch.randn_like(parameter)
    plain, doubled = Refiner(model, thin_guard=False), Refiner(model, upscale=2.0, thin_guard=False)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    probs = rng.dirichlet(np.ones(3), (40, 56)).transpose(2, 0, 1).astype(np.float32)
    big_image = cv2.resize(image, (112, 80), interpolation=cv2.INTER_LINEAR)
    big_probs = np.stack([cv2.resize(p, (112, 80), interpolation=cv2.INTER_LINEAR) for p in probs])

    def block_means(maps):  # (K, 2H, 2W) → (K, H, W)
        return maps.reshape(maps.shape[0], maps.shape[1] // 2, 2, maps.shape[2] // 2, 2).mean((2, 4))

    refined = doubled.refine(image, probs, threshold=0)
    np.testing.assert_allclose(refined, block_means(plain.refine(big_image, big_probs, threshold=0)), atol=1e-5)
    np.testing.assert_allclose(refined.sum(0), 1, atol=1e-4)
    assert np.abs(refined - plain.refine(image, probs, threshold=0)).max() > 1e-3
    coarse = ProbabilityChannels(probs, threshold=0)
    tiled, tiled_labels = doubled.refine_channels(image, coarse, tile=32, margin=8, steering_span=48)
    big_tiled, _ = plain.refine_channels(big_image, ProbabilityChannels(big_probs, threshold=0), tile=32, margin=8,
                                         steering_span=48)
    np.testing.assert_allclose(tiled, block_means(big_tiled), atol=1e-5)
    np.testing.assert_array_equal(tiled_labels, tiled.argmax(0))
    _, only_labels = doubled.refine_channels(image, coarse, tile=32, margin=8, steering_span=48,
                                             keep_probabilities=False)
    np.testing.assert_array_equal(only_labels, tiled_labels)
    both = Refiner(model, upscale=2.0, mirror=True, thin_guard=False).refine(image, probs, threshold=0)
    mirrored = plain.refine(np.ascontiguousarray(big_image[:, ::-1]), np.ascontiguousarray(big_probs[:, :, ::-1]),
                            threshold=0)[:, :, ::-1]
    np.testing.assert_allclose(both, (refined + block_means(mirrored)) / 2, atol=1e-5)
    from_labels = doubled.refine_labels(image, probs.argmax(0), 3)
    assert from_labels.shape == (3, 40, 56)
    np.testing.assert_allclose(from_labels.sum(0), 1, atol=1e-4)
    for factor in (0.5, 4.5):
        with pytest.raises(SpnrefineError, match=f"upscale {factor:g}: must lie between 1 and 4"):
            Refiner(model, upscale=factor)
