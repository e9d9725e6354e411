"""Load a refinement checkpoint and refine probabilities (the API behind the CLI)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .checkpoints import load_state_dict_strict, load_weights
from .errors import SpnrefineError
from .model import RefinerConfig, SpnRefiner

CHECKPOINT_FORMAT = "spnrefine-refiner"
DEFAULT_CHECKPOINT = "spn_refiner_camvid.pt"
DEFAULT_SHA256 = None  # filled in with the shipped checkpoint


def default_checkpoint() -> Path:
    return Path(str(resources.files("spnrefine.models").joinpath(DEFAULT_CHECKPOINT)))


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
        self.model = model.to(self.device).eval()

    @classmethod
    def load(cls, checkpoint: str | Path | None = None, device: torch.device | str = "cpu") -> "Refiner":
        """A checkpoint file, or the shipped CamVid checkpoint (sha256-verified) when None."""
        path = Path(checkpoint) if checkpoint else default_checkpoint()
        expected = DEFAULT_SHA256 if checkpoint is None else None
        if checkpoint is None and not path.is_file():
            raise SpnrefineError(f"the shipped checkpoint {path} is missing; reinstall spnrefine or pass --checkpoint")
        return cls(model_from_payload(load_weights(path, expected), path), device)

    @torch.inference_mode()
    def refine_batch(self, images: list[np.ndarray], probabilities: torch.Tensor) -> torch.Tensor:
        """Same-size (H, W, 3) uint8 RGB images and (N, K, H, W) probabilities → refined (N, K, H, W)."""
        image = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(255).to(self.device)
        return self.model(image, probabilities.to(self.device).float()).exp()

    def refine(self, image: np.ndarray, probabilities: np.ndarray | torch.Tensor) -> np.ndarray:
        """One (H, W, 3) uint8 RGB image and (K, H, W) probabilities → refined (K, H, W) float32."""
        probs = torch.as_tensor(np.asarray(probabilities, dtype=np.float32))[None]
        return self.refine_batch([image], probs)[0].cpu().numpy()


def load_refiner(checkpoint: str | Path | None, device: torch.device | str) -> Refiner:
    return Refiner.load(checkpoint, device)
