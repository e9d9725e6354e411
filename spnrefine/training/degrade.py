"""Real network errors with exact ground truth: run the backbone on degraded training images.

A backbone is nearly perfect on its own training images, so its outputs there teach a refiner
nothing. Shown the same images smaller, blurred, JPEG-compressed, noisy or colour-shifted, it
makes the kinds of mistakes it makes on images it has never seen (missed thin and small objects,
wobbly boundaries, confused classes), while the ground truth stays exact.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch.nn.functional as F

SCALE_RANGE = (0.6, 0.9)


def degrade_image(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) uint8 RGB → a smaller (scale 0.6–0.9), mildly degraded uint8 RGB image.

    Strengths were set on CamVid train images (never val) so that ESPNet's mIoU on the degraded copies
    (~70) is near its mIoU on unseen val images: ESPNet is fragile to colour shifts (strong ones take it
    from 83 to 38 mIoU) and to scale (0.4: 45), so those are kept mild.
    """
    height, width = image.shape[:2]
    scale = rng.uniform(*SCALE_RANGE)
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    out = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    if rng.random() < 0.3:  # colour: contrast, brightness, per-channel gain, gamma
        out = (out - 128) * rng.uniform(0.9, 1.1) + 128 + rng.uniform(-8, 8)
        out = out * rng.uniform(0.96, 1.04, size=3)
        out = 255 * (out.clip(0, 255) / 255) ** rng.uniform(0.9, 1.1)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.0))
    if rng.random() < 0.3:
        out = out + rng.normal(0, rng.uniform(1, 4), out.shape)
    out = out.clip(0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        quality = int(rng.integers(40, 85))
        _, encoded = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        out = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1]
    return np.ascontiguousarray(out)


def degraded_probabilities(backbone, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The backbone's (K, H, W) float32 softmax on a degraded copy of ``image``, upsampled to its size."""
    from ..backbones import predict_probabilities

    small = degrade_image(image, rng)
    probs = predict_probabilities(backbone, [small])
    probs = F.interpolate(probs, size=image.shape[:2], mode="bilinear", align_corners=False)
    return probs[0].cpu().numpy()
