"""`spnrefine refine` on every mask format, its outputs and its batch behaviour."""


import os

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from spnrefine.cli import app
from spnrefine.io.masks import read_label_png
from spnrefine.io.writers import write_label_png
from spnrefine.labels import CAMVID
from spnrefine.refiner.network import RefinerConfig, SpnRefiner
from spnrefine.refiner.weights import checkpoint_payload

runner = CliRunner()


def _scene(folder, count=2, size=(40, 56)):
    """Images with a bright square on dark ground, and label masks with the square slightly off."""
    images, masks = folder / "images", folder / "masks"
    images.mkdir(parents=True), masks.mkdir(parents=True)
    labels_list = []
    for i in range(count):
        image = np.full((*size, 3), 40, np.uint8)
        image[10:30, 15 + i:40 + i] = 220
        labels = np.zeros(size, np.int64)
        labels[12:28, 17 + i:42 + i] = 1
        Image.fromarray(image).save(images / f"frame{i}.png")
        labels_list.append(labels)
    return images, masks, labels_list


def _run(*args):
    return runner.invoke(app, ["refine", *map(str, args), "-q", "--device", "cpu"])


def test_label_masks_with_pictures(tmp_path):
    images, masks, labels = _scene(tmp_path)
    for i, lab in enumerate(labels):
        write_label_png(masks / f"frame{i}.png", lab, None)
    out = tmp_path / "out"
    result = _run("--images", images, "--masks", masks, "--out", out, "--overlay", "--compare", "--save-probs",
                  "--palette", "camvid", "--gt", masks)
    assert result.exit_code == 0, result.output
    assert "classes: 2 (inferred" in result.output and "done 2, skipped 0" in result.output
    refined = Image.open(out / "frame0.png")
    assert refined.mode == "P" and refined.size == (56, 40)
    assert refined.getpalette()[:6] == [*CAMVID.palette[0], *CAMVID.palette[1]]
    assert np.load(out / "frame0.npy").shape == (2, 40, 56)
    assert Image.open(out / "overlay" / "frame0.jpg").size == (56, 40)
    assert Image.open(out / "compare" / "frame0.jpg").size[0] > 4 * 56  # image | coarse | refined | truth
    again = _run("--images", images, "--masks", masks, "--out", out, "--overlay", "--compare", "--save-probs")
    assert "done 0, skipped 2" in again.output


def test_colour_masks_need_and_use_a_palette(tmp_path):
    images, masks, labels = _scene(tmp_path, count=1)
    colours = np.array(CAMVID.palette, np.uint8)[labels[0]]
    Image.fromarray(colours).save(masks / "frame0.png")
    out = tmp_path / "out"
    result = _run("--images", images, "--masks", masks, "--out", out, "--num-classes", "11")
    assert result.exit_code == 1 and "needs --palette" in result.output
    result = _run("--images", images, "--masks", masks, "--out", out, "--num-classes", "11", "--palette", "camvid")
    assert result.exit_code == 0, result.output
    assert read_label_png(out / "frame0.png").shape == (40, 56)


def test_probability_maps_npy_and_npz(tmp_path):
    images, masks, labels = _scene(tmp_path)
    probs = np.stack([1 - labels[0], labels[0]]).astype(np.float32) * 0.8 + 0.1
    np.save(masks / "frame0.npy", probs)
    np.savez(masks / "frame1.npz", probs=np.stack([1 - labels[1], labels[1]]).astype(np.float32))
    out = tmp_path / "out"
    result = _run("--images", images, "--masks", masks, "--out", out)
    assert result.exit_code == 0, result.output
    assert "classes: 2" in result.output
    assert (read_label_png(out / "frame0.png")[18:22, 25:35] == 1).all()


def test_bad_masks_are_reported_and_the_batch_goes_on(tmp_path):
    images, masks, labels = _scene(tmp_path, count=4)
    write_label_png(masks / "frame0.png", labels[0], None)
    write_label_png(masks / "frame1.png", labels[1][:20], None)  # wrong size
    bad = np.stack([1 - labels[2], labels[2]]).astype(np.float32)
    bad[0, 0, 0] = np.nan
    np.save(masks / "frame2.npy", bad)
    three_values = np.where(labels[3] == 1, 7, 0)
    three_values[0, 0] = 1  # 0, 1 and 7: not a two-valued 0/v mask, so 7 is out of range for K=2
    write_label_png(masks / "frame3.png", three_values, None)
    (images / "extra.png").write_bytes(b"no mask for this one")
    out = tmp_path / "out"
    result = _run("--images", images, "--masks", masks, "--out", out, "--num-classes", "2")
    assert result.exit_code == 1
    assert "1 images without a mask" in result.output
    assert "done 1, skipped 0" in result.output and "failed 3" in result.output
    assert "frame1.png: size 56x20 differs from the image" in result.output
    assert "frame2.npy: contains NaN" in result.output
    assert "frame3.png: labels [7] are outside [0, 2)" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["frame0.png"]
    resized = _run("--images", images, "--masks", masks, "--out", out, "--num-classes", "2", "--resize-masks")
    assert "done 1, skipped 1" in resized.output  # frame1 now resized; frame0 skipped


