"""Classical post-processing baselines the SPN refiner is measured against.

* Dense CRF (Krähenbühl & Koltun 2011) through ``pydensecrf2`` (the ``bench`` extra), with
  DeepLab's VOC parameters by default.
* OpenCV's guided filter (He et al.), each class probability filtered with the image as guide.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import SpnrefineError


@dataclass(frozen=True)
class CrfParams:
    iterations: int = 10
    gaussian_sxy: float = 1
    gaussian_compat: float = 3
    bilateral_sxy: float = 67
    bilateral_srgb: float = 3
    bilateral_compat: float = 4


def require_dense_crf(asked_by: str = "dense CRF") -> None:
    """A clear error, before any work, when pydensecrf2 (the ``bench`` extra) is not installed."""
    try:
        import pydensecrf.densecrf  # noqa: F401
    except ImportError:
        raise SpnrefineError(f"{asked_by} needs pydensecrf2: pip install 'spnrefine[bench]' "
                             "(from a checkout: pip install -e '.[bench]')") from None


def dense_crf(image: np.ndarray, probs: np.ndarray, params: CrfParams = CrfParams()) -> np.ndarray:
    """(H, W, 3) uint8 RGB and (K, H, W) probabilities → (K, H, W) CRF marginals."""
    require_dense_crf()
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax

    k, height, width = probs.shape
    crf = dcrf.DenseCRF2D(width, height, k)
    crf.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(probs.astype(np.float32))))
    crf.addPairwiseGaussian(sxy=params.gaussian_sxy, compat=params.gaussian_compat)
    crf.addPairwiseBilateral(sxy=params.bilateral_sxy, srgb=params.bilateral_srgb,
                             rgbim=np.ascontiguousarray(image), compat=params.bilateral_compat)
    return np.asarray(crf.inference(params.iterations), np.float32).reshape(k, height, width)


def guided_filter(image: np.ndarray, probs: np.ndarray, radius: int = 4, eps: float = 1e-2) -> np.ndarray:
    """(H, W, 3) uint8 RGB and (K, H, W) probabilities → (K, H, W) filtered, renormalized.

    Defaults: the best of radius 4/8/16 × eps 1e-4/1e-3/1e-2 on the CamVid val images the refiner
    trains on (val.txt[:45]), never on the held-out ones.
    """
    guide = image.astype(np.float32) / 255
    filtered = np.stack([cv2.ximgproc.guidedFilter(guide, p.astype(np.float32), radius, eps) for p in probs])
    filtered = filtered.clip(min=0)
    return filtered / np.maximum(filtered.sum(0, keepdims=True), 1e-6)
