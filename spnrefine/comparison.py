"""Coarse vs dense CRF vs guided filter vs SPN refiner on the same images, in one run."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .baselines import dense_crf, guided_filter
from .io.coarse import read_probability_map
from .io.images import read_image
from .io.masks import check_label_range, read_label_png
from .metrics import SegmentationMetrics

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (image, (K, H, W) probs) → (K, H, W)


def methods(refiner=None, include_crf: bool = True) -> dict[str, Method]:
    table: dict[str, Method] = {"coarse": lambda image, probs: probs}
    if include_crf:
        table["dense CRF"] = dense_crf
    table["guided filter"] = guided_filter
    if refiner is not None:
        table["SPN (ours)"] = refiner.refine
    return table


def compare(
    images: Path, masks: Path, coarse: Path, names: list[str], table: dict[str, Method],
    num_classes: int, ignore_index: int | None,
) -> list[dict]:
    """Rows of method, mIoU, boundary IoU, mBA (%), seconds per image (the method alone, no I/O)."""
    metrics = {name: SegmentationMetrics(num_classes, ignore_index) for name in table}
    seconds = dict.fromkeys(table, 0.0)
    for name in names:
        stem = Path(name).stem
        image = read_image(Path(images) / name)
        truth = check_label_range(read_label_png(Path(masks) / f"{stem}.png"), num_classes, ignore_index,
                                  Path(masks) / f"{stem}.png")
        probs = read_probability_map(Path(coarse) / f"{stem}.npy")
        for method, run in table.items():
            began = time.perf_counter()
            refined = run(image, probs)
            seconds[method] += time.perf_counter() - began
            metrics[method].update(np.asarray(refined).argmax(0), truth)
    rows = []
    for method in table:
        summary = metrics[method].summary()
        rows.append({"method": method, "miou": summary["miou"], "boundary_iou": summary["boundary_iou"],
                     "mba": summary["mba"], "seconds_per_image": round(seconds[method] / len(names), 4)})
    return rows


def format_rows(rows: list[dict]) -> list[str]:
    base = rows[0]
    lines = [f"{'method':<16}{'mIoU':>8}{'Δ':>8}{'bIoU':>8}{'Δ':>8}{'mBA':>8}{'Δ':>8}{'s/img':>9}"]
    for row in rows:
        cells = "".join(f"{row[key]:>8.2f}{row[key] - base[key]:>+8.2f}" for key in ("miou", "boundary_iou", "mba"))
        lines.append(f"{row['method']:<16}{cells}{row['seconds_per_image']:>9.3f}")
    return lines
