"""Backbones: ESPNet on the real CamVid weights, the torchvision zoo, users' exported models."""

import json
import pickle

import numpy as np
import pytest
import torch
from helpers import CAMVID, ESPNET_WEIGHTS, camvid_names, needs_shared
from torch import nn

from spnrefine.backbones import (
    backbone_names,
    get_backbone,
    load_backbone,
    predict_logits,
    predict_probabilities,
)
from spnrefine.backbones.registry import ESPNET_CAMVID_MEAN, ESPNET_CAMVID_STD
from spnrefine.errors import SpnrefineError
from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png


def test_unknown_backbone_lists_the_valid_names():
    with pytest.raises(SpnrefineError) as error:
        get_backbone("unet")
    for name in backbone_names():
        assert name in str(error.value)


@needs_shared
def test_espnet_loads_the_real_weights_strictly():
    backbone = load_backbone("espnet-camvid", ESPNET_WEIGHTS)
    state = torch.load(ESPNET_WEIGHTS, map_location="cpu", weights_only=True)
    assert len(state) == 189
    own = backbone.model.state_dict()
    assert {k for k in own if not k.endswith("num_batches_tracked")} == set(state)


@needs_shared
def test_espnet_preprocessing_statistics_come_from_camvid_train():
    import cv2

    names = camvid_names("train")
    means, stds = np.zeros(3), np.zeros(3)
    for name in names:
        image = cv2.imread(str(CAMVID / "images" / name)).astype(np.float32)  # BGR, as the authors read it
        means += image.mean(axis=(0, 1))
        stds += image.std(axis=(0, 1))
    np.testing.assert_allclose(means / len(names), ESPNET_CAMVID_MEAN, rtol=1e-6)
    np.testing.assert_allclose(stds / len(names), ESPNET_CAMVID_STD, rtol=1e-6)


@needs_shared
def test_espnet_is_accurate_on_camvid_val_images():
    backbone = load_backbone("espnet-camvid", ESPNET_WEIGHTS)
    metrics = SegmentationMetrics(11, ignore_index=11, boundary=False)
    for name in camvid_names("val", 8):
        logits = predict_logits(backbone, [read_image(CAMVID / "images" / name)])
        metrics.update(logits[0].argmax(0).numpy(), read_label_png(CAMVID / "masks" / name))
    pixel_accuracy = metrics.summary()["pixel_accuracy"]
    assert pixel_accuracy > 90, pixel_accuracy  # measured 92.7 on the whole val split


def test_espnet_handles_sizes_that_are_not_multiples_of_8():
    from spnrefine.backbones.espnet import EspNet
    from spnrefine.backbones.loading import Backbone
    from spnrefine.backbones.registry import ESPNET_CAMVID

    model = EspNet().eval()
    backbone = Backbone("espnet", model, ESPNET_CAMVID.labels, 12, ESPNET_CAMVID.preprocessing, None,
                        torch.device("cpu"))
    image = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    assert predict_logits(backbone, [image]).shape == (1, 12, 37, 53)


def test_test_time_augmentation_is_mirror_symmetric_and_sums_to_one():
    """Averaged over zooms and mirrored images, the mirrored image's probabilities are the mirror of the image's
    (a flip along the wrong axis, or not flipped back, breaks this); one zoom without flip is the plain softmax."""
    from spnrefine.backbones.loading import Backbone
    from spnrefine.backbones.registry import ESPNET_CAMVID

    torch.manual_seed(0)
    model = nn.Conv2d(3, 12, 5, padding=2).eval()  # lopsided kernels: a mirrored image gives other logits
    with torch.no_grad():
        model.weight.mul_(300)  # the inputs are scaled to [0, 1]: logits of a few units
    backbone = Backbone("toy", model, ESPNET_CAMVID.labels, 12, ESPNET_CAMVID.preprocessing, None,
                        torch.device("cpu"))
    image = np.random.default_rng(0).integers(0, 256, (45, 61, 3), dtype=np.uint8)
    plain = predict_probabilities(backbone, [image])
    assert torch.equal(plain, torch.softmax(predict_logits(backbone, [image]), 1))
    augmented = predict_probabilities(backbone, [image], (0.75, 1.0, 1.25), flip=True)
    mirrored = predict_probabilities(backbone, [np.ascontiguousarray(image[:, ::-1])], (0.75, 1.0, 1.25), flip=True)
    assert augmented.shape == (1, 12, 45, 61)
    torch.testing.assert_close(augmented.sum(1), torch.ones(1, 45, 61))
    torch.testing.assert_close(mirrored, augmented.flip(3), atol=1e-5, rtol=0)
    assert (augmented - plain).abs().max() > 0.1  # the other views did change something


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return tmp_path / "torch_home"


