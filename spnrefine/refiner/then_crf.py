"""Dense CRF (Krähenbühl & Koltun 2011, through ``pydensecrf2``: the ``bench`` extra), and when it follows the
refiner (``--then-crf``): never; always, at a tenth of the pairwise weight it has alone (``AFTER_REFINER``; session
28); ``strong``: always, at its full weight, for masks far off the truth; or ``auto``, per image: at full weight
where the refined map disagrees with the image (``far_off_share``) by much, or by less where the coarse map is sure
inside its regions (sessions 34–35), else at a tenth where the coarse probability map doubts inside its regions, not
just along their edges (``interior_doubt``; sessions 22–23, 28)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch

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


FAR_OFF_FACTOR = 4
"""``far_off_share`` runs its CRF on the map and image area-downsampled by this factor (~40 ms at 480×360)."""
FAR_OFF_SHARE = 0.08
"""``auto`` runs DeepLab's CRF after the refiner when its low-resolution run relabels more than this share of the
refined map, ``FAR_OFF_SHARE_SURE`` where the coarse map is sure inside its regions: chosen on the tuning sequence
0006R0, sessions 34-35 (rules 37-44, model card)."""
FAR_OFF_SHARE_SURE = 0.05
SURE_INSIDE = 0.01
"""Sure inside: at most this ``interior_doubt``. Maps averaged over augmentations doubt inside regions and lose thin
objects to DeepLab's CRF; between the two shares a map that doubts gets the weak CRF instead."""


def far_off_labels(image: np.ndarray, refined: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 RGB and (k, H, W) refined probabilities → the (h, w) labels of the map area-downsampled by
    ``FAR_OFF_FACTOR``, and after DeepLab's CRF on it and the image downsampled alike (position kernel scaled too)."""
    height, width = image.shape[:2]
    size = (max(width // FAR_OFF_FACTOR, 1), max(height // FAR_OFF_FACTOR, 1))
    small_image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small = np.stack([cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in np.asarray(refined, np.float32)])
    small /= np.maximum(small.sum(0, keepdims=True), 1e-6)
    params = replace(CrfParams(), bilateral_sxy=CrfParams().bilateral_sxy / FAR_OFF_FACTOR)
    return small.argmax(0), dense_crf(small_image, small, params).argmax(0)


def far_off_share(image: np.ndarray, refined: np.ndarray) -> float:
    """(H, W, 3) uint8 RGB and (k, H, W) refined probabilities → the share of pixels ``far_off_labels``' CRF
    relabels: how far the map disagrees with the image. A map close to the truth loses thin objects to it (~3% here),
    a far-off one regions."""
    before, after = far_off_labels(image, refined)
    return float((before != after).mean())


MODES = ("never", "auto", "always", "strong")
UNSURE_TOP1 = 0.7
"""A pixel is unsure when its top-1 probability is below this."""
INTERIOR_DISTANCE = 5
"""... and inside a region when it lies at least this many pixels from every boundary of the map's argmax."""
INTERIOR_DOUBT = 0.005
"""``auto`` runs the weak CRF (``AFTER_REFINER``) on a map not far off when more than this share of the pixels are
unsure inside a region (the measure chosen on the tuning sequence 0006R0 among four, session 23; the share for the
CRF of ``AFTER_REFINER``, session 28: at 5% it seldom ran; 1% cost up to 0.11 mIoU on averaged ``--tta`` maps)."""


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SpnrefineError(f"--then-crf {mode!r}: expected one of {', '.join(MODES)}")
    return mode


def interior_doubt(coarse_probs: np.ndarray) -> float:
    """(K, H, W) probabilities → the share of pixels whose top-1 probability is below ``UNSURE_TOP1`` and that lie
    ``INTERIOR_DISTANCE`` px or more from every boundary of the argmax (both pixels of a label change are on it)."""
    top1, labels = torch.from_numpy(np.ascontiguousarray(coarse_probs, np.float32)).max(0)  # ~3x numpy's argmax
    return float(((top1.numpy() < UNSURE_TOP1) & (boundary_distance(labels.numpy()) >= INTERIOR_DISTANCE)).mean())


def boundary_distance(labels: np.ndarray) -> np.ndarray:
    """(H, W) labels → (H, W) float32 distance (px) to the nearest pixel on a label boundary (both pixels of a label
    change are on it; those are 0)."""
    on_boundary = np.zeros(labels.shape, bool)
    across, down = labels[:, 1:] != labels[:, :-1], labels[1:] != labels[:-1]
    on_boundary[:, 1:] |= across
    on_boundary[:, :-1] |= across
    on_boundary[1:] |= down
    on_boundary[:-1] |= down
    return cv2.distanceTransform((~on_boundary).astype(np.uint8), cv2.DIST_L2, 5)


def crf_mode(mode: str, image: np.ndarray, coarse_probs: np.ndarray | None, refined: np.ndarray) -> str | None:
    """Which CRF follows the refiner for one image in ``mode``: "always" (``AFTER_REFINER``), "strong" (DeepLab's)
    or None. ``coarse_probs``: the image's (K, H, W) coarse probabilities, None for a label mask (``auto`` leaves
    those to the refiner); ``refined``: the (k, H, W) refined probabilities."""
    if mode in ("never", "always", "strong"):
        return None if mode == "never" else mode
    if coarse_probs is None:
        return None
    return auto_choice(interior_doubt(coarse_probs), far_off_share(image, refined))


def auto_choice(doubt: float, far_off: float) -> str | None:
    """``auto``'s CRF from the coarse map's ``interior_doubt`` and the refined map's ``far_off_share``: "strong",
    "always" or None."""
    if far_off > (FAR_OFF_SHARE_SURE if doubt <= SURE_INSIDE else FAR_OFF_SHARE):
        return "strong"
    return "always" if doubt > INTERIOR_DOUBT else None


def crf_following(mode: str, image: np.ndarray, coarse_probs: np.ndarray | None, refined: np.ndarray
                  ) -> tuple[str | None, np.ndarray | None]:
    """The CRF that follows the refiner for one image in ``mode`` (``crf_mode``: "always", "strong" or None) and
    its (k, H, W) marginals (None when none follows)."""
    chosen = crf_mode(mode, image, coarse_probs, refined)
    return chosen, None if chosen is None else after_refiner(image, refined, chosen)
