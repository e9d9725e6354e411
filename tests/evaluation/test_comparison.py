"""The refinement comparison: synthesized coarse masks, present-class handling, scoring in the original ids."""

import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from spnrefine.cli import app
from spnrefine.evaluation.comparison import (
    CoarseSource,
    blocky_coarse,
    coarse_for,
    format_rows,
    lowres_coarse,
    scored,
)
from spnrefine.io.writers import write_label_png


def test_lowres_coarse_is_a_blurred_one_hot_that_keeps_large_regions():
    labels = np.zeros((64, 80), np.int64)
    labels[:, 40:] = 2
    probs = lowres_coarse(labels, 3)
    assert probs.shape == (3, 64, 80) and np.allclose(probs.sum(0), 1, atol=1e-5)
    assert (probs.argmax(0)[:, :36] == 0).all() and (probs.argmax(0)[:, 44:] == 2).all()
    assert np.allclose(probs[1], 0)  # an absent class stays absent


def test_blocky_coarse_is_nearest_neighbour_blocks_given_as_blurred_hard_labels():
    labels = np.zeros((64, 80), np.int64)
    labels[10:50, 13:61] = 1
    blocky = blocky_coarse(labels, 2)
    assert set(np.unique(blocky)) == {0, 1} and (blocky.sum(0) == 1).all()
    columns = np.flatnonzero(np.diff(blocky[1], axis=1).any(0)) + 1  # where the label changes along rows
    rows = np.flatnonzero(np.diff(blocky[1], axis=0).any(1)) + 1
    assert (columns % 8 == 0).all() and (rows % 8 == 0).all()
    probs, _, hard = coarse_for(CoarseSource(blocky=True, factor=8), "x", labels, 2, None)
    assert np.array_equal(hard, blocky.argmax(0))  # the refiners get the hard labels, as refine reads them
    assert 0.05 < probs[1].min() < probs[1].max() < 0.96  # hard labels at 0.9, blurred (blocky implies hard)


def test_present_classes_map_back_to_their_original_ids():
    truth = np.zeros((48, 48), np.int64)
    truth[8:40, 8:40] = 150
    truth[:, :4] = 0
    truth[16:32, 16:32] = 7
    probs, lookup, hard = coarse_for(CoarseSource(present_classes=True), "x", truth, 201, 0)
    assert hard is None
    assert probs.shape[0] == 3 and lookup.tolist() == [7, 150, -1]
    predicted = scored(probs, lookup)
    assert predicted[24, 24] == 7 and predicted[12, 12] == 150


def test_benchmark_refinement_runs_on_synthesized_hard_masks(tmp_path):
    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        truth = np.full((64, 64), 3, np.int64)
        truth[16:48, 10 + i : 50] = 120
        image = np.where(truth[:, :, None] == 120, 200, 40).astype(np.uint8) + rng.integers(0, 20, (64, 64, 3),
                                                                                             dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / "images" / f"p{i}.jpg")
        write_label_png(tmp_path / "masks" / f"p{i}.png", truth, None)
    result = CliRunner().invoke(app, [
        "benchmark", "refinement", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"),
        "--coarse", "lowres", "--present-classes", "--num-classes", "201", "--ignore-index", "0", "--hard",
        "--no-crf", "--json", str(tmp_path / "rows.json")])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [r["method"] for r in rows] == ["coarse", "guided filter", "SPN agnostic"]
    assert all(50 < r["miou"] <= 100 for r in rows)
    chained = CliRunner().invoke(app, [
        "benchmark", "refinement", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"),
        "--coarse", "lowres", "--present-classes", "--num-classes", "201", "--ignore-index", "0", "--then-crf",
        "auto", "--then-crf", "always", "--then-crf", "strong", "--json", str(tmp_path / "chained.json")])
    assert chained.exit_code == 0, chained.output
    rows = json.loads((tmp_path / "chained.json").read_text())["rows"]
    assert [r["method"] for r in rows] == ["coarse", "dense CRF", "guided filter", "SPN agnostic",
                                           "SPN agnostic, then CRF (auto)", "SPN agnostic, then CRF",
                                           "SPN agnostic, then CRF (strong)"]
    assert all(50 < r["miou"] <= 100 for r in rows)
    # ×8 masks are unsure only along their edges: auto leaves both images to the refiner
    assert [r.get("then_crf_images") for r in rows] == [None, None, None, None, 0, 2, 2]
    assert [r.get("then_crf_full_weight_images") for r in rows[4:]] == [0, 0, 2]
    assert "SPN agnostic, then CRF: dense CRF ran on 2 images (at DeepLab's full weight on 0)" in chained.output
    assert rows[4]["miou"] == rows[3]["miou"]


def test_the_table_gives_each_methods_time_as_a_multiple_of_dense_crfs():
    def row(method, miou, seconds):
        return {"method": method, "miou": miou, "boundary_iou": 50.0, "mba": 60.0, "seconds_per_image": seconds}

    lines = format_rows([row("coarse", 70.0, 0.0), row("dense CRF", 70.5, 0.6), row("SPN agnostic", 71.0, 0.075)])
    assert lines[0].split()[-2:] == ["×", "CRF"]
    assert lines[1].split()[-1] == "0.000"  # coarse: no ratio
    assert lines[2].split()[-2:] == ["0.600", "1.00"] and lines[3].split()[-3:] == ["+0.00", "0.075", "0.12"]
    assert "CRF" not in format_rows([row("coarse", 70.0, 0.0), row("SPN agnostic", 71.0, 0.075)])[0]
