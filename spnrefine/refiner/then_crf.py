"""Dense CRF (Krähenbühl & Koltun 2011, through ``pydensecrf2``: the ``bench`` extra), and when it follows the
refiner (``--then-crf``): never, always, or ``auto`` — only for an image whose coarse probability map doubts inside
its regions, not just along their edges (model card, sessions 22–23) — at a tenth of the pairwise weight it has alone
(``AFTER_REFINER``; session 28); or ``strong``: always, at its full weight, for masks far off the truth."""

from __future__ import annotations

from dataclasses import dataclass, replace

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

    def weakened(self, weight: float, iterations: int) -> CrfParams:
        """The same kernels with both pairwise weights times ``weight``, run for ``iterations`` steps."""
        return replace(self, iterations=iterations, gaussian_compat=self.gaussian_compat * weight,
                       bilateral_compat=self.bilateral_compat * weight)


AFTER_REFINER = CrfParams().weakened(0.1, iterations=3)
"""The CRF that follows the refiner: ``CrfParams``'s kernels at a tenth of their weight, three mean-field steps. At
full weight it erased small and thin objects the refiner had right (ESPNet's own outputs of the tuning sequence
−0.73 mIoU against the refiner alone, its ``--tta`` maps −3.69); at a tenth it gained on ESPNet's outputs of degraded
copies, on a network that never saw the sequence and on one fine-tuned without the scored frames, and lost at most
0.08 anywhere (model card, rule 22)."""


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


def after_refiner(image: np.ndarray, refined: np.ndarray, mode: str = "always") -> np.ndarray:
    """(H, W, 3) uint8 RGB and (k, H, W) refined probabilities → (k, H, W) marginals of the CRF that follows the
    refiner in ``mode``: ``AFTER_REFINER``, or for ``strong`` DeepLab's ``CrfParams``."""
    return dense_crf(image, refined, CrfParams() if mode == "strong" else AFTER_REFINER)


MODES = ("never", "auto", "always", "strong")
UNSURE_TOP1 = 0.7
"""A pixel is unsure when its top-1 probability is below this."""
INTERIOR_DISTANCE = 5
"""... and inside a region when it lies at least this many pixels from every boundary of the map's argmax."""
INTERIOR_DOUBT = 0.005
"""``auto`` runs CRF when more than this share of the pixels are unsure inside a region (the measure chosen on the
tuning sequence 0006R0 among four, session 23; the share for the CRF of ``AFTER_REFINER``, session 28: at 5% it
seldom ran; 1% cost up to 0.11 mIoU on averaged ``--tta`` maps)."""


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SpnrefineError(f"--then-crf {mode!r}: expected one of {', '.join(MODES)}")
    return mode


def interior_doubt(coarse_probs: np.ndarray) -> float:
    """(K, H, W) probabilities → the share of pixels whose top-1 probability is below ``UNSURE_TOP1`` and that lie
    ``INTERIOR_DISTANCE`` px or more from every boundary of the argmax (both pixels of a label change are on it)."""
    probs = np.asarray(coarse_probs, np.float32)
    labels = probs.argmax(0)
    on_boundary = np.zeros(labels.shape, bool)
    across, down = labels[:, 1:] != labels[:, :-1], labels[1:] != labels[:-1]
    on_boundary[:, 1:] |= across
    on_boundary[:, :-1] |= across
    on_boundary[1:] |= down
    on_boundary[:-1] |= down
    distance = cv2.distanceTransform((~on_boundary).astype(np.uint8), cv2.DIST_L2, 5)
    return float(((probs.max(0) < UNSURE_TOP1) & (distance >= INTERIOR_DISTANCE)).mean())


def wants_crf(mode: str, coarse_probs: np.ndarray | None) -> bool:
    """Whether CRF follows the refiner for one image; ``coarse_probs``: its (K, H, W) coarse probabilities, None
    for a label mask (certain: ``auto`` leaves it to the refiner)."""
    if mode in ("always", "strong"):
        return True
    if mode == "never" or coarse_probs is None:
        return False
    return interior_doubt(coarse_probs) > INTERIOR_DOUBT
