"""Large images are steered and propagated in windows (refiner.tiles): they cover the image, and leave no
seams."""

import numpy as np
import pytest
import torch
from helpers import CAMVID, ESPNET_WEIGHTS, camvid_names, needs_shared

from spnrefine.io.images import read_image
from spnrefine.refiner import Refiner
from spnrefine.refiner.channels import ProbabilityChannels
from spnrefine.refiner.network import RefinerConfig, SpnRefiner
from spnrefine.refiner.tiles import MARGIN, detail_pieces, spans_with_context, steering_windows

SEAM_TOLERANCE = 0.1
"""Refined probabilities in windows differ from the untiled result by less than this anywhere. Measured with
the default windows on CamVid val frame 0016E5_07999 upscaled (smooth, so propagation reaches far):
1920×1080 at most 0.154 (99.99% of the pixels within 0.049), labels differing at 0.0034% of the pixels (94,
3 of them within 2 px of a window's edge: near-ties, not seams); 3840×2160 at most 0.179 (99.99% within
0.141), labels at 0.010%. With ESPNet's probabilities of the frame upscaled bilinearly (not its logits), the
largest differences lie within the propagation margin above a band's end in a smooth region: 3840×2160 at most
0.349 (99.99% within 0.297), labels at 0.030% (0.032% before the guidance ran in pieces; 1920×1080 at most 0.130,
labels at 0.005%)."""


@pytest.mark.parametrize("height, width, rows, span, margin",
                         [(360, 480, (0, 360), 1024, 24), (361, 479, (57, 201), 100, 30), (7, 3000, (0, 7), 512, 8)])
def test_steering_windows_cover_the_rows_once_and_keep_the_margin_and_the_grid(height, width, rows, span, margin):
    covered = np.zeros((height, width), np.int32)
    for core, padded in steering_windows(height, width, slice(*rows), span, margin, 8):
        covered[core] += 1
        assert core[1].stop - core[1].start <= span
        for c, p, length in zip(core, padded, (height, width)):
            assert p.start % 8 == 0 and p.start <= max(0, c.start - margin)
            assert p.stop >= min(length, c.stop + margin) and p.stop <= length
            assert (p.stop - p.start) % 8 == 0 or p.stop == length
    assert (covered[slice(*rows)] == 1).all() and covered.sum() == (rows[1] - rows[0]) * width


@pytest.mark.parametrize("length, span, margin", [(360, 512, 48), (2160, 512, 48), (361, 100, 30)])
def test_spans_cover_the_axis_once_in_order_and_keep_the_margin(length, span, margin):
    covered = np.zeros(length, np.int32)
    spans = list(spans_with_context(length, span, margin))
    for core, padded in spans:
        covered[core] += 1
        assert core.stop - core.start <= span
        assert padded.start == max(0, core.start - margin) and padded.stop == min(length, core.stop + margin)
    assert (covered == 1).all()
    assert [core.start for core, _ in spans] == sorted(core.start for core, _ in spans)


@pytest.mark.parametrize("core, padded, span", [(((16, 80), (40, 200)), ((0, 104), (16, 224)), 50),
                                                 (((0, 30), (0, 31)), ((0, 30), (0, 31)), 7)])
def test_detail_pieces_cover_the_window_core_once_with_even_starts_and_the_margin(core, padded, span):
    core, padded = tuple(slice(*c) for c in core), tuple(slice(*p) for p in padded)
    height, width = padded[0].stop - padded[0].start, padded[1].stop - padded[1].start
    covered = np.zeros((height, width), np.int32)
    for piece_core, piece in detail_pieces(core, padded, span, 3):
        covered[piece_core] += 1
        assert piece_core[1].stop - piece_core[1].start <= span
        for c, p, length in zip(piece_core, piece, (height, width)):
            assert p.start % 2 == 0 and p.start <= max(0, c.start - 3)
            assert min(length, c.stop + 3) <= p.stop <= length
    inner = tuple(slice(c.start - p.start, c.stop - p.start) for c, p in zip(core, padded))
    assert (covered[inner] == 1).all() and covered.sum() == covered[inner].size


