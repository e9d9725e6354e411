"""Per-class decision offsets after a refiner, label = argmax_c (log p_c + b_c), fitted for mIoU; leave one input out.

    python scripts/class_offsets.py --list runs/camvid_tune.txt --input mild=runs/degraded_tune/v0 \
        --input strong=runs/degraded_tune_strong/v0 --input own=runs/espnet --input tta=runs/espnet_tta_tune \
        --input unseen=runs/unseen_tune --input blocks=runs/blocks_tune:runs/blocks_tune.txt

Each input is a folder of (12, H, W) ``.npy`` CamVid probabilities (optionally ``:LIST``, its own file names). The
refiner (``--refiner``, default ``camvid``; the product's path) refines every map; every second pixel along each axis
is kept. For each input in turn, offsets (b for the 11 classes; the void channel stays at 0) are fitted by
coordinate ascent on a grid to the mean mIoU of the other inputs, then scored on it: the mIoU change against the
refiner alone and the class that loses most. The inputs share their frames, so a held-out input is a new kind of coarse
map, not new images. A tuning tool (model card, session 29): 0006R0 only, never a val list.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.labels import CAMVID
from spnrefine.refiner import Refiner

from camvid_tuning import named_inputs, tuning_parser

CLASSES = 11  # scored; channel 11 (void) is a label the maps may choose, never scored
GRID = np.round(np.arange(-2, 2.0001, 0.05), 2)


def kept_pixels(refiner: Refiner, images: Path, masks: Path, folder: Path, names: list[str]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Refined log-probabilities (P, 12) and truth (P,) at every second pixel of every image, void truth left out."""
    log_probs, truths = [], []
    for name in names:
        coarse = np.load(folder / f"{Path(name).stem}.npy").astype(np.float32)
        refined = np.asarray(refiner.refine(read_image(images / name), coarse))[:, ::2, ::2]
        truth = read_label_png(masks / name)[::2, ::2]
        valid = truth != CLASSES
        log_probs.append(np.log(np.maximum(refined.transpose(1, 2, 0)[valid], 1e-6)))
        truths.append(truth[valid].astype(np.int64))
    return np.concatenate(log_probs), np.concatenate(truths)


def class_ious(confusion: np.ndarray) -> np.ndarray:
    """(G, 12, 12) confusions (rows truth) → (G, 11) IoU, NaN for a class absent from truth and labels: the
    grid sweep's scoring, many confusions at once (``scored`` checks a fit with ``SegmentationMetrics``)."""
    intersection = np.diagonal(confusion, axis1=-2, axis2=-1).astype(float)
    union = confusion.sum(-1) + confusion.sum(-2) - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1), np.nan)[..., :CLASSES]


def scored(log_probs: np.ndarray, truth: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(11,) IoU of the labels argmax(log_probs + offsets), as the project scores them (NaN: class absent)."""
    metrics = SegmentationMetrics(CLASSES, CLASSES, boundary=False)
    metrics.update((log_probs + offsets).argmax(1), truth)
    return np.array([np.nan if iou is None else iou / 100 for iou in metrics.summary()["per_class_iou"].values()])


def miou_along_grid(log_probs: np.ndarray, truth: np.ndarray, offsets: np.ndarray, c: int) -> np.ndarray:
    """mIoU for every grid value of class c's offset, the others fixed: (G,). A pixel takes c where its offset
    exceeds d = (best other score) − log p_c, so one histogram over d gives every grid value's confusion."""
    channels = log_probs.shape[1]
    others = log_probs + offsets
    others[:, c] = -np.inf
    runner = others.argmax(1)
    d = others[np.arange(len(truth)), runner] - log_probs[:, c]
    first = np.searchsorted(GRID, d, side="right")  # labelled c from this grid index on
    moved = np.bincount((first * channels + truth) * channels + runner,
                        minlength=(len(GRID) + 1) * channels ** 2).reshape(-1, channels, channels)
    moved_by = np.cumsum(moved, 0)[:len(GRID)]
    confusion = moved.sum(0)[None] - moved_by
    confusion[:, :, c] += moved_by.sum(2)
    return np.nanmean(class_ious(confusion), 1)


def fitted(inputs: list[tuple[np.ndarray, np.ndarray]], channels: int, passes: int = 4) -> np.ndarray:
    """Offsets (channels,) maximizing the mean mIoU over ``inputs`` by coordinate ascent (ties: the smallest)."""
    offsets = np.zeros(channels, np.float32)
    for _ in range(passes):
        for c in range(CLASSES):
            score = np.mean([miou_along_grid(lp, t, offsets, c) for lp, t in inputs], 0)
            best = np.flatnonzero(score >= score.max() - 1e-12)
            offsets[c] = GRID[best[np.argmin(np.abs(GRID[best]))]]
    return offsets


def main() -> None:
    parser = tuning_parser(__doc__)
    parser.add_argument("--input", action="append", required=True, help="NAME=FOLDER[:LIST] of .npy maps")
    parser.add_argument("--refiner", default="camvid", help="a shipped name or a checkpoint file")
    args = parser.parse_args()
    refiner = Refiner.load(args.refiner)
    data = {name: kept_pixels(refiner, args.images, args.masks, folder, names)
            for name, (folder, names) in named_inputs(args.input, args.list).items()}
    channels = next(iter(data.values()))[0].shape[1]
    for held, (log_probs, truth) in data.items():
        offsets = fitted([v for k, v in data.items() if k != held], channels)
        before, after = scored(log_probs, truth, np.zeros(channels)), scored(log_probs, truth, offsets)
        change = (after - before) * 100
        worst = int(np.nanargmin(change))
        miou_before, miou_after = np.nanmean(before) * 100, np.nanmean(after) * 100
        print(f"{held:8s} {miou_before:6.2f} → {miou_after:6.2f} ({miou_after - miou_before:+.2f}; "
              f"{CAMVID.class_names[worst]} {change[worst]:+.2f})  "
              f"offsets {' '.join(f'{b:+.2f}' for b in offsets[:CLASSES])}")


if __name__ == "__main__":
    main()
