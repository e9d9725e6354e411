"""Load a refinement checkpoint and refine probabilities (the API behind the CLI)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .checkpoints import load_state_dict_strict, load_weights
from .errors import SpnrefineError
from .io.images import MAX_PIXELS
from .model import RefinerConfig, SpnRefiner, fold_batchnorm
from .numerics import pin_pointwise_convolutions

CHECKPOINT_FORMAT = "spnrefine-refiner"

# Shipped checkpoints (package spnrefine.models; model cards in models/README.md): name → (file, sha256).
SHIPPED = {
    "agnostic": ("spn_refiner_agnostic.pt", "c5839c883a37d7c265cb0baae81d25d37e64db7273f8a95589c7a4bcde7cc48b"),
    "camvid": ("spn_refiner_camvid.pt", "0cae1f4258cccd26630c813512f07ab9b1fc7ac469db31e4f20aec6edbea1868"),
}
DEFAULT = "agnostic"


def shipped_checkpoint(name: str) -> tuple[Path, str | None]:
    filename, sha256 = SHIPPED[name]
    return Path(str(resources.files("spnrefine.models").joinpath(filename))), sha256


def checkpoint_payload(model: SpnRefiner, **extra) -> dict:
    """What a checkpoint file holds: plain data and tensors only (loads with weights_only=True)."""
    return {"format": CHECKPOINT_FORMAT, "version": 1, "config": model.config_dict(),
            "state_dict": model.state_dict(), **extra}


def model_from_payload(payload, path: Path) -> SpnRefiner:
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise SpnrefineError(f"{path}: not an spnrefine refinement checkpoint (no '{CHECKPOINT_FORMAT}' format tag)")
    try:
        config = RefinerConfig(**payload["config"])
    except TypeError as error:
        raise SpnrefineError(f"{path}: checkpoint config does not fit this version of spnrefine ({error})") from None
    model = SpnRefiner(config)
    load_state_dict_strict(model, payload["state_dict"], path, "the SPN refiner")
    return model


class Refiner:
    """``Refiner.load(path).refine(image, probs)``: refined (K, H, W) probabilities."""

    def __init__(self, model: SpnRefiner, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.model = fold_batchnorm(model.eval()).to(self.device)
        if self.device.type == "cpu":
            pin_pointwise_convolutions(self.model)  # same bits on any number of threads

    @classmethod
    def load(cls, checkpoint: str | Path | None = None, device: torch.device | str = "cpu") -> Refiner:
        """A shipped checkpoint by name ("agnostic", "camvid"; sha256-verified) or a checkpoint file."""
        name = str(checkpoint) if checkpoint is not None else DEFAULT
        if name in SHIPPED:
            path, expected = shipped_checkpoint(name)
            if not path.is_file():
                raise SpnrefineError(f"the shipped checkpoint {path} is missing; reinstall spnrefine")
        else:
            path, expected = Path(checkpoint), None
        return cls(model_from_payload(load_weights(path, expected), path), device)

    def check_classes(self, num_classes: int, source: str) -> None:
        """A checkpoint with a class head refines exactly its K; say so before any work starts."""
        head = self.model.config.classes
        if head is not None and head != num_classes:
            raise SpnrefineError(f"{source} has a {head}-class head, but the masks have {num_classes} classes; "
                                 "use --checkpoint agnostic (any number of classes)")

    @torch.inference_mode()
    def refine_batch(self, images: list[np.ndarray], probabilities: torch.Tensor) -> torch.Tensor:
        """Same-size (H, W, 3) uint8 RGB images and (N, K, H, W) probabilities → refined (N, K, H, W).

        On CPU one image at a time: at 480×360 that is 1.7× faster per image than a batch of 4, whose
        full-resolution buffers no longer fit in cache (same math; on CamVid even the same bits), and the
        result of an image no longer depends on which images share its batch.
        """
        if self.device.type == "cpu" and len(images) > 1:
            return torch.cat([self.refine_batch([image], probabilities[i : i + 1]) for i, image in enumerate(images)])
        image = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(255).to(self.device)
        return self.model(image, probabilities.to(self.device).float()).exp()

    def refine(self, image: np.ndarray, probabilities: np.ndarray | torch.Tensor,
               max_pixels: int = MAX_PIXELS) -> np.ndarray:
        """One (H, W, 3) uint8 RGB image and (K, H, W) probabilities → refined (K, H, W) float32.

        Images over ``max_pixels`` are refined at that many pixels (area downscaling) and the result
        is upsampled back, so memory stays bounded whatever the input size.
        """
        probs = torch.as_tensor(np.asarray(probabilities, dtype=np.float32))[None]
        height, width = image.shape[:2]
        if height * width <= max_pixels:
            return self.refine_batch([image], probs)[0].cpu().numpy()
        scale = (max_pixels / (height * width)) ** 0.5
        size = (max(1, int(height * scale)), max(1, int(width * scale)))
        small_image = cv2.resize(image, size[::-1], interpolation=cv2.INTER_AREA)
        small_probs = F.interpolate(probs, size=size, mode="area")
        refined = self.refine_batch([small_image], small_probs)
        return F.interpolate(refined.cpu(), size=(height, width), mode="bilinear", align_corners=False)[0].numpy()


def checkpoint_for_labels(label_set: str, num_outputs: int) -> str:
    """The shipped checkpoint that fits a backbone's label set: its class head, else the agnostic one."""
    return "camvid" if label_set == "camvid" and num_outputs == 12 else DEFAULT
