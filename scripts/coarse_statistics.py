"""Error statistics of coarse masks against ground truth: are the training inputs like real network errors?

    python scripts/coarse_statistics.py --images DIR --masks DIR --list FILE --coarse DIR|synth [--seed 0]

Prints coarse mIoU, mBA, the error-band width (median distance of wrong pixels to the nearest ground-truth
label change, in pixels) and the small-object miss rate (ground-truth connected components under 0.5% of
the image that the coarse labels cover less than half of). CamVid label space (12 channels, 11 = void).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.masks import read_label_png
from spnrefine.training.synth import synthesize_coarse

CLASSES, VOID = 11, 11


def error_distances(prediction: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Distance (px) of each wrong, non-void pixel to the nearest ground-truth label change."""
    change = np.zeros(truth.shape, bool)
    change[1:] |= truth[1:] != truth[:-1]
    change[:, 1:] |= truth[:, 1:] != truth[:, :-1]
    distance = cv2.distanceTransform((~change).astype(np.uint8), cv2.DIST_L2, 3)
    return distance[(prediction != truth) & (truth != VOID)]


def small_objects(prediction: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    """(missed, total) ground-truth components under 0.5% of the image."""
    missed = total = 0
    limit = 0.005 * truth.size
    for c in range(CLASSES):
        count, components, stats, _ = cv2.connectedComponentsWithStats((truth == c).astype(np.uint8), connectivity=8)
        for i in range(1, count):
            if 20 <= stats[i, cv2.CC_STAT_AREA] < limit:
                total += 1
                inside = components == i
                missed += np.count_nonzero(prediction[inside] == c) < 0.5 * np.count_nonzero(inside)
    return missed, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masks", type=Path, required=True)
    parser.add_argument("--list", type=Path, required=True)
    parser.add_argument("--coarse", required=True, help="folder of (12, H, W) .npy, or 'synth'")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    metrics = SegmentationMetrics(CLASSES, VOID)
    distances, missed, total = [], 0, 0
    rng = np.random.default_rng(args.seed)
    for name in args.list.read_text().split():
        truth = read_label_png(args.masks / f"{Path(name).stem}.png")
        if args.coarse == "synth":
            probs = synthesize_coarse(truth.clip(0, CLASSES), CLASSES + 1, rng)
        else:
            probs = np.load(Path(args.coarse) / f"{Path(name).stem}.npy")
        prediction = probs.argmax(0)
        metrics.update(prediction, truth)
        distances.append(error_distances(prediction, truth))
        m, t = small_objects(prediction, truth)
        missed, total = missed + m, total + t
    summary = metrics.summary()
    band = np.concatenate(distances)
    print(f"images {summary['images']}  mIoU {summary['miou']:.2f}  mBA {summary['mba']:.2f}  "
          f"error band median {np.median(band):.1f} px (90th pct {np.percentile(band, 90):.1f})  "
          f"small objects missed {missed}/{total} ({100 * missed / max(total, 1):.0f}%)")


if __name__ == "__main__":
    main()
