"""Classical post-processing baselines the SPN refiner is measured against.

* Dense CRF (Krähenbühl & Koltun 2011): ``refiner.then_crf.dense_crf`` with DeepLab's parameters, re-exported
  here (``--then-crf`` runs a weaker one after the refiner).
* OpenCV's guided filter (He et al.), each class probability filtered with the image as guide.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..refiner.then_crf import CrfParams, dense_crf  # noqa: F401  (the baseline is this CRF)


def guided_filter(image: np.ndarray, probs: np.ndarray, radius: int = 4, eps: float = 1e-2) -> np.ndarray:
    """(H, W, 3) uint8 RGB and (K, H, W) probabilities → (K, H, W) filtered, renormalized.

    Defaults: the best of radius 4/8/16 × eps 1e-4/1e-3/1e-2 on the CamVid val images the refiner
    trains on (val.txt[:45]), never on the held-out ones.
    """
    guide = image.astype(np.float32) / 255
    filtered = np.stack([cv2.ximgproc.guidedFilter(guide, p.astype(np.float32), radius, eps) for p in probs])
    filtered = filtered.clip(min=0)
    return filtered / np.maximum(filtered.sum(0, keepdims=True), 1e-6)
