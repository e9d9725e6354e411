"""Build a registered backbone (or a user's exported model) with its weights, ready to run."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import torch
from torch import nn

from ..denormals import zero_subnormal_weights
from ..determinism import pin_pointwise_convolutions
from ..errors import SpnrefineError
from ..io.checkpoints import load_state_dict_strict, load_weights
from ..labels import PRESETS, VOC, LabelSet
from .registry import USER_MODEL, BackboneSpec, Preprocessing, get_backbone


@dataclass
class Backbone:
    """A ready model: ``model(x)`` maps (N, 3, H, W) normalized images to logits."""

    name: str
    model: nn.Module
    labels: LabelSet
    num_outputs: int
    preprocessing: Preprocessing
    output_key: str | None
    device: torch.device


def hub_checkpoint_path(filename: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def _registered_weights(spec: BackboneSpec, weights: Path | None) -> Path:
    if weights is not None:
        return weights
    if spec.hub_filename:
        cached = hub_checkpoint_path(spec.hub_filename)
        if cached.is_file():
            return cached
        raise SpnrefineError(
            f"no weights for {spec.name}: nothing is downloaded at run time. Put {spec.weights} at "
            f"{cached} (the torch hub cache) or pass --backbone-weights PATH"
        )
    raise SpnrefineError(f"{spec.name} needs its weights: pass --backbone-weights PATH ({spec.weights})")


def user_description(weights: Path, config: Path | None) -> tuple[LabelSet, Preprocessing]:
    """Class names, palette and preprocessing of a user's model from its JSON sidecar."""
    config = config or weights.with_suffix(".json")
    if not config.is_file():
        raise SpnrefineError(
            f"{config}: missing. A user model needs a JSON sidecar with at least \"class_names\" (a list) or "
            f"\"labels\" (one of {', '.join(PRESETS)}), optionally \"palette\", \"ignore_index\" and "
            "preprocessing keys (channel_order, pixel_scale, mean, std, output_scale, size_multiple)"
        )
    try:
        data = json.loads(config.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SpnrefineError(f"{config}: not valid JSON ({error})") from None
    if "labels" in data:
        if data["labels"] not in PRESETS:
            raise SpnrefineError(f"{config}: unknown labels preset {data['labels']!r}; valid: {', '.join(PRESETS)}")
        labels = PRESETS[data["labels"]]
    elif isinstance(data.get("class_names"), list) and data["class_names"]:
        names = tuple(str(n) for n in data["class_names"])
        palette = tuple(tuple(int(v) for v in c) for c in data.get("palette", VOC.palette[: len(names)]))
        labels = LabelSet("user", names, palette, data.get("ignore_index"))
    else:
        raise SpnrefineError(f"{config}: needs \"class_names\" (a non-empty list) or \"labels\" (a preset name)")
    known = {f.name for f in fields(Preprocessing)}
    unknown = set(data) - known - {"labels", "class_names", "palette", "ignore_index"}
    if unknown:
        raise SpnrefineError(f"{config}: unknown keys {sorted(unknown)}")
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    return labels, Preprocessing(**options)


def _load_user_model(weights: Path, device: torch.device) -> nn.Module:
    """A TorchScript model in eval mode, or a torch.export archive's module (exported in its mode)."""
    try:
        return torch.jit.load(str(weights), map_location=device).eval()
    except Exception:  # not TorchScript: try a torch.export archive
        pass
    try:
        return torch.export.load(str(weights)).module().to(device)
    except Exception as error:
        raise SpnrefineError(
            f"{weights}: neither a TorchScript file (torch.jit.save) nor a torch.export archive "
            f"(torch.export.save): {str(error).splitlines()[0][:200] if str(error) else type(error).__name__}"
        ) from None


def load_backbone(
    name: str, weights: str | Path | None = None, device: str | torch.device = "cpu", config: str | Path | None = None
) -> Backbone:
    """Backbone ``name`` with weights from ``weights`` (or the torch hub cache), on ``device``."""
    device = torch.device(device)
    weights = Path(weights) if weights is not None else None
    if name == USER_MODEL:
        if weights is None:
            raise SpnrefineError("backbone 'user' needs --backbone-weights PATH (a TorchScript or torch.export file)")
        labels, preprocessing = user_description(weights, Path(config) if config else None)
        model = _load_user_model(weights, device)
        zero_subnormal_weights(model)
        return Backbone(name, model, labels, len(labels.class_names), preprocessing, None, device)
    spec = get_backbone(name)
    path = _registered_weights(spec, weights)
    model = spec.build()
    load_state_dict_strict(model, load_weights(path), path, spec.name)
    zero_subnormal_weights(model)  # ESPNet-CamVid's run 4x faster on CPU without them (spnrefine.denormals)
    if device.type == "cpu":
        pin_pointwise_convolutions(model)  # same bits on 1 thread (a Ray worker) as on many
    return Backbone(spec.name, model.to(device).eval(), spec.labels, spec.num_outputs, spec.preprocessing,
                    spec.output_key, device)
