"""Dense CRF (Krähenbühl & Koltun 2011, through ``pydensecrf2``: the ``bench`` extra), and when it follows the
refiner (``--then-crf``): never, always, or ``auto`` — only for an image whose coarse probability map is unsure,
where the two together gained most (model card, session 22)."""

from __future__ import annotations

from dataclasses import dataclass

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


MODES = ("never", "auto", "always")
UNSURE_TOP1 = 0.92
"""``auto`` runs CRF when the coarse map's mean top-1 probability is below this (set on the tuning sequence 0006R0:
0.90–0.95 tried)."""


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SpnrefineError(f"--then-crf {mode!r}: expected one of {', '.join(MODES)}")
    return mode


def wants_crf(mode: str, coarse_probs: np.ndarray | None) -> bool:
    """Whether CRF follows the refiner for one image; ``coarse_probs``: its (K, H, W) coarse probabilities, None
    for a label mask (certain: ``auto`` leaves it to the refiner)."""
    if mode == "always":
        return True
    if mode == "never" or coarse_probs is None:
        return False
    return float(np.asarray(coarse_probs, np.float32).max(0).mean()) < UNSURE_TOP1
