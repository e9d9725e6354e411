"""Hard label masks upsampled by nearest neighbour (blocky) are recognised and blurred by half a block."""

import cv2
import numpy as np
import pytest
from helpers import SHARED, needs_shared

from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.coarse import HARD_LABEL_BLUR, block_size, hard_label_sigma
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.refiner import Refiner
from spnrefine.refiner.channels import LabelChannels


def _blocky(labels: np.ndarray, factor: int) -> np.ndarray:
    """``labels`` sampled at 1/factor resolution and upsampled by nearest neighbour, as label maps are resized."""
    height, width = labels.shape
    small = cv2.resize(labels.astype(np.uint8), (width // factor, height // factor), interpolation=cv2.INTER_NEAREST)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST).astype(np.int64)


def _scene(height: int = 360, width: int = 500) -> np.ndarray:
    """(H, W) ids 0..3: a disc, a tilted band and a small square on background."""
    rows, columns = np.mgrid[:height, :width]
    labels = np.zeros((height, width), np.int64)
    labels[np.hypot(rows - 150, columns - 200) < 90] = 1
    labels[np.abs(rows - 0.4 * columns - 200) < 25] = 2
    labels[300:330, 420:460] = 3
    return labels


@pytest.mark.parametrize("factor", [2, 4, 8, 16])
def test_a_nearest_upsampled_mask_has_its_block_size(factor):
    """500 px wide at 1/factor is not a whole number of blocks: blocks of factor and factor + 1 pixels."""
    blocky = _blocky(_scene(), factor)
    assert block_size(blocky) == factor
    assert hard_label_sigma(blocky) == max(factor / 2, HARD_LABEL_BLUR * np.hypot(*blocky.shape))


def test_masks_that_are_not_blocky_have_block_size_one():
    scene = _scene()
    assert block_size(scene) == 1  # curved and tilted boundaries change at neighbouring columns
    rectangle = np.zeros((200, 300), np.int64)
    rectangle[40:120, 64:192] = 1  # few lines: no evidence of a lattice
    assert block_size(rectangle) == 1
    rng = np.random.default_rng(0)
    boxes = np.zeros((400, 600), np.int64)  # axis-aligned boxes anywhere (a layout mask): irregular lines
    for k in range(12):
        top, left = rng.integers(0, 350), rng.integers(0, 550)
        height, width = rng.integers(10, 80, 2)
        boxes[top:top + height, left:left + width] = k % 3 + 1
    assert block_size(boxes) == 1
    one_hot = np.stack([scene == k for k in range(4)]).astype(np.float32)
    smooth = cv2.resize(cv2.resize(one_hot.transpose(1, 2, 0), (62, 45), interpolation=cv2.INTER_AREA), (500, 360),
                        interpolation=cv2.INTER_LINEAR).argmax(2)
    assert block_size(smooth) == 1  # a low-resolution map upsampled bilinearly, then its argmax


@needs_shared
def test_a_blocky_mask_is_refined_closer_to_the_truth_with_half_a_block_of_blur():
    """weizmann_horses train images, ×8 nearest-neighbour masks: blurred by half a block (as ``refine`` reads them)
    the refined masks are better than the coarse ones and than with the usual blur."""
    root = SHARED / "data" / "weizmann_horses"
    refiner = Refiner.load("agnostic")
    scores = {name: SegmentationMetrics(2, None, boundary=False) for name in ("coarse", "usual", "block")}
    for stem in (root / "train.txt").read_text().split()[:6]:
        image = read_image(root / "images" / f"{stem}.jpg")
        truth = (read_label_png(root / "masks" / f"{stem}.png") > 0).astype(np.int64)
        blocky = _blocky(truth, 8)
        coarse = LabelChannels(blocky, 2)
        assert coarse.sigma == 4
        usual = LabelChannels(blocky, 2)
        usual.sigma = max(0.5, HARD_LABEL_BLUR * float(np.hypot(*blocky.shape)))
        scores["coarse"].update(blocky, truth)
        for name, channels in (("usual", usual), ("block", coarse)):
            scores[name].update(refiner.refine_channels(image, channels)[1], truth)
    miou = {name: metrics.summary()["miou"] for name, metrics in scores.items()}
    assert miou["block"] > miou["usual"] > miou["coarse"], miou


@needs_shared
def test_large_blocks_are_refined_at_half_resolution_first(monkeypatch):
    """weizmann_horses train images, ×16 nearest-neighbour masks (blocks beyond the refiner's reach): a first pass
    at half resolution gives better masks than one pass; a large label space (compact channels) goes through
    both passes too."""
    import spnrefine.refiner.api as api

    root = SHARED / "data" / "weizmann_horses"
    refiner = Refiner.load("agnostic")
    scores = {name: SegmentationMetrics(2, None, boundary=False) for name in ("one pass", "two passes")}
    for stem in (root / "train.txt").read_text().split()[:6]:
        image = read_image(root / "images" / f"{stem}.jpg")
        truth = (read_label_png(root / "masks" / f"{stem}.png") > 0).astype(np.int64)
        blocky = _blocky(truth, 16)
        if block_size(blocky) < api.HALF_RESOLUTION_BLOCK:
            continue  # a small image: too few blocks to tell
        two = refiner.refine_labels(image, blocky, 2)
        scores["two passes"].update(two.argmax(0), truth)
        wide = refiner.refine_labels(image, np.where(blocky == 1, 120, 7), 150).argmax(0)  # ids 7 and 120 of 150
        assert set(np.unique(wide)) <= {7, 120}  # compact channels through both passes, mapped back
        assert (np.where(wide == 120, 1, 0) == two.argmax(0)).mean() > 0.95  # 0.1 spread over 150, not 2
        with monkeypatch.context() as patch:
            patch.setattr(api, "HALF_RESOLUTION_BLOCK", 10**9)
            scores["one pass"].update(refiner.refine_labels(image, blocky, 2).argmax(0), truth)
    miou = {name: metrics.summary()["miou"] for name, metrics in scores.items()}
    assert miou["two passes"] > miou["one pass"] + 1, miou
