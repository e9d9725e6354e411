"""How much of a network's error lies on its own class boundaries (what a refiner could fix by moving them).

    python scripts/boundary_headroom.py --images-list ../shared/data/camvid/val.txt --coarse runs/espnet \
        [--radii 1 2 4 8 16] [--refined DIR]

For each radius r: the mIoU had every pixel within r of a label change of the coarse argmax (its
(2r + 1)² neighbourhood holds two labels) been set to the ground truth ("band r"); and had a pixel been set right
only where its true class is a coarse label within r ("true class within r": what an ideal propagation of the
coarse labels over r px could reach). With ``--refined`` (a refiner's label PNGs for the same images): the refiner's labels kept only
in each band, coarse labels elsewhere — how its gain splits by distance from the coarse boundaries. Also how the
coarse map ranks a thin class at its true pixels (``--thin``, default pole). CamVid label space (12 channels,
11 = void; a void prediction counts as wrong, as in `spnrefine benchmark`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.masks import read_label_png
from spnrefine.labels import CAMVID

CLASSES, VOID = 11, 11


def boundary_band(labels: np.ndarray, radius: int) -> np.ndarray:
    """(H, W) uint8 labels → (H, W) bool: pixels whose (2r + 1)² neighbourhood holds two labels."""
    kernel = np.ones((2 * radius + 1,) * 2, np.uint8)
    return cv2.dilate(labels, kernel) != cv2.erode(labels, kernel)


def true_class_nearby(labels: np.ndarray, truth: np.ndarray, radius: int) -> np.ndarray:
    """(H, W) bool: the pixel's true class is a coarse label somewhere in its (2r + 1)² neighbourhood."""
    kernel = np.ones((2 * radius + 1,) * 2, np.uint8)
    nearby = np.zeros(labels.shape, bool)
    for c in np.unique(truth):
        if c < CLASSES:
            nearby |= (truth == c) & (cv2.dilate((labels == c).astype(np.uint8), kernel) > 0)
    return nearby


def read_refined(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A refiner's (H, W) label PNG, checked to exist and to have the ground truth's size."""
    if not path.is_file():
        raise SystemExit(f"{path}: no refined mask for this image")
    labels = read_label_png(path)
    if labels.shape != shape:
        raise SystemExit(f"{path}: size {labels.shape} differs from the ground truth's {shape}")
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masks", type=Path, default=Path("../shared/data/camvid/masks"))
    parser.add_argument("--images-list", type=Path, required=True, help="file names of the scored images")
    parser.add_argument("--coarse", type=Path, required=True, help="folder of (12, H, W) .npy probabilities")
    parser.add_argument("--radii", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--refined", type=Path, help="folder of a refiner's label PNGs for the same images")
    parser.add_argument("--thin", type=int, default=2, help="class id whose ranking is reported (2: pole)")
    args = parser.parse_args()
    names = args.images_list.read_text().split()
    rows = ["coarse"] + (["refined"] if args.refined else [])
    for r in args.radii:
        rows += [f"band r={r} set right", f"true class within r={r}"]
        rows += [f"refined within band r={r}"] if args.refined else []
    metrics = {row: SegmentationMetrics(CLASSES, VOID, boundary=False) for row in rows}
    thin_probability, thin_rank = [], []
    for name in names:
        probs = np.load(args.coarse / f"{Path(name).stem}.npy").astype(np.float32)
        truth = read_label_png(args.masks / name)
        labels = probs.argmax(0).astype(np.uint8)
        metrics["coarse"].update(labels, truth)
        refined = read_refined(args.refined / f"{Path(name).stem}.png", truth.shape) if args.refined else None
        if refined is not None:
            metrics["refined"].update(refined, truth)
        for r in args.radii:
            band = boundary_band(labels, r)
            metrics[f"band r={r} set right"].update(np.where(band, truth, labels), truth)
            metrics[f"true class within r={r}"].update(
                np.where(true_class_nearby(labels, truth, r), truth, labels), truth)
            if refined is not None:
                metrics[f"refined within band r={r}"].update(np.where(band, refined, labels), truth)
        at_thin = truth == args.thin
        thin_probability.append(probs[args.thin][at_thin])
        thin_rank.append((probs[:, at_thin] > probs[args.thin][at_thin]).sum(0))
    names_of = CAMVID.class_names
    base = metrics["coarse"].summary(names_of)["miou"]
    for row, accumulator in metrics.items():
        summary = accumulator.summary(names_of)
        small = ", ".join(f"{c} {summary['per_class_iou'][c]:.1f}" for c in ("pole", "sign_symbol", "pedestrian"))
        print(f"{row:<28} mIoU {summary['miou']:.2f} ({summary['miou'] - base:+.2f})  ({small})")
    probability, rank = np.concatenate(thin_probability), np.concatenate(thin_rank)
    print(f"class {names_of[args.thin]} at its {probability.size} true pixels: median probability "
          f"{np.median(probability):.3f}, ranked first {np.mean(rank == 0):.0%}, second {np.mean(rank == 1):.0%}")


if __name__ == "__main__":
    main()
