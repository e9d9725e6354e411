"""`spnrefine segment` end to end: real ESPNet on CamVid images, and a user model on odd images."""

import json

import numpy as np
import pytest
import torch
from helpers import ESPNET_WEIGHTS, needs_shared
from PIL import Image
from torch import nn
from typer.testing import CliRunner

from spnrefine.cli import app
from spnrefine.io.masks import read_label_png
from spnrefine.labels import CAMVID

runner = CliRunner()


@needs_shared
def test_segment_camvid_then_evaluate(tmp_path, camvid_val_subset):
    images, masks = camvid_val_subset
    out = tmp_path / "out"
    args = ["segment", str(images), "--out", str(out), "--backbone", "espnet-camvid",
            "--backbone-weights", str(ESPNET_WEIGHTS), "--no-refine", "--save-probs", "-q", "--device", "cpu"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "done 4, skipped 0" in result.output
    first = sorted(out.glob("*.png"))[0]
    label = Image.open(first)
    assert label.mode == "P" and label.size == (480, 360)
    assert label.getpalette()[:6] == [*CAMVID.palette[0], *CAMVID.palette[1]]
    probs = np.load(first.with_suffix(".npy"))
    assert probs.dtype == np.float16 and probs.shape == (12, 360, 480)
    agreement = (probs.astype(np.float32).argmax(0) == read_label_png(first)).mean()
    assert agreement > 0.999  # float16 rounding may flip near-ties

    again = runner.invoke(app, args)
    assert "done 0, skipped 4" in again.output

    report = tmp_path / "m.json"
    result = runner.invoke(app, ["evaluate", str(out), str(masks), "--num-classes", "11", "--ignore-index", "11",
                                 "--class-names", "camvid", "--json", str(report)])
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["pixel_accuracy"] > 85


@needs_shared
def test_segment_tta_writes_the_averaged_probabilities(tmp_path, camvid_val_subset):
    from spnrefine.backbones import load_backbone, predict_probabilities
    from spnrefine.io.images import read_image
    from spnrefine.jobs.segment import TTA_ZOOMS

    images, _ = camvid_val_subset
    first = sorted(images.glob("*.png"))[0]
    out = tmp_path / "out"
    result = runner.invoke(app, ["segment", str(first), "--out", str(out), "--backbone-weights", str(ESPNET_WEIGHTS),
                                 "--no-refine", "--tta", "--save-probs", "-q"])
    assert result.exit_code == 0, result.output
    written = np.load(out / f"{first.stem}.npy").astype(np.float32)
    backbone = load_backbone("espnet-camvid", ESPNET_WEIGHTS)
    image = read_image(first)
    expected = predict_probabilities(backbone, [image], TTA_ZOOMS, flip=True)[0].numpy()
    np.testing.assert_allclose(written, expected, atol=1e-3)  # float16 on disk
    assert np.abs(written - predict_probabilities(backbone, [image])[0].numpy()).max() > 0.1


class _Stripes(nn.Module):
    """Class 1 where the red channel is bright, else class 0."""

    def forward(self, x):
        return torch.cat([-x[:, :1], x[:, :1]], dim=1)


def test_segment_user_model_keeps_every_input_size_and_reports_bad_files(tmp_path):
    model = tmp_path / "stripes.pt"
    torch.jit.script(_Stripes()).save(str(model))
    model.with_suffix(".json").write_text(json.dumps({"class_names": ["dark", "red"], "mean": [0.5] * 3,
                                                      "std": [0.5] * 3}))
    images = tmp_path / "in put ü"  # spaces and unicode
    (images / "sub").mkdir(parents=True)
    rgb = np.zeros((21, 13, 3), np.uint8)
    rgb[:, 7:, 0] = 255
    Image.fromarray(rgb).save(images / "a.png")
    Image.fromarray(rgb[:, :, 0]).save(images / "sub" / "gray.png")
    Image.fromarray(np.dstack([rgb, rgb[:, :, :1]])).save(images / "rgba.png")
    (images / "broken.png").write_text("not an image")
    out = images / "out"  # output folder inside the input folder
    result = runner.invoke(app, ["segment", str(images), "--out", str(out), "--backbone", "user",
                                 "--backbone-weights", str(model), "--no-refine", "-q"])
    assert result.exit_code == 1, result.output
    assert "done 3, skipped 0" in result.output and "broken.png: not an image" in result.output
    labels = read_label_png(out / "a.png")
    assert labels.shape == (21, 13) and (labels[:, 7:] == 1).all() and (labels[:, :7] == 0).all()
    assert read_label_png(out / "sub" / "gray.png").shape == (21, 13)
    rerun = runner.invoke(app, ["segment", str(images), "--out", str(out), "--backbone", "user",
                                "--backbone-weights", str(model), "--no-refine", "-q"])
    assert "done 0, skipped 3" in rerun.output  # its own outputs are not taken as inputs


def test_segment_says_which_refiner_it_picked(tmp_path):
    model = tmp_path / "stripes.pt"
    torch.jit.script(_Stripes()).save(str(model))
    model.with_suffix(".json").write_text(json.dumps({"class_names": ["dark", "red"]}))
    rgb = np.zeros((40, 30, 3), np.uint8)
    rgb[:, 15:, 0] = 255
    Image.fromarray(rgb).save(tmp_path / "a.png")
    args = ["segment", str(tmp_path / "a.png"), "--backbone", "user", "--backbone-weights", str(model)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "refiner: agnostic" in result.output  # no refiner is made for a user's label set
    chosen = runner.invoke(app, [*args, "--out", str(tmp_path / "out2"), "--checkpoint", "agnostic", "-q"])
    assert chosen.exit_code == 0 and "refiner:" not in chosen.output


def test_segment_refuses_to_overwrite_inputs(tmp_path):
    model = tmp_path / "stripes.pt"
    torch.jit.script(_Stripes()).save(str(model))
    model.with_suffix(".json").write_text(json.dumps({"class_names": ["dark", "red"]}))
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "a.png")
    result = runner.invoke(app, ["segment", str(tmp_path), "--out", str(tmp_path), "--backbone", "user",
                                 "--backbone-weights", str(model), "--no-refine", "-q"])
    assert result.exit_code == 1 and "the output folder is the input folder" in result.output


def test_segment_an_empty_folder_is_a_clear_error(tmp_path):
    model = tmp_path / "stripes.pt"
    torch.jit.script(_Stripes()).save(str(model))
    model.with_suffix(".json").write_text(json.dumps({"class_names": ["dark", "red"]}))
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["segment", str(tmp_path / "empty"), "--out", str(tmp_path / "out"),
                                 "--backbone", "user", "--backbone-weights", str(model), "--no-refine"])
    assert result.exit_code == 1 and "empty: no images found" in result.output
    result = runner.invoke(app, ["segment", str(tmp_path / "empty"), "--out", str(tmp_path / "out"),
                                 "--backbone", "lraspp_mobilenet_v3_large", "--backbone-weights",
                                 str(tmp_path / "missing.pth"), "--no-refine"])
    assert result.exit_code == 1 and "missing.pth: no such checkpoint file" in result.output


