"""Subnormal weights are zeroed at load: backbones (registered and users') and refiners run without them."""

import json

import torch
from helpers import CAMVID, ESPNET_WEIGHTS, camvid_names, needs_shared
from torch import nn

from spnrefine.backbones import load_backbone, predict_logits
from spnrefine.backbones.registry import get_backbone
from spnrefine.denormals import zero_subnormal_weights
from spnrefine.io.images import read_image

SUBNORMAL = 1e-40  # below float32's smallest normal, 1.18e-38


def _subnormals(model: nn.Module) -> int:
    tensors = [*model.parameters(), *model.buffers()]
    return sum(int(((t != 0) & (t.abs() < torch.finfo(t.dtype).tiny)).sum()) for t in tensors if t.is_floating_point())


def test_only_subnormal_values_are_zeroed():
    model = nn.Sequential(nn.Conv2d(2, 2, 1), nn.BatchNorm2d(2))
    with torch.no_grad():
        weight = model[0].weight.view(-1)
        weight[:4] = torch.tensor([SUBNORMAL, -SUBNORMAL, 1e-37, 0.0])  # two subnormal, a tiny normal, zero
        model[1].running_var[0] = SUBNORMAL  # buffers too
    kept = model[0].weight.view(-1)[2:].clone()
    assert zero_subnormal_weights(model) == 3
    assert torch.equal(model[0].weight.view(-1)[:2], torch.zeros(2))
    assert torch.equal(model[0].weight.view(-1)[2:], kept)
    assert model[1].running_var[0] == 0 and _subnormals(model) == 0


def test_bfloat16_subnormals_are_zeroed_and_float16_left_alone():
    low = nn.Linear(3, 1, bias=False).to(torch.bfloat16)
    half = nn.Linear(3, 1, bias=False).to(torch.float16)
    with torch.no_grad():
        low.weight[0, 0] = SUBNORMAL
        half.weight[0, 0] = 1e-6  # a float16 subnormal: widened to float32 before any CPU computes with it
    assert low.weight[0, 0] != 0 and half.weight[0, 0] != 0
    assert zero_subnormal_weights(low) == 1 and low.weight[0, 0] == 0
    assert zero_subnormal_weights(half) == 0 and half.weight[0, 0] != 0


def test_a_users_torchscript_model_is_loaded_without_subnormals(tmp_path):
    conv = nn.Conv2d(3, 2, 3, padding=1)
    with torch.no_grad():
        conv.weight[0, 0, 0, 0] = SUBNORMAL
    path = tmp_path / "model.pt"
    torch.jit.script(conv).save(str(path))
    path.with_suffix(".json").write_text(json.dumps({"class_names": ["a", "b"]}))
    assert _subnormals(torch.jit.load(str(path))) == 1
    assert _subnormals(load_backbone("user", path).model) == 0


@needs_shared
def test_espnet_loses_its_subnormal_weights_and_keeps_its_outputs():
    state = torch.load(ESPNET_WEIGHTS, map_location="cpu", weights_only=True)
    as_trained = get_backbone("espnet-camvid").build()
    as_trained.load_state_dict(state, strict=False)
    assert _subnormals(as_trained) > 10_000  # 10,610 in the pretrained weights
    backbone = load_backbone("espnet-camvid", ESPNET_WEIGHTS)
    assert _subnormals(backbone.model) == 0
    image = read_image(CAMVID / "images" / camvid_names("train", 1)[0])
    zeroed = predict_logits(backbone, [image])
    backbone.model.load_state_dict(state, strict=False)
    assert torch.equal(predict_logits(backbone, [image]), zeroed)


def test_a_refiner_is_prepared_without_subnormals():
    from spnrefine.refiner import Refiner
    from spnrefine.refiner.network import RefinerConfig, SpnRefiner

    model = SpnRefiner(RefinerConfig())
    with torch.no_grad():
        model.guidance.head[1].weight[0, 0, 0, 0] = SUBNORMAL  # channels-last: no flat view
    assert _subnormals(model) == 1
    assert _subnormals(Refiner(model, precision="float32").model) == 0