def test_output_folder_must_differ_from_the_inputs(tmp_path):
    images, masks, labels = _scene(tmp_path, count=1)
    write_label_png(masks / "frame0.png", labels[0], None)
    result = _run("--images", images, "--masks", masks, "--out", images)
    assert result.exit_code == 1 and "must differ from the image and mask folders" in result.output


def test_verbose_prints_a_line_per_image(tmp_path):
    images, masks, labels = _scene(tmp_path, count=2)
    for i, lab in enumerate(labels):
        write_label_png(masks / f"frame{i}.png", lab, None)
    result = _run("--images", images, "--masks", masks, "--out", tmp_path / "out", "-v")
    assert result.exit_code == 0, result.output
    assert result.output.count("→") == 2


def test_a_class_head_for_other_classes_is_refused_before_any_work(tmp_path):
    images, masks, labels = _scene(tmp_path, count=1)
    write_label_png(masks / "frame0.png", labels[0], None)
    head = tmp_path / "head12.pt"
    torch.save(checkpoint_payload(SpnRefiner(RefinerConfig(width=8, classes=12)), {"name": "camvid", "channels": 12}),
               head)
    result = _run("--images", images, "--masks", masks, "--out", tmp_path / "out", "--checkpoint", head)
    assert result.exit_code == 1 and "is made for 12 classes, but the masks have 2;" in result.output
    assert not (tmp_path / "out").exists()


def test_empty_folders_are_a_clear_error(tmp_path):
    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir()
    result = _run("--images", tmp_path / "images", "--masks", tmp_path / "masks", "--out", tmp_path / "out")
    assert result.exit_code == 1 and "has a mask with the same stem" in result.output
    result = _run("--images", tmp_path / "nowhere", "--masks", tmp_path / "masks", "--out", tmp_path / "out")
    assert result.exit_code == 1 and "nowhere: no such folder" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_files_are_reported(tmp_path):
    images, masks, labels = _scene(tmp_path, count=2)
    for i, lab in enumerate(labels):
        write_label_png(masks / f"frame{i}.png", lab, None)
    (images / "frame1.png").chmod(0)
    result = _run("--images", images, "--masks", masks, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "frame1.png: permission denied" in result.output


def test_list_refines_only_listed_images_and_fails_listed_ones_without_image_or_mask(tmp_path):
    images, masks, labels = _scene(tmp_path, count=3)
    for i in (0, 2):
        write_label_png(masks / f"frame{i}.png", labels[i], None)
    (tmp_path / "list.txt").write_text("frame0.png\nframe1.png\nnowhere.png\n")  # frame1 has no mask
    out = tmp_path / "out"
    result = _run("--images", images, "--masks", masks, "--out", out, "--num-classes", "2",
                  "--list", tmp_path / "list.txt")
    assert result.exit_code == 1, result.output
    assert "done 1, skipped 0" in result.output and "failed 2" in result.output
    assert "frame1.png: listed, but no mask with its stem in" in result.output
    assert "nowhere.png: listed, but no such image in" in result.output
    assert sorted(p.name for p in out.glob("*.png")) == ["frame0.png"]  # frame2 was not listed


def test_many_failures_are_summarized_on_screen_and_all_listed_in_the_report(tmp_path):
    import json

    images, masks, labels = _scene(tmp_path, count=24)
    for i in range(24):
        if i == 0:
            write_label_png(masks / f"frame{i}.png", labels[i], None)
        else:
            (masks / f"frame{i}.png").write_bytes(b"not a png")
    report = tmp_path / "report.json"
    result = _run("--images", images, "--masks", masks, "--out", tmp_path / "out", "--num-classes", "2",
                  "--report", report)
    assert result.exit_code == 1
    assert result.output.count("  failed: ") == 20 and "… and 3 more failures (--report FILE" in result.output
    data = json.loads(report.read_text())
    assert (data["done"], data["skipped"], data["failed"]) == (1, 0, 23)
    assert all(str(masks) in f["error"] for f in data["failures"])  # each names its bad mask
    assert {f["input"] for f in data["failures"]} == {str(images / f"frame{i}.png") for i in range(1, 24)}


def test_precision_reaches_the_refiner_and_a_bad_one_is_refused_before_any_work(tmp_path):
    images, masks, labels = _scene(tmp_path, count=1)
    np.save(masks / "frame0.npy", np.stack([1 - labels[0], labels[0]]).astype(np.float32) * 0.8 + 0.1)
    written = {}
    for precision in ("float32", "bfloat16"):
        out = tmp_path / precision
        result = _run("--images", images, "--masks", masks, "--out", out, "--precision", precision, "--save-probs")
        assert result.exit_code == 0, result.output
        written[precision] = np.load(out / "frame0.npy").astype(np.float32)
    assert not np.array_equal(written["float32"], written["bfloat16"])  # the guidance ran in each format
    np.testing.assert_allclose(written["float32"], written["bfloat16"], atol=0.02)
    result = _run("--images", images, "--masks", masks, "--out", tmp_path / "out", "--precision", "half")
    assert result.exit_code == 1 and "precision 'half': expected one of auto, float32, bfloat16" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flags, setting", [(["--mirror"], {"mirror": True}),
                                            (["--upscale", "1.25"], {"upscale": 1.25})])
