"""`evaluate --html`: a static report that opens from disk; per-image JSON; paging; a real browser renders it."""

import json
import re

import numpy as np
import pytest
from helpers import CHROMIUM
from PIL import Image
from typer.testing import CliRunner

from spnrefine.cli import app
from spnrefine.evaluation import report as report_module
from spnrefine.io.writers import write_label_png

runner = CliRunner()


def _dataset(root, count, classes=2, size=(24, 32), seed=0):
    """Ground truth, a 'coarse' and a 'refined' prediction: refined fixes image 0's errors and breaks image 1."""
    rng = np.random.default_rng(seed)
    for folder in ("gt", "coarse", "refined", "images"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        truth = rng.integers(0, classes, size)
        truth[: size[0] // 2] = i % classes
        coarse, refined = truth.copy(), truth.copy()
        coarse[:4] = (truth[:4] + 1) % classes
        if i == 1:
            refined[:, :8] = (truth[:, :8] + 1) % classes  # refined loses on image 1
        else:
            refined[:4] = truth[:4]
            coarse[:, :2] = (truth[:, :2] + 1) % classes
        for folder, labels in (("gt", truth), ("coarse", coarse), ("refined", refined)):
            write_label_png(root / folder / f"im{i:04d}.png", labels, None)
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(root / "images" / f"im{i:04d}.jpg")


def _evaluate(root, classes, *extra):
    return runner.invoke(app, ["evaluate", str(root / "refined"), str(root / "gt"), "--num-classes", str(classes),
                               "--compare-to", str(root / "coarse"), "--images", str(root / "images"), *extra])


def _local_references(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#]+)', page)


def test_report_and_per_image_json(tmp_path):
    _dataset(tmp_path, 5)
    result = _evaluate(tmp_path, 2, "--html", str(tmp_path / "report"), "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    index = (tmp_path / "report" / "index.html").read_text()
    assert "<script" not in index and "http" not in index
    for reference in _local_references(index):
        assert (tmp_path / "report" / reference).is_file(), reference
    rows = re.findall(r"<td>(\d+)\. (im\d+)<br>", index)
    assert [name for _, name in rows][0] == "im0001"  # the image refinement broke comes first
    assert len(rows) == 5
    per_image = json.loads((tmp_path / "r.json").read_text())["per_image"]
    by_name = {row["image"]: row for row in per_image}
    assert by_name["im0001"]["change_miou"] < 0 < by_name["im0000"]["change_miou"]
    assert set(by_name["im0000"]) >= {"miou", "boundary_iou", "mba", "compare_to_miou", "change_mba"}


def test_150_classes_and_paging(tmp_path, monkeypatch):
    monkeypatch.setattr(report_module, "ROWS_PER_PAGE", 4)
    _dataset(tmp_path, 9, classes=150)
    result = _evaluate(tmp_path, 150, "--html", str(tmp_path / "report"))
    assert result.exit_code == 0, result.output
    pages = sorted(p.name for p in (tmp_path / "report").glob("*.html"))
    assert pages == ["gallery-2.html", "gallery-3.html", "index.html"]
    assert len(list((tmp_path / "report" / "images" / "thumbs").iterdir())) == 9
    for page in pages:
        for reference in _local_references((tmp_path / "report" / page).read_text()):
            assert (tmp_path / "report" / reference).is_file(), (page, reference)


def test_a_folder_that_is_not_a_report_is_never_overwritten(tmp_path):
    _dataset(tmp_path, 2)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = _evaluate(tmp_path, 2, "--html", str(tmp_path / "mine"))
    assert result.exit_code == 1 and "not an earlier spnrefine report" in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert _evaluate(tmp_path, 2, "--html", str(tmp_path / "report")).exit_code == 0
    assert _evaluate(tmp_path, 2, "--html", str(tmp_path / "report")).exit_code == 0  # an earlier report: replaced
    assert not list(tmp_path.glob(".report*"))  # no temporary left


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")
def test_the_report_renders_in_a_real_browser(tmp_path):
    pytest.importorskip("websocket", reason="websocket-client (the dev extra) drives Chromium")
    from helpers import inspect_page

    _dataset(tmp_path, 12, size=(60, 80))
    assert _evaluate(tmp_path, 2, "--html", str(tmp_path / "report")).exit_code == 0
    page = inspect_page((tmp_path / "report" / "index.html").as_uri(), screenshot=tmp_path / "shot.png")
    assert page["errors"] == [] and page["broken"] == []
    assert page["count"] == 12 + 2  # every thumbnail and both charts decoded
    assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_refine_writes_the_report_of_its_outputs(tmp_path):
    _dataset(tmp_path, 3, size=(48, 64))
    out = tmp_path / "out"
    result = runner.invoke(app, ["refine", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "coarse"),
                                 "--out", str(out), "--num-classes", "2", "--gt", str(tmp_path / "gt"), "--html",
                                 str(tmp_path / "report"), "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "coarse").iterdir()) == ["im0000.png", "im0001.png", "im0002.png"]
    index = (tmp_path / "report" / "index.html").read_text()
    assert "refined vs coarse" in index and len(re.findall(r"<td>\d+\. im\d+<br>", index)) == 3
    without_gt = runner.invoke(app, ["refine", "--images", str(tmp_path / "images"), "--masks",
                                     str(tmp_path / "coarse"), "--out", str(tmp_path / "o2"), "--html", str(tmp_path / "r2")])
    assert without_gt.exit_code == 1 and "needs --gt" in without_gt.output
