"""Dataset-level segmentation metrics (confusion summed over images, mmseg convention).

Predictions outside [0, K) count as wrong for the ground-truth class and as no class's
prediction; ground-truth pixels equal to the ignore index count nowhere.
Boundary IoU follows Cheng et al. 2021: each class mask's band of width d = 2% of the
image diagonal inside its contour, intersected over union, summed over the dataset.
mBA (mean boundary accuracy) follows CascadePSP (Cheng et al. 2020): pixel accuracy within r of a
ground-truth label change, averaged over 5 radii from 1 to (H + W) / 300, then over images.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

BOUNDARY_DILATION_RATIO = 0.02


def mask_boundary(mask: np.ndarray, dilation_ratio: float = BOUNDARY_DILATION_RATIO) -> np.ndarray:
    """(H, W) bool → the pixels of ``mask`` within d of its contour (image border counts as contour)."""
    height, width = mask.shape
    d = max(1, int(round(dilation_ratio * np.hypot(height, width))))
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8), iterations=d)[1:-1, 1:-1]
    return mask & (eroded == 0)


BOUNDARY_ACCURACY_STEPS = 5


def boundary_accuracy(prediction: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float | None:
    """(H, W) labels and valid mask → accuracy in [0, 1] near ground-truth label changes (None: no change)."""
    height, width = truth.shape
    labels = truth.astype(np.uint16)
    max_radius = (width + height) / 300
    accuracies = []
    for step in range(BOUNDARY_ACCURACY_STEPS):
        radius = max(1, 1 + int((max_radius - 1) / BOUNDARY_ACCURACY_STEPS * step))
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        band = (cv2.dilate(labels, disk) != cv2.erode(labels, disk)) & valid
        if band.any():
            accuracies.append(np.count_nonzero(prediction[band] == truth[band]) / np.count_nonzero(band))
    return float(np.mean(accuracies)) if accuracies else None


@dataclass
class SegmentationMetrics:
    """Accumulates confusion and boundary counts over images; read results with :meth:`summary`."""

    num_classes: int
    ignore_index: int | None = None
    boundary: bool = True
    confusion: np.ndarray = field(init=False)  # (K, K+1): rows ground truth, last column "outside [0, K)"
    boundary_intersection: np.ndarray = field(init=False)
    boundary_union: np.ndarray = field(init=False)
    boundary_accuracies: list[float] = field(init=False, default_factory=list)  # per image, for mBA
    images: int = field(init=False, default=0)

    def __post_init__(self):
        k = self.num_classes
        self.confusion = np.zeros((k, k + 1), np.int64)
        self.boundary_intersection = np.zeros(k, np.int64)
        self.boundary_union = np.zeros(k, np.int64)

    def update(self, prediction: np.ndarray, truth: np.ndarray) -> None:
        """Add one image: (H, W) integer label maps; ground truth already checked to be in range."""
        k = self.num_classes
        if prediction.shape != truth.shape:
            raise ValueError(f"prediction {prediction.shape} and ground truth {truth.shape} differ in size")
        valid = truth != self.ignore_index if self.ignore_index is not None else np.ones(truth.shape, bool)
        pred = prediction.astype(np.int64)
        pred = np.where((pred >= 0) & (pred < k), pred, k)
        index = truth[valid].astype(np.int64) * (k + 1) + pred[valid]
        self.confusion += np.bincount(index, minlength=k * (k + 1)).reshape(k, k + 1)
        if self.boundary:
            for c in np.union1d(np.unique(truth[valid]), np.unique(pred[valid])):
                if c >= k:
                    continue
                gt_band = mask_boundary(truth == c) & valid
                pred_band = mask_boundary(pred == c) & valid
                self.boundary_intersection[c] += np.count_nonzero(gt_band & pred_band)
                self.boundary_union[c] += np.count_nonzero(gt_band | pred_band)
            accuracy = boundary_accuracy(prediction, truth, valid)
            if accuracy is not None:
                self.boundary_accuracies.append(accuracy)
        self.images += 1

    def merge(self, other: SegmentationMetrics) -> None:
        """Add another accumulator's counts (e.g. one image's) to these."""
        self.confusion += other.confusion
        self.boundary_intersection += other.boundary_intersection
        self.boundary_union += other.boundary_union
        self.boundary_accuracies += other.boundary_accuracies
        self.images += other.images

    def summary(self, class_names: list[str] | tuple[str, ...] | None = None) -> dict:
        """Percentages: miou, per_class_iou (name → value, NaN-free: classes absent everywhere are left
        out of means and reported as None), pixel_accuracy, mean_accuracy, boundary_iou, mba, and the
        confusion counts."""
        k = self.num_classes
        names = list(class_names) if class_names else [str(i) for i in range(k)]
        intersection = np.diag(self.confusion[:, :k]).astype(float)
        truth_area = self.confusion.sum(axis=1).astype(float)
        pred_area = self.confusion[:, :k].sum(axis=0).astype(float)
        union = truth_area + pred_area - intersection
        present = union > 0
        iou = np.where(present, intersection / np.maximum(union, 1), np.nan)
        has_truth = truth_area > 0
        accuracy = np.where(has_truth, intersection / np.maximum(truth_area, 1), np.nan)
        b_present = self.boundary_union > 0
        b_iou = np.where(b_present, self.boundary_intersection / np.maximum(self.boundary_union, 1), np.nan)

        def pct(value):
            return None if value is None or np.isnan(value) else round(float(value) * 100, 4)

        return {
            "images": self.images,
            "miou": pct(np.nanmean(iou)) if present.any() else None,
            "per_class_iou": {name: pct(v) for name, v in zip(names, iou)},
            "pixel_accuracy": pct(intersection.sum() / truth_area.sum()) if truth_area.sum() else None,
            "mean_accuracy": pct(np.nanmean(accuracy)) if has_truth.any() else None,
            "boundary_iou": pct(np.nanmean(b_iou)) if self.boundary and b_present.any() else None,
            "per_class_boundary_iou": {name: pct(v) for name, v in zip(names, b_iou)} if self.boundary else None,
            "mba": pct(np.mean(self.boundary_accuracies)) if self.boundary_accuracies else None,
            # pixel counts, rows = ground truth, columns = prediction, the last column = outside [0, K)
            "confusion": self.confusion.tolist(),
        }