def _saved_state(tmp_path, name):
    path = tmp_path / f"{name}.pth"
    torch.save(get_backbone(name).build().state_dict(), path)
    return path


def test_torchvision_weights_from_a_file(tmp_path):
    path = _saved_state(tmp_path, "lraspp_mobilenet_v3_large")
    backbone = load_backbone("lraspp_mobilenet_v3_large", path)
    image = np.zeros((50, 70, 3), np.uint8)
    assert predict_logits(backbone, [image, image]).shape == (2, 21, 50, 70)


def test_torchvision_weights_from_the_hub_cache(tmp_path, torch_home):
    spec = get_backbone("lraspp_mobilenet_v3_large")
    cache = torch_home / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    _saved_state(tmp_path, spec.name).rename(cache / spec.hub_filename)
    assert load_backbone(spec.name).labels.name == "voc"


@pytest.mark.parametrize("name", ["deeplabv3_resnet50", "deeplabv3_resnet101", "deeplabv3_mobilenet_v3_large",
                                  "lraspp_mobilenet_v3_large", "fcn_resnet50"])
def test_torchvision_without_weights_says_where_to_put_them(name, torch_home):
    with pytest.raises(SpnrefineError) as error:
        load_backbone(name)
    message = str(error.value)
    assert str(torch_home / "hub" / "checkpoints" / get_backbone(name).hub_filename) in message
    assert "--backbone-weights" in message


def test_weights_of_another_architecture_are_refused_clearly(tmp_path):
    path = _saved_state(tmp_path, "lraspp_mobilenet_v3_large")
    with pytest.raises(SpnrefineError, match="these weights are not for espnet-camvid: .*missing"):
        load_backbone("espnet-camvid", path)


def test_espnet_needs_weights():
    with pytest.raises(SpnrefineError, match="needs its weights: pass --backbone-weights"):
        load_backbone("espnet-camvid")


class _Exploit:
    def __reduce__(self):
        return (print, ("this ran while unpickling",))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as handle:
        pickle.dump({"weight": _Exploit()}, handle)
    with pytest.raises(SpnrefineError, match="refused to load"):
        load_backbone("espnet-camvid", path)


class _TinySegmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


def _sidecar(path, **extra):
    path.with_suffix(".json").write_text(json.dumps({"class_names": ["a", "b", "c", "d"], "mean": [0.5] * 3,
                                                     "std": [0.25] * 3, **extra}))


def test_user_torchscript_model(tmp_path):
    path = tmp_path / "model.pt"
    torch.jit.script(_TinySegmenter()).save(str(path))
    _sidecar(path, palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]])
    backbone = load_backbone("user", path)
    assert backbone.labels.class_names == ("a", "b", "c", "d")
    assert predict_logits(backbone, [np.zeros((9, 11, 3), np.uint8)]).shape == (1, 4, 9, 11)


def test_user_export_archive(tmp_path):
    path = tmp_path / "model.pt2"
    exported = torch.export.export(_TinySegmenter(), (torch.zeros(1, 3, 16, 16),))
    torch.export.save(exported, str(path))
    _sidecar(path)
    backbone = load_backbone("user", path)
    assert predict_logits(backbone, [np.zeros((16, 16, 3), np.uint8)]).shape == (1, 4, 16, 16)


def test_user_model_errors(tmp_path):
    path = tmp_path / "model.pt"
    torch.jit.script(_TinySegmenter()).save(str(path))
    with pytest.raises(SpnrefineError, match="model.json: missing"):
        load_backbone("user", path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(SpnrefineError, match="not valid JSON"):
        load_backbone("user", path)
    path.with_suffix(".json").write_text(json.dumps({"labels": "ade20k"}))
    with pytest.raises(SpnrefineError, match="unknown labels preset"):
        load_backbone("user", path)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a model")
    _sidecar(garbage)
    with pytest.raises(SpnrefineError, match="neither a TorchScript file"):
        load_backbone("user", garbage)
    with pytest.raises(SpnrefineError, match="needs --backbone-weights"):
        load_backbone("user")
