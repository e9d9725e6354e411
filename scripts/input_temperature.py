"""A refiner given its probability input at another temperature: mIoU and pole change against coarse per temperature.

    python scripts/input_temperature.py --list runs/camvid_tune.txt --coarse runs/degraded_tune/v0 runs/espnet \
        [--by-doubt]

Each (12, H, W) coarse map is raised to the power 1/T and renormalized before ``Refiner.refine`` (T > 1 softens,
T < 1 sharpens; T = 1 is the refiner as shipped). With ``--by-doubt``: also T = S only for the images whose coarse
map's interior doubt (``refiner.then_crf.interior_doubt``) exceeds d, T = 1 elsewhere: mIoU change against T = 1
per input, for each S among the temperatures above 1 and each d in ``DOUBT_THRESHOLDS``. CamVid label space, void
ignored. A tuning tool (model card, session 23): the held-out sequence 0006R0, never a val list.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.refiner import Refiner
from spnrefine.refiner.then_crf import interior_doubt
from spnrefine.training.data import at_temperature

from camvid_tuning import tuning_parser

CLASSES, VOID, POLE = 11, 11, 2
DOUBT_THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.05)


def main() -> None:
    parser = tuning_parser(__doc__)
    parser.add_argument("--coarse", nargs="+", required=True, help="folders of (12, H, W) .npy maps")
    parser.add_argument("--checkpoint", default="camvid")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.5, 0.7, 1.4, 2.0])
    parser.add_argument("--by-doubt", action="store_true", help="also T > 1 only for images with interior doubt")
    args = parser.parse_args()
    if args.by_doubt and 1.0 not in args.temperatures:
        parser.error("--by-doubt compares with T = 1: keep 1.0 among --temperatures")
    refiner = Refiner.load(args.checkpoint)
    names = args.list.read_text().split()
    softer = [t for t in args.temperatures if t > 1]
    for folder in args.coarse:
        keys = ["coarse", *args.temperatures] + [(t, d) for t in softer for d in DOUBT_THRESHOLDS] * args.by_doubt
        metrics = {key: SegmentationMetrics(CLASSES, VOID, boundary=False) for key in keys}
        for name in names:
            stem = Path(name).stem
            image, truth = read_image(args.images / name), read_label_png(args.masks / f"{stem}.png")
            probs = np.load(Path(folder) / f"{stem}.npy").astype(np.float32)
            doubt = interior_doubt(probs)
            metrics["coarse"].update(probs.argmax(0), truth)
            labels = {t: refiner.refine(image, at_temperature(probs, t)).argmax(0) for t in args.temperatures}
            for key in keys[1:]:
                temperature = key if not isinstance(key, tuple) else key[0] if doubt > key[1] else 1.0
                metrics[key].update(labels[temperature], truth)
        summary = {key: m.summary() for key, m in metrics.items()}
        base = summary["coarse"]
        cells = [f"T {t}: {summary[t]['miou'] - base['miou']:+.2f} (pole "
                 f"{summary[t]['per_class_iou'][str(POLE)] - base['per_class_iou'][str(POLE)]:+.2f})"
                 for t in args.temperatures]
        print(f"{folder} (coarse {base['miou']:.2f}): " + ", ".join(cells), flush=True)
        if args.by_doubt:
            one = summary[1.0]["miou"]
            print("  against T 1, T = S where interior doubt > d: " + ", ".join(
                f"S {t} d {d}: {summary[(t, d)]['miou'] - one:+.2f}" for t in softer for d in DOUBT_THRESHOLDS))


if __name__ == "__main__":
    main()