def test_segment_list_picks_images_and_reports_names_without_one(tmp_path):
    model = tmp_path / "stripes.pt"
    torch.jit.script(_Stripes()).save(str(model))
    model.with_suffix(".json").write_text(json.dumps({"class_names": ["dark", "red"]}))
    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    for name in ("a.png", "b.png", "b.0001.png", "sub/c.jpg"):
        Image.new("RGB", (12, 9), (250, 0, 0)).save(images / name)
    (tmp_path / "list.txt").write_text("a.png\nsub/c\nmissing.png\nb.0001\n")  # b.0001 is not b
    result = runner.invoke(app, ["segment", str(images), "--out", str(tmp_path / "out"), "--backbone", "user",
                                 "--backbone-weights", str(model), "--no-refine", "--list", str(tmp_path / "list.txt"),
                                 "-q"])
    assert result.exit_code == 1, result.output
    assert "done 3, skipped 0" in result.output and "failed 1" in result.output
    assert "missing.png: listed, but no such image in" in result.output
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.png"))
    assert written == ["a.png", "b.0001.png", "sub/c.png"]


@needs_shared
def test_segment_html_reports_refined_against_the_backbone(tmp_path, camvid_val_subset):
    images, masks = camvid_val_subset
    result = runner.invoke(app, ["segment", str(images), "--out", str(tmp_path / "out"), "--backbone-weights",
                                 str(ESPNET_WEIGHTS), "--gt", str(masks), "--html", str(tmp_path / "report"), "-q",
                                 "--device", "cpu"])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "report" / "index.html").read_text()
    assert "refined vs backbone" in index and "sign_symbol" in index
    assert len(list((tmp_path / "report" / "images" / "thumbs").iterdir())) == 4


