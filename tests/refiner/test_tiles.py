"""Large images go in overlapping tiles (refiner.tiles): the tiles cover the image, and leave no seams."""

import numpy as np
import pytest
from helpers import CAMVID, ESPNET_WEIGHTS, camvid_names, needs_shared

from spnrefine.io.images import read_image
from spnrefine.refiner import Refiner
from spnrefine.refiner.channels import ProbabilityChannels
from spnrefine.refiner.tiles import MARGIN, tile_windows

SEAM_TOLERANCE = 0.1
"""Refined probabilities in tiles differ from the untiled result by less than this anywhere. Measured with the
default tiles on CamVid val frame 0016E5_07999 upscaled: 1920x1080 at most 0.032, labels identical; 3840x2160
(an 8x upscale: smooth, so propagation reaches far) at most 0.174, labels differing at 0.00035% of the pixels."""


@pytest.mark.parametrize("height, width, tile, margin", [(360, 480, 1024, 64), (361, 479, 100, 30), (7, 3000, 512, 8)])
def test_tile_cores_cover_the_image_once_and_windows_keep_the_margin_and_the_grid(height, width, tile, margin):
    covered = np.zeros((height, width), np.int32)
    for core, padded in tile_windows(height, width, tile, margin, align=8):
        covered[core] += 1
        for c, p, length in zip(core, padded, (height, width)):
            assert c.stop - c.start <= tile
            assert p.start % 8 == 0 and p.start <= max(0, c.start - margin)
            assert p.stop >= min(length, c.stop + margin) and p.stop <= length
            assert (p.stop - p.start) % 8 == 0 or p.stop == length
    assert (covered == 1).all()


@needs_shared
def test_tiled_refinement_of_a_real_image_has_no_seams():
    """A CamVid val frame with ESPNet's probabilities, in 3x3 tiles of 160 px, against the untiled result."""
    import torch

    from spnrefine.backbones import load_backbone, predict_logits

    image = read_image(CAMVID / "images" / camvid_names("val")[20])
    probs = torch.softmax(predict_logits(load_backbone("espnet-camvid", ESPNET_WEIGHTS), [image]), 1)[0].numpy()
    refiner = Refiner.load("agnostic")
    coarse = ProbabilityChannels(probs, threshold=0)
    whole, whole_labels = refiner.refine_channels(image, coarse, tile=10_000)
    tiled, tiled_labels = refiner.refine_channels(image, coarse, tile=160, margin=MARGIN)
    assert np.abs(tiled - whole).max() < SEAM_TOLERANCE
    assert (tiled_labels == whole_labels).mean() > 0.9999
    _, only_labels = refiner.refine_channels(image, coarse, tile=160, margin=MARGIN, keep_probabilities=False)
    assert (only_labels == tiled_labels).all()
