"""Refiner weights: the checkpoint format, and the registry of shipped checkpoints (like ``BackboneSpec``).

A checkpoint carries its network configuration and the label set it was made for (``labels``: None for a
class-agnostic refiner that takes any label set; else the name and channel count of its label set), so
nothing about it is guessed at load time. It may carry a second set of weights of the same network for certain
masks (``certain_state_dict``): label masks, and probability maps certain at many pixels (upsampled hard masks,
confident segmenters; ``refiner.softness.is_certain``); its ``state_dict`` then refines uncertain probability maps
only, a network's soft output (model card).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import SpnrefineError
from ..io.checkpoints import load_state_dict_strict
from .network import RefinerConfig, SpnRefiner

CHECKPOINT_FORMAT = "spnrefine-refiner"


@dataclass(frozen=True)
class RefinerWeights:
    """A shipped checkpoint: file in ``spnrefine.models``, its sha256, and what it refines."""

    name: str
    file: str
    sha256: str
    labels: str | None  # the label set it was made for; None: any label set (class-agnostic)
    channels: int | None  # channels it takes; None: any
    description: str


SHIPPED = {weights.name: weights for weights in (
    RefinerWeights("agnostic", "spn_refiner_agnostic.pt",
                   "27e682113c90c9d1484711cb3181bb476d614a6fee8f1f580bf52045a1255537", None, None,
                   "class-agnostic: any label set, probabilities or hard masks (models/README.md)"),
    RefinerWeights("camvid", "spn_refiner_camvid.pt",
                   "8580e726f8c6974c374b78598aa81c6bc596a29b82132a1a5d0b014e6b2ca2a6", "camvid", 12,
                   "CamVid's 11 classes + void (12 channels): its guidance sees which class is where; the default "
                   "of segment --backbone espnet-camvid (models/README.md)"),
)}
DEFAULT = "agnostic"


def shipped_checkpoint(name: str) -> tuple[Path, str]:
    """(path inside the installed package, recorded sha256) of a shipped checkpoint."""
    weights = SHIPPED[name]
    return Path(str(resources.files("spnrefine.models").joinpath(weights.file))), weights.sha256


def checkpoint_for_labels(label_set: str, num_outputs: int) -> str:
    """The shipped checkpoint made for a backbone's label set and channel count, else the agnostic one."""
    for weights in SHIPPED.values():
        if weights.labels == label_set and weights.channels == num_outputs:
            return weights.name
    return DEFAULT


def checkpoint_payload(model: SpnRefiner, labels: dict | None = None, **extra) -> dict:
    """What a checkpoint file holds: plain data and tensors only (loads with weights_only=True).
    ``labels``: {"name", "channels"} of the label set a class head was trained for; None if agnostic."""
    return {"format": CHECKPOINT_FORMAT, "version": 1, "config": model.config_dict(), "labels": labels,
            "state_dict": model.state_dict(), **extra}


def same_network(first: dict, other: dict) -> bool:
    """Whether two checkpoint payloads hold weights of one network configuration (defaults filled in) and label set."""
    return (RefinerConfig(**first["config"]) == RefinerConfig(**other["config"])
            and first.get("labels") == other.get("labels"))


def paired_payload(uncertain: dict, certain: dict) -> dict:
    """One checkpoint of two payloads of the same network and label set: ``uncertain``'s weights for uncertain
    probability maps, ``certain``'s for certain masks (label masks, maps certain at many pixels) — its second set
    if it is a pair itself (a new first set joins a shipped file's second)."""
    if not same_network(uncertain, certain):
        raise SpnrefineError("the two checkpoints differ in network configuration or label set")
    if certain.get("certain_state_dict") is not None:
        return {**uncertain, "certain_state_dict": certain["certain_state_dict"],
                "certain_train_config": certain.get("certain_train_config")}
    return {**uncertain, "certain_state_dict": certain["state_dict"],
            "certain_train_config": certain.get("train_config")}


def model_from_payload(payload, path: Path) -> SpnRefiner:
    """The refiner of a checkpoint payload (its weights for any mask)."""
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise SpnrefineError(f"{path}: not an spnrefine refinement checkpoint (no '{CHECKPOINT_FORMAT}' format tag)")
    try:
        config = RefinerConfig(**payload["config"])
    except TypeError as error:
        raise SpnrefineError(f"{path}: checkpoint config does not fit this version of spnrefine ({error})") from None
    model = SpnRefiner(config)
    load_state_dict_strict(model, payload["state_dict"], path, "the SPN refiner")
    return model


def certain_model_from_payload(payload: dict, path: Path) -> SpnRefiner | None:
    """The refiner for certain masks, if the checkpoint carries its own weights for them."""
    if payload.get("certain_state_dict") is None:
        return None
    return model_from_payload({**payload, "state_dict": payload["certain_state_dict"]}, path)
