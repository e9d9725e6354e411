"""Metrics against numbers computed by hand."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from spnrefine.cli import app
from spnrefine.evaluation.metrics import (
    SegmentationMetrics,
    boundary_accuracy,
    mask_boundary,
)
from spnrefine.io.writers import write_label_png

# Two 2x3 images, 3 classes, ignore 9. Ground truth / prediction:
TRUTH = [np.array([[0, 0, 1], [1, 2, 9]]), np.array([[2, 2, 2], [0, 1, 1]])]
PRED = [np.array([[0, 1, 1], [1, 2, 0]]), np.array([[2, 2, 0], [0, 1, 7]])]
# Confusion over valid pixels (rows truth, cols pred; 7 is outside [0, 3)):
#   truth 0: pred 0 x2 (img1 (0,0), img2 (1,0)), pred 1 x1           -> area 3
#   truth 1: pred 1 x3 (img1 (0,2), (1,0); img2 (1,1)), pred 7 x1    -> area 4
#   truth 2: pred 2 x3 (img1 (1,1); img2 (0,0), (0,1)), pred 0 x1    -> area 4
# IoU 0 = 2 / (3 + 3 - 2) = 0.5; IoU 1 = 3 / (4 + 4 - 3) = 0.6; IoU 2 = 3 / (4 + 3 - 3) = 0.75
# pixel accuracy = 8 / 11; mean accuracy = (2/3 + 3/4 + 3/4) / 3


def test_hand_computed_confusion():
    metrics = SegmentationMetrics(3, ignore_index=9, boundary=False)
    for p, t in zip(PRED, TRUTH):
        metrics.update(p, t)
    np.testing.assert_array_equal(metrics.confusion, [[2, 1, 0, 0], [0, 3, 0, 1], [1, 0, 3, 0]])
    summary = metrics.summary(["a", "b", "c"])
    assert summary["per_class_iou"] == {"a": 50.0, "b": 60.0, "c": 75.0}
    assert summary["miou"] == pytest.approx(100 * (0.5 + 0.6 + 0.75) / 3, abs=1e-4)
    assert summary["pixel_accuracy"] == pytest.approx(100 * 8 / 11, abs=1e-4)
    assert summary["mean_accuracy"] == pytest.approx(100 * (2 / 3 + 0.75 + 0.75) / 3, abs=1e-4)


def test_boundary_band_width():
    mask = np.zeros((100, 100), bool)
    mask[20:80, 20:80] = True
    band = mask_boundary(mask)  # d = round(0.02 * 141.4) = 3
    assert band[20:23, 50].all() and not band[23, 50] and not band[50, 50]
    assert band.sum() == 60 * 60 - 54 * 54


def test_boundary_iou_is_perfect_for_a_perfect_prediction_and_lower_for_a_shifted_one():
    truth = np.zeros((60, 80), np.int64)
    truth[10:50, 20:60] = 1
    same = SegmentationMetrics(2)
    same.update(truth, truth)
    assert same.summary()["boundary_iou"] == 100.0
    shifted = SegmentationMetrics(2)
    shifted.update(np.roll(truth, 2, axis=1), truth)
    assert shifted.summary()["boundary_iou"] < shifted.summary()["miou"] < 100


def test_mean_boundary_accuracy_by_hand():
    """300×300: every radius is 1 (max (H+W)/300 = 2), a 3×3 cross; the band is columns 149 and 150."""
    truth = np.zeros((300, 300), np.int64)
    truth[:, 150:] = 1
    shifted = truth.copy()
    shifted[:, 149] = 1  # one column wrong: half the band
    valid = np.ones(truth.shape, bool)
    assert boundary_accuracy(truth, truth, valid) == 1.0
    assert boundary_accuracy(shifted, truth, valid) == 0.5
    valid[:100] = False  # ignored rows leave the band; their errors do not count
    assert boundary_accuracy(np.where(valid, shifted, 1 - truth), truth, valid) == 0.5
    assert boundary_accuracy(truth, np.zeros_like(truth), valid) is None  # no label change

    metrics = SegmentationMetrics(2, ignore_index=9)
    metrics.update(shifted, truth)
    metrics.update(truth, truth)
    metrics.update(truth, np.full_like(truth, 1))  # no boundary: not averaged in
    assert metrics.summary()["mba"] == 75.0


def test_evaluate_command_json_and_compare(tmp_path):
    for folder, maps in (("pred", PRED), ("gt", TRUTH), ("other", TRUTH)):
        for i, labels in enumerate(maps):
            write_label_png(tmp_path / folder / f"img{i}.png", labels, None)
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "pred"), str(tmp_path / "gt"), "--num-classes", "3",
                                      "--ignore-index", "9", "--json", str(tmp_path / "m.json"),
                                      "--compare-to", str(tmp_path / "other"), "--no-boundary"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["per_class_iou"] == {"0": 50.0, "1": 60.0, "2": 75.0}
    assert data["confusion"] == [[2, 1, 0, 0], [0, 3, 0, 1], [1, 0, 3, 0]]  # the table above
    assert data["compare_to"]["miou"] == 100.0
    assert "-40.00" in result.output  # class 1: 60 vs the perfect "other"
    assert set(data) >= {"miou", "per_class_iou", "pixel_accuracy", "mean_accuracy", "boundary_iou", "mba"}


def test_evaluate_errors_name_the_file(tmp_path):
    write_label_png(tmp_path / "pred" / "a.png", np.zeros((2, 2), int), None)
    write_label_png(tmp_path / "gt" / "a.png", np.array([[0, 5], [0, 0]]), None)
    write_label_png(tmp_path / "gt" / "b.png", np.zeros((2, 2), int), None)
    runner = CliRunner()
    args = ["evaluate", str(tmp_path / "pred"), str(tmp_path / "gt"), "--num-classes", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "1 ground-truth masks have no prediction" in result.output
    result = runner.invoke(app, [*args, "--allow-missing"])
    assert result.exit_code == 1 and "a.png: labels [5] are outside [0, 3)" in result.output
    result = runner.invoke(app, [*args, "--allow-missing", "--ignore-index", "5"])
    assert result.exit_code == 0, result.output
