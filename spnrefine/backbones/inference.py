"""Run a backbone on 8-bit RGB images: preprocessing, padding, logits back at the input size."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..io.images import MAX_PIXELS
from .loading import Backbone
from .registry import Preprocessing


def to_input(images: list[np.ndarray], prep: Preprocessing, zoom: float = 1.0) -> tuple[torch.Tensor, tuple[int, int]]:
    """Same-size (H, W, 3) uint8 RGB images → (N, 3, H', W') normalized, resized (``zoom`` × the backbone's own
    size), padded, and the (height, width) of the valid region before padding."""
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    if prep.channel_order == "BGR":
        batch = batch.flip(1)
    mean = torch.tensor(prep.mean).view(1, 3, 1, 1)
    std = torch.tensor(prep.std).view(1, 3, 1, 1)
    batch = (batch * prep.pixel_scale - mean) / std * prep.output_scale
    height, width = batch.shape[2:]
    scale = prep.resize_short_side / min(height, width) if prep.resize_short_side else 1.0
    scale = min(scale * zoom, (MAX_PIXELS / (height * width)) ** 0.5)  # huge images: bounded memory
    if scale != 1.0:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        batch = F.interpolate(batch, size=size, mode="bilinear", align_corners=False, antialias=scale < 1)
    valid = (batch.shape[2], batch.shape[3])
    multiple = prep.size_multiple
    pad_h, pad_w = (-valid[0]) % multiple, (-valid[1]) % multiple
    if pad_h or pad_w:
        batch = F.pad(batch, (0, pad_w, 0, pad_h))
    return batch, valid


@torch.inference_mode()
def predict_probabilities(backbone: Backbone, images: list[np.ndarray], zooms: tuple[float, ...] = (1.0,),
                          flip: bool = False) -> torch.Tensor:
    """Same-size RGB images → (N, K, H, W) float32 class probabilities at the images' size: the softmax of the
    backbone's logits, averaged over the ``zooms`` (input sizes relative to the backbone's own) and, with
    ``flip``, over the mirrored images too (test-time augmentation: 2 × len(zooms) passes)."""
    total = None
    for zoom in zooms:
        for mirrored in (False, True) if flip else (False,):
            views = [np.ascontiguousarray(image[:, ::-1]) for image in images] if mirrored else images
            probs = torch.softmax(predict_logits(backbone, views, zoom), 1)
            probs = probs.flip(3) if mirrored else probs
            total = probs if total is None else total.add_(probs)
    return total.div_(len(zooms) * (2 if flip else 1))


@torch.inference_mode()
def predict_logits(backbone: Backbone, images: list[np.ndarray], zoom: float = 1.0) -> torch.Tensor:
    """Same-size RGB images → (N, K, H, W) float32 logits at the images' size, on the backbone's device; the
    backbone sees them ``zoom`` × its own input size."""
    height, width = images[0].shape[:2]
    batch, valid = to_input(images, backbone.preprocessing, zoom)
    out = backbone.model(batch.to(backbone.device))
    if backbone.output_key is not None:
        out = out[backbone.output_key]
    if not isinstance(out, torch.Tensor) or out.dim() != 4 or out.shape[0] != len(images):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"backbone {backbone.name} returned {shape}, expected (N, K, H, W) logits")
    out = out.float()
    if out.shape[2:] != batch.shape[2:]:  # a model that predicts at a lower resolution
        out = F.interpolate(out, size=batch.shape[2:], mode="bilinear", align_corners=False)
    out = out[:, :, : valid[0], : valid[1]]
    if valid != (height, width):
        out = F.interpolate(out, size=(height, width), mode="bilinear", align_corners=False)
    return out
