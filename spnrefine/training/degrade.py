"""Real network errors with exact ground truth: run the backbone on degraded training images.

A backbone is nearly perfect on its own training images, so its outputs there teach a refiner
nothing. Shown the same images smaller, blurred, JPEG-compressed, noisy or colour-shifted, it
makes the kinds of mistakes it makes on images it has never seen (missed thin and small objects,
wobbly boundaries, confused classes), while the ground truth stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch.nn.functional as F


@dataclass(frozen=True)
class Degradation:
    """How hard a copy is degraded: a scale range, then colour, blur, noise and JPEG, each with a chance."""

    scale: tuple[float, float]
    colour: float  # amplitude: contrast ±0.1·c, brightness ±8·c, channel gain ±0.04·c, gamma ±0.1·c
    chance: float  # of each of colour, blur, noise and JPEG
    blur: tuple[float, float]  # Gaussian sigma, px
    noise: tuple[float, float]  # standard deviation, grey levels
    jpeg: tuple[int, int]  # quality


# ESPNet on CamVid fit images: 82.6 mIoU undegraded; ~70 under MILD (its level on the val frames, which neighbour
# its training frames); 57.8 mIoU / Boundary IoU 46.8 / mBA 50.1 under STRONG (every 5th fit image), near its
# 57.2 / 44.6 / 53.1 on the CamVid test sequences it never saw (issue 14; its authors report 55.6 mIoU there).
# Both set on fit images only.
MILD = Degradation(scale=(0.6, 0.9), colour=1.0, chance=0.3, blur=(0.5, 1.0), noise=(1, 4), jpeg=(40, 85))
STRONG = Degradation(scale=(0.7, 0.95), colour=2.0, chance=0.4, blur=(0.5, 1.5), noise=(1, 6), jpeg=(25, 75))
DEGRADATIONS = {"mild": MILD, "strong": STRONG}


def same_size(name: str) -> Degradation:
    """``DEGRADATIONS[name]`` without the rescale: what a training crop's image gets for the guidance
    (``train --image-degradation``), so it also learns from images that look like another camera's."""
    return replace(DEGRADATIONS[name], scale=(1.0, 1.0))


def degrade_image(image: np.ndarray, rng: np.random.Generator, how: Degradation = MILD) -> np.ndarray:
    """(H, W, 3) uint8 RGB → a degraded (H', W', 3) uint8 RGB copy, ``how.scale`` times its size (smaller, or
    the same size with ``same_size``).

    ESPNet is fragile to colour shifts (the strongest tried took it from 83 to 38 mIoU) and to scale
    (0.4: 45), so those set the level.
    """
    height, width = image.shape[:2]
    scale = rng.uniform(*how.scale)
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    out = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    c = how.colour
    if rng.random() < how.chance:  # colour: contrast, brightness, per-channel gain, gamma
        out = (out - 128) * rng.uniform(1 - 0.1 * c, 1 + 0.1 * c) + 128 + rng.uniform(-8 * c, 8 * c)
        out = out * rng.uniform(1 - 0.04 * c, 1 + 0.04 * c, size=3)
        out = 255 * (out.clip(0, 255) / 255) ** rng.uniform(1 - 0.1 * c, 1 + 0.1 * c)
    if rng.random() < how.chance:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(*how.blur))
    if rng.random() < how.chance:
        out = out + rng.normal(0, rng.uniform(*how.noise), out.shape)
    out = out.clip(0, 255).astype(np.uint8)
    if rng.random() < how.chance:
        quality = int(rng.integers(*how.jpeg))
        _, encoded = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        out = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1]
    return np.ascontiguousarray(out)


def degraded_probabilities(backbone, image: np.ndarray, rng: np.random.Generator,
                           how: Degradation = MILD) -> np.ndarray:
    """The backbone's (K, H, W) float32 softmax on a degraded copy of ``image``, upsampled to its size."""
    from ..backbones import predict_probabilities

    small = degrade_image(image, rng, how)
    probs = predict_probabilities(backbone, [small])
    probs = F.interpolate(probs, size=image.shape[:2], mode="bilinear", align_corners=False)
    return probs[0].cpu().numpy()