def test_mirror_and_upscale_reach_the_refiner(tmp_path, flags, setting):
    from spnrefine.io.images import read_image
    from spnrefine.refiner import Refiner

    images, masks, labels = _scene(tmp_path, count=1)
    probs = np.stack([1 - labels[0], labels[0]]).astype(np.float32) * 0.8 + 0.1
    np.save(masks / "frame0.npy", probs)
    written = {}
    for name, extra in (("plain", []), ("set", flags)):
        result = _run("--images", images, "--masks", masks, "--out", tmp_path / name, "--precision", "float32",
                      "--save-probs", *extra)
        assert result.exit_code == 0, result.output
        written[name] = np.load(tmp_path / name / "frame0.npy").astype(np.float32)
    expected = Refiner.load("agnostic", precision="float32", **setting).refine(read_image(images / "frame0.png"), probs)
    np.testing.assert_allclose(written["set"], expected, atol=2e-3)  # float16 on disk
    assert np.abs(written["set"] - written["plain"]).max() > 5e-3


def test_then_crf_writes_dense_crfs_marginals_of_the_refined_map_and_auto_only_for_unsure_maps(tmp_path):
    from spnrefine.refiner.then_crf import after_refiner
    from spnrefine.io.images import read_image
    from spnrefine.refiner import Refiner
    from spnrefine.refiner.then_crf import INTERIOR_DOUBT, interior_doubt

    images, masks, labels = _scene(tmp_path)
    rng = np.random.default_rng(0)
    probs = {}
    for i, (low, noise) in enumerate(((0.4, 0.02), (0.03, 0.01))):  # frame0 unsure everywhere, frame1 sure
        soft = np.clip(labels[i] * (1 - 2 * low) + low + rng.normal(0, noise, labels[i].shape), 0.01, 0.99)
        probs[i] = np.stack([1 - soft, soft]).astype(np.float32)
        np.save(masks / f"frame{i}.npy", probs[i])
    assert interior_doubt(probs[0]) > INTERIOR_DOUBT > interior_doubt(probs[1])
    written = {}
    for mode in ("never", "always", "auto", "strong"):
        result = _run("--images", images, "--masks", masks, "--out", tmp_path / mode, "--precision", "float32",
                      "--save-probs", "--then-crf", mode)
        assert result.exit_code == 0, result.output
        sent = {"never": "", "always": "; dense CRF after the refiner on 2 (at DeepLab's full weight on 0)",
                "auto": "; dense CRF after the refiner on 1 (at DeepLab's full weight on 0)",
                "strong": "; dense CRF after the refiner on 2 (at DeepLab's full weight on 2)"}
        assert f"done 2, skipped 0, failed 0{sent[mode]}\n" in result.output
        written[mode] = [np.load(tmp_path / mode / f"frame{i}.npy").astype(np.float32) for i in range(2)]
    image = read_image(images / "frame0.png")
    expected = after_refiner(image, Refiner.load("agnostic", precision="float32").refine(image, probs[0]))
    np.testing.assert_allclose(written["always"][0], expected, atol=2e-3)  # float16 on disk
    assert (read_label_png(tmp_path / "always" / "frame0.png") == expected.argmax(0)).mean() > 0.999
    assert np.abs(written["always"][0] - written["never"][0]).max() > 0.02  # CRF changed the refined map
    assert np.array_equal(written["auto"][0], written["always"][0])  # unsure: CRF
    assert np.array_equal(written["auto"][1], written["never"][1])  # sure: the refiner alone
    result = _run("--images", images, "--masks", masks, "--out", tmp_path / "bad", "--then-crf", "sometimes")
    assert result.exit_code == 1
    assert "--then-crf 'sometimes': expected one of never, auto, always, strong" in result.output


def test_then_crf_without_pydensecrf_is_refused_before_any_work(tmp_path, monkeypatch):
    import sys

    images, masks, labels = _scene(tmp_path, count=1)
    write_label_png(masks / "frame0.png", labels[0], None)
    monkeypatch.setitem(sys.modules, "pydensecrf.densecrf", None)  # import fails as without the bench extra
    result = _run("--images", images, "--masks", masks, "--out", tmp_path / "out", "--then-crf", "auto")
    assert result.exit_code == 1 and "--then-crf needs pydensecrf2: pip install 'spnrefine[bench]'" in result.output
    assert not (tmp_path / "out").exists()
