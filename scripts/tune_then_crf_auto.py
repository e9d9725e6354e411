"""Which images should `--then-crf auto` send to dense CRF? Doubt measures of the coarse map against the gain of
refiner-then-CRF over the refiner alone, per image, on CamVid-labelled tuning inputs (the held-out sequence 0006R0).

    python scripts/tune_then_crf_auto.py --list runs/camvid_tune.txt --out runs/s23/doubt.json \
        --coarse runs/degraded_tune/v0 runs/degraded_tune_strong/v0 runs/espnet runs/espnet_tta_tune \
        --check runs/unseen_tune

Per image: four doubt measures of the (12, H, W) coarse probabilities (no ground truth), and the confusion counts
(`SegmentationMetrics`, void ignored) of coarse, `camvid` and `agnostic` alone and each followed by the CRF `auto`
runs (``then_crf.after_refiner``; session 23 ran DeepLab's full weight, its caches hold that). Then
per measure and threshold: the mIoU change of `auto` against the refiner alone on each input (CRF on the images the
measure calls unsure) and how many images it sent. The measure is chosen on the ``--coarse`` inputs with `camvid`:
best mean change with none below −0.10 (session 23's rule, model card); ``--check`` inputs and `agnostic` are
reported, not used. ``--out`` caches the per-image rows: an existing file is read instead of recomputed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.refiner import Refiner
from spnrefine.refiner.then_crf import after_refiner, interior_doubt

from camvid_tuning import tuning_parser

CLASSES, VOID = 11, 11
REFINERS = ("camvid", "agnostic")
MEASURES = {  # name: (row key, unsure when below (-1) or above (+1) the threshold, thresholds)
    "mean top-1 <": ("top1", -1, (0.88, 0.90, 0.92, 0.93, 0.94, 0.95, 0.96)),
    "share top-1 < 0.5 >": ("low50", 1, (0.005, 0.01, 0.02, 0.03, 0.05, 0.08)),
    "mean top-1 - top-2 <": ("margin", -1, (0.80, 0.84, 0.86, 0.88, 0.90, 0.92)),
    "interior doubt >": ("interior", 1, (0.005, 0.01, 0.02, 0.03, 0.05, 0.08)),
}


def doubt(probs: np.ndarray) -> dict[str, float]:
    """(K, H, W) probabilities → the four measures, over all pixels."""
    ordered = np.sort(probs, 0)
    return {"top1": float(ordered[-1].mean()), "low50": float((ordered[-1] < 0.5).mean()),
            "margin": float((ordered[-1] - ordered[-2]).mean()), "interior": interior_doubt(probs)}


def per_image_rows(images: Path, masks: Path, names: list[str], folders: list[str]) -> list[dict]:
    refiners = {name: Refiner.load(name) for name in REFINERS}
    rows = []
    for folder in folders:
        for name in names:
            stem = Path(name).stem
            image, truth = read_image(images / name), read_label_png(masks / f"{stem}.png")
            probs = np.load(Path(folder) / f"{stem}.npy").astype(np.float32)
            row = {"input": folder, "name": name, **doubt(probs), "coarse": confusion(probs, truth)}
            for label, refiner in refiners.items():
                refined = refiner.refine(image, probs)
                row[f"{label} alone"] = confusion(refined, truth)
                row[f"{label}, then CRF"] = confusion(after_refiner(image, refined), truth)
            rows.append(row)
        print(folder, "done", flush=True)
    return rows


def confusion(probs: np.ndarray, truth: np.ndarray) -> list[list[int]]:
    """One image's (classes, classes + 1) confusion counts of the argmax against the truth, void ignored."""
    metrics = SegmentationMetrics(CLASSES, VOID, boundary=False)
    metrics.update(probs.argmax(0), truth)
    return metrics.confusion.tolist()


def miou(rows: list[dict], method_of) -> float:
    """mIoU (%) over the images of ``rows``, each scored by the method ``method_of(row)`` names."""
    metrics = SegmentationMetrics(CLASSES, VOID, boundary=False)
    metrics.confusion += np.sum([row[method_of(row)] for row in rows], axis=0, dtype=np.int64)
    return metrics.summary()["miou"]


def auto_change(rows: list[dict], refiner: str, key: str, sign: int, threshold: float) -> tuple[float, int]:
    """mIoU of `auto` minus the refiner alone, and how many images went to CRF."""
    def unsure(row):
        return row[key] < threshold if sign < 0 else row[key] > threshold
    alone = miou(rows, lambda row: f"{refiner} alone")
    auto = miou(rows, lambda row: f"{refiner}, then CRF" if unsure(row) else f"{refiner} alone")
    return auto - alone, sum(map(unsure, rows))


def main() -> None:
    parser = tuning_parser(__doc__)
    parser.add_argument("--coarse", nargs="+", required=True, help="folders of .npy maps the measure is chosen on")
    parser.add_argument("--check", nargs="*", default=[], help="folders of .npy maps only reported")
    parser.add_argument("--out", type=Path, required=True, help="per-image rows (JSON), reused when present")
    args = parser.parse_args()
    if args.out.exists():
        rows = json.loads(args.out.read_text())
    else:
        rows = per_image_rows(args.images, args.masks, args.list.read_text().split(), args.coarse + args.check)
        args.out.write_text(json.dumps(rows))
    by_input = {folder: [row for row in rows if row["input"] == folder] for folder in args.coarse + args.check}
    for folder, inputs in by_input.items():
        base = miou(inputs, lambda row: "coarse")
        changes = " ".join(f"{label} alone {miou(inputs, lambda row: f'{label} alone') - base:+.2f}, then CRF "
                           f"{miou(inputs, lambda row: f'{label}, then CRF') - base:+.2f};" for label in REFINERS)
        medians = " ".join(f"{key} {np.median([row[key] for row in inputs]):.3f}" for key, _, _ in MEASURES.values())
        print(f"{folder}: coarse {base:.2f}; {changes} medians: {medians}")
    print("\nauto - alone, mIoU (images sent to CRF); chosen on", ", ".join(args.coarse), "with camvid")
    best = None
    for measure, (key, sign, thresholds) in MEASURES.items():
        for threshold in thresholds:
            chosen_on = [auto_change(by_input[folder], "camvid", key, sign, threshold) for folder in args.coarse]
            score, allowed = np.mean([change for change, _ in chosen_on]), min(c for c, _ in chosen_on) >= -0.10
            reported = [auto_change(by_input[folder], "camvid", key, sign, threshold) for folder in args.check]
            reported += [auto_change(by_input[folder], "agnostic", key, sign, threshold) for folder in by_input]
            print(f"{measure:21s} {threshold:<6} " + " ".join(f"{c:+.2f} ({n:3d})" for c, n in chosen_on)
                  + f"  mean {score:+.3f} {'allowed' if allowed else '-------'} | "
                  + " ".join(f"{c:+.2f} ({n:3d})" for c, n in reported))
            if allowed and (best is None or score > best[0] + 0.02):
                best = (score, measure, threshold)
    print("\nchosen:", "none allowed" if best is None else f"{best[1]} {best[2]} (mean {best[0]:+.3f})")


if __name__ == "__main__":
    main()
