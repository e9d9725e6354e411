"""How much of a network's error lies on its own class boundaries (what a refiner could fix by moving them).

    python scripts/boundary_headroom.py --images-list ../shared/data/camvid/val.txt --coarse runs/espnet

For each radius r: the mIoU had every pixel within r of a label change of the coarse argmax (its
(2r + 1)² neighbourhood holds two labels) been set to the ground truth. Also how the coarse map ranks a thin
class at its true pixels (``--thin``, default pole). CamVid label space (12 channels, 11 = void).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masks", type=Path, default=Path("../shared/data/camvid/masks"))
    parser.add_argument("--images-list", type=Path, required=True, help="file names of the scored images")
    parser.add_argument("--coarse", type=Path, required=True, help="folder of (12, H, W) .npy probabilities")
    parser.add_argument("--radii", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--thin", type=int, default=2, help="class id whose ranking is reported (2: pole)")
    args = parser.parse_args()
    names = args.images_list.read_text().split()
    metrics = {r: SegmentationMetrics(CLASSES, VOID, boundary=False) for r in [0, *args.radii]}
    thin_probability, thin_rank = [], []
    for name in names:
        probs = np.load(args.coarse / f"{Path(name).stem}.npy").astype(np.float32)
        truth = read_label_png(args.masks / name)
        labels = probs.argmax(0).astype(np.uint8)
        for radius, accumulator in metrics.items():
            kernel = np.ones((2 * radius + 1,) * 2, np.uint8)
            band = cv2.dilate(labels, kernel) != cv2.erode(labels, kernel) if radius else np.zeros(labels.shape, bool)
            accumulator.update(np.where(band, truth, labels), truth)
        at_thin = truth == args.thin
        thin_probability.append(probs[args.thin][at_thin])
        thin_rank.append((probs[:, at_thin] > probs[args.thin][at_thin]).sum(0))
    names_of = CAMVID.class_names
    for radius, accumulator in metrics.items():
        summary = accumulator.summary(names_of)
        what = "coarse" if radius == 0 else f"boundary band r={radius} set right"
        small = ", ".join(f"{c} {summary['per_class_iou'][c]:.1f}" for c in ("pole", "sign_symbol", "pedestrian"))
        print(f"{what:<30} mIoU {summary['miou']:.2f}  ({small})")
    probability, rank = np.concatenate(thin_probability), np.concatenate(thin_rank)
    print(f"class {names_of[args.thin]} at its {probability.size} true pixels: median probability "
          f"{np.median(probability):.3f}, ranked first {np.mean(rank == 0):.0%}, second {np.mean(rank == 1):.0%}")


if __name__ == "__main__":
    main()