@pytest.mark.parametrize("height, width", [(48, 72), (47, 69)])
def test_guidance_in_pieces_is_the_window_forward_away_from_the_inner_sides(height, width):
    """The full-resolution layers piece by piece give exactly the window's forward beyond 3 px of a piece's inner
    sides (even sizes; odd ones differ at most slightly, by the exact ×2 upsampling of the context)."""
    torch.manual_seed(0)
    guidance = SpnRefiner(RefinerConfig()).eval().guidance
    for parameter in guidance.parameters():
        parameter.data += 0.05 * torch.randn_like(parameter)
    features = torch.randn(1, 7, height, width)
    with torch.no_grad():
        whole_raw, whole_decoded = guidance(features)
        context = guidance.context(features)
        window = (slice(0, height), slice(0, width))
        core = (slice(8, height - 8), slice(10, width - 10))
        for piece_core, piece in detail_pieces(core, window, 20, 3):
            raw, decoded = guidance.piece(features, context, *piece)
            inner = tuple(slice(c.start - p.start, c.stop - p.start) for c, p in zip(piece_core, piece))
            for got, expected in ((raw, whole_raw), (decoded, whole_decoded)):
                difference = (got[(..., *inner)] - expected[(..., *piece_core)]).abs().max()
                assert difference < (1e-5 if height % 2 == 0 and width % 2 == 0 else 0.5)


@needs_shared
def test_refinement_in_windows_of_a_real_image_has_no_seams():
    """A CamVid val frame with ESPNet's probabilities, in 3x3 windows of 160 px, against the untiled result."""

    from spnrefine.backbones import load_backbone, predict_logits

    image = read_image(CAMVID / "images" / camvid_names("val")[20])
    probs = torch.softmax(predict_logits(load_backbone("espnet-camvid", ESPNET_WEIGHTS), [image]), 1)[0].numpy()
    refiner = Refiner.load("agnostic")
    coarse = ProbabilityChannels(probs, threshold=0)
    whole, whole_labels = refiner.refine_channels(image, coarse, tile=10_000, steering_span=10_000)
    assert np.array_equal(whole, refiner.refine(image, probs, threshold=0))  # 480x360 fits one window
    tiled, tiled_labels = refiner.refine_channels(image, coarse, tile=160, margin=MARGIN, steering_span=160)
    assert np.abs(tiled - whole).max() < SEAM_TOLERANCE
    assert (tiled_labels == whole_labels).mean() > 0.9995  # measured: at most 0.053 apart, 99.991% equal labels
    _, only_labels = refiner.refine_channels(image, coarse, tile=160, margin=MARGIN, steering_span=160,
                                             keep_probabilities=False)
    assert (only_labels == tiled_labels).all()


@pytest.mark.parametrize("config", [RefinerConfig(), RefinerConfig(classes=3, class_guidance=True),
                                    RefinerConfig(pixel_blend=True, sharpen=True, iterations=2)],
                         ids=["agnostic", "class-head", "blend-sharpen-two-passes"])
def test_windows_are_wired_for_every_kind_of_refiner(config):
    """One window: exactly the network's forward; small windows: probabilities all the same (the steering, the
    blend and sharpening channels and the class head's features reach the windows that propagate)."""
    torch.manual_seed(0)
    model = SpnRefiner(config).eval()
    for parameter in model.parameters():  # no zero-initialized head: every channel of the steering matters
        parameter.data += 0.05 * torch.randn_like(parameter)
    refiner = Refiner(model, thin_guard=False)  # compared with the network's own forward below
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    probs = rng.dirichlet(np.ones(3), (40, 56)).transpose(2, 0, 1).astype(np.float32)
    coarse = ProbabilityChannels(probs, threshold=0)
    whole, _ = refiner.refine_channels(image, coarse, tile=1000, steering_span=1000)
    with torch.no_grad():
        expected = refiner.model(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255,
                                 torch.from_numpy(probs)[None], log=False)[0].numpy()
    np.testing.assert_allclose(whole, expected, atol=1e-6)
    windows, _ = refiner.refine_channels(image, coarse, tile=16, margin=8, steering_span=24)
    np.testing.assert_allclose(windows.sum(0), 1, atol=1e-5)
    assert np.abs(windows - whole).mean() < 0.05