@needs_shared
def test_segment_then_crf_labels_dense_crfs_marginals_of_the_refined_map(tmp_path, camvid_val_subset):
    from spnrefine.backbones import load_backbone, predict_probabilities
    from spnrefine.refiner.then_crf import after_refiner
    from spnrefine.io.images import read_image
    from spnrefine.refiner import Refiner

    images, _ = camvid_val_subset
    first = sorted(images.glob("*.png"))[0]
    out = tmp_path / "out"
    args = ["segment", str(first), "--out", str(out), "--backbone-weights", str(ESPNET_WEIGHTS), "--then-crf",
            "always", "-q"]
    result = runner.invoke(app, [*args, "--precision", "float32", "--report", str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["then_crf"], report["then_crf_full_weight"]) == (1, 0)
    image = read_image(first)
    coarse = predict_probabilities(load_backbone("espnet-camvid", ESPNET_WEIGHTS), [image])
    refined = Refiner.load("camvid", precision="float32").refine_batch([image], coarse)[0].numpy()
    expected = after_refiner(image, refined).argmax(0)
    written = read_label_png(out / f"{first.stem}.png")
    assert (written == expected).mean() > 0.999
    assert (written != refined.argmax(0)).mean() > 0.001  # CRF changed the refined labels
    refused = runner.invoke(app, [*args, "--no-refine"])
    assert refused.exit_code == 1 and "--then-crf runs dense CRF on the refiner's output" in refused.output


@pytest.mark.parametrize("flags, setting", [(["--mirror"], {"mirror": True}),
                                            (["--upscale", "1.25"], {"upscale": 1.25})])
def test_segment_mirror_and_upscale_reach_the_refiner(tmp_path, flags, setting):
    from spnrefine.backbones import load_backbone, predict_probabilities
    from spnrefine.refiner import Refiner

    model = tmp_path / "stripes.pt"
    torch.jit.script(_Stripes()).save(str(model))
    model.with_suffix(".json").write_text(json.dumps({"class_names": ["dark", "red"]}))
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 120, (40, 48, 3), dtype=np.uint8)
    rgb[5:30, 9:40, 0] = 255
    Image.fromarray(rgb).save(tmp_path / "a.png")
    args = ["segment", str(tmp_path / "a.png"), "--backbone", "user", "--backbone-weights", str(model),
            "--precision", "float32", "--save-probs", "-q"]
    for name, extra in (("plain", []), ("set", flags)):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
    coarse = predict_probabilities(load_backbone("user", model), [rgb])
    expected = Refiner.load("agnostic", precision="float32", **setting).refine_batch([rgb], coarse)[0].numpy()
    written = {name: np.load(tmp_path / name / "a.npy").astype(np.float32) for name in ("plain", "set")}
    np.testing.assert_allclose(written["set"], expected, atol=2e-3)  # float16 on disk
    assert np.abs(written["set"] - written["plain"]).max() > 5e-3
