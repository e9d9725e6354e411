"""Read label masks: single-channel label PNGs and palette PNGs (values are class ids)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SpnrefineError
from .images import open_image


def read_label_png(path: str | Path) -> np.ndarray:
    """(H, W) int64 class ids from an 8/16-bit single-channel or palette image."""
    path = Path(path)
    return labels_from_image(open_image(path, upright=False), path)  # masks stay as label tools wrote them


def labels_from_image(image, path) -> np.ndarray:
    """A decoded single-channel or palette PIL image → (H, W) int64 ids; other modes: an error naming the file."""
    if image.mode not in ("L", "P", "I", "I;16", "I;16B", "I;16L"):
        raise SpnrefineError(
            f"{path}: a label mask must be single-channel or palette (one class id per pixel), got mode "
            f"{image.mode}; colour-coded masks need a palette (see `spnrefine refine --palette`)"
        )
    return np.asarray(image).astype(np.int64)


def check_label_range(labels: np.ndarray, num_classes: int, ignore_index: int | None, path, clip: bool = False):
    """Labels outside [0, K) that are not the ignore index: an error naming the file, or clipped to ignore."""
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if not bad.any():
        return labels
    if clip:
        if ignore_index is None:
            raise SpnrefineError(f"{path}: --clip needs an ignore index to map out-of-range labels to")
        return np.where(bad, ignore_index, labels)
    values = np.unique(labels[bad])[:10].tolist()
    ignored = f" and are not the ignore index {ignore_index}" if ignore_index is not None else ""
    raise SpnrefineError(
        f"{path}: labels {values} are outside [0, {num_classes}){ignored} ({int(bad.sum())} pixels). "
        "Check --num-classes and --ignore-index, or pass --clip to ignore such pixels."
    )
