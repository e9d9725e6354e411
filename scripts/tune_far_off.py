"""Which images should `--then-crf auto` send to DeepLab's CRF after the refiner? How far the refined map is off the
image, measured by a quick dense CRF at 1/4 size, against the gain of that CRF over the refiner alone, per image, on
CamVid-labelled tuning inputs (the held-out sequence 0006R0; session 34, rules 37-38 in the model card).

    python scripts/tune_far_off.py --list runs/camvid_tune.txt --out runs/s34/far_off.json \
        --input mild=runs/degraded_tune/v0 --input strong=runs/degraded_tune_strong/v0 --input own=runs/espnet \
        --input tta=runs/espnet_tta_tune --input unseen=runs/unseen_tune --input noisy=runs/noisy_tune/v0 \
        --input blocks=runs/blocks_tune:runs/blocks_tune.txt

Per image and refiner (`camvid`, `agnostic`; the product's path): confusion counts of the refiner alone, followed by
the weak CRF (``AFTER_REFINER``) and by DeepLab's (``strong``), and three shares of the low-resolution CRF's
relabelled pixels: all of them (``then_crf.far_off_share``, "relabel"), those not on a boundary of the low-resolution
argmax ("off"), those 2 px or more from one ("inner"); and the coarse map's interior doubt. Then per measure and
threshold: the mIoU change against the refiner alone of DeepLab's CRF where the measure exceeds the threshold, on
every (refiner, input) pair, and the same combined with session 28's weak CRF on interior doubt; then (rule 40) only
where the coarse map's interior doubt is at most D as well; and ``auto`` as shipped (rule 44, session 35: DeepLab's CRF
where the measure > 0.08, or > 0.05 where the interior doubt is at most 0.01). ``--hard`` gives
each map's argmax as a label mask instead (``Refiner.refine_labels``, as ``refine`` reads label PNGs; rule 39).
``--out`` caches the rows (resumable: images already there are not redone).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.refiner import Refiner
from spnrefine.refiner.then_crf import (FAR_OFF_SHARE, FAR_OFF_SHARE_SURE, INTERIOR_DOUBT, SURE_INSIDE, after_refiner,
                                        auto_choice, boundary_distance, far_off_labels, interior_doubt)

from camvid_tuning import named_inputs, tuning_parser
from tune_then_crf_auto import confusion, miou

REFINERS = ("camvid", "agnostic")
MEASURES = ("relabel", "off", "inner")
THRESHOLDS = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08)


def relabel_shares(image: np.ndarray, refined: np.ndarray) -> dict[str, float]:
    """(H, W, 3) uint8 and (K, H, W) → the three shares of pixels the low-resolution CRF relabels ("relabel" is
    ``then_crf.far_off_share``)."""
    before, after = far_off_labels(image, refined)
    changed, distance = after != before, boundary_distance(before)
    return {"relabel": float(changed.mean()), "off": float((changed & (distance >= 1)).mean()),
            "inner": float((changed & (distance >= 2)).mean())}


def add_rows(rows: list[dict], args, inputs: dict[str, tuple[Path, list[str]]]) -> None:
    """Appends the rows not yet in ``rows``, saving ``args.out`` every 20 images."""
    done = {(row["input"], row["name"]) for row in rows}
    refiners = {name: Refiner.load(name) for name in REFINERS}
    for label, (folder, names) in inputs.items():
        for name in names:
            if (label, name) in done:
                continue
            stem = Path(name).stem
            image, truth = read_image(args.images / name), read_label_png(args.masks / f"{stem}.png")
            probs = np.load(folder / f"{stem}.npy").astype(np.float32)
            row = {"input": label, "name": name, "interior": interior_doubt(probs), "coarse": confusion(probs, truth)}
            for refiner_name, refiner in refiners.items():
                if args.hard:
                    refined = refiner.refine_labels(image, probs.argmax(0), probs.shape[0])
                else:
                    refined = refiner.refine(image, probs)
                row.update({f"{refiner_name} {k}": v for k, v in relabel_shares(image, refined).items()})
                row[f"{refiner_name} alone"] = confusion(refined, truth)
                row[f"{refiner_name} weak"] = confusion(after_refiner(image, refined), truth)
                row[f"{refiner_name} strong"] = confusion(after_refiner(image, refined, "strong"), truth)
            rows.append(row)
            if len(rows) % 20 == 0:
                args.out.write_text(json.dumps(rows))
        args.out.write_text(json.dumps(rows))
        print(label, "done", flush=True)


def change(rows: list[dict], refiner: str, pick) -> float:
    """mIoU of the method ``pick(row)`` names (a suffix of the refiner's keys) minus the refiner alone's."""
    return miou(rows, lambda row: f"{refiner} {pick(row)}") - miou(rows, lambda row: f"{refiner} alone")


def report(by_input: dict[str, list[dict]]) -> None:
    print("input images | coarse mIoU | change: camvid alone, weak, strong | agnostic alone, weak, strong")
    for label, rows in by_input.items():
        base = miou(rows, lambda row: "coarse")
        parts = [" ".join(f"{miou(rows, lambda row, k=f'{r} {m}': k) - base:+.2f}" for m in ("alone", "weak", "strong"))
                 for r in REFINERS]
        print(f"{label} {len(rows)} | {base:.2f} | {parts[0]} | {parts[1]}")
    pairs = [(r, label) for r in REFINERS for label in by_input]
    print("\nDeepLab's CRF where the measure > threshold, against the refiner alone (images sent); pairs:",
          ", ".join(f"{r}:{label}" for r, label in pairs))
    for measure in MEASURES:
        for threshold in THRESHOLDS:
            def far(row, r):
                return row[f"{r} {measure}"] > threshold
            cells = [(change(by_input[label], r, lambda row: "strong" if far(row, r) else "alone"),
                      sum(far(row, r) for row in by_input[label])) for r, label in pairs]
            combined = [change(by_input[label], r, lambda row: "strong" if far(row, r) else
                               "weak" if row["interior"] > INTERIOR_DOUBT else "alone") for r, label in pairs]
            values = [c for c, _ in cells]
            print(f"{measure:7s} {threshold:<6} mean {np.mean(values):+.3f} worst {min(values):+.2f} | "
                  + " ".join(f"{c:+.2f} ({n})" for c, n in cells)
                  + f" | with the weak CRF on inner doubt: mean {np.mean(combined):+.3f} worst {min(combined):+.2f}")
    print("\nDeepLab's CRF where relabel > T and interior doubt <= D, else the weak CRF on inner doubt (rule 40)")
    for threshold in (0.03, 0.05, 0.08):
        for most in (0.002, 0.005, 0.01, 0.02, np.inf):
            def pick(row, r):
                if row[f"{r} relabel"] > threshold and row["interior"] <= most:
                    return "strong"
                return "weak" if row["interior"] > INTERIOR_DOUBT else "alone"
            values = [change(by_input[label], r, lambda row: pick(row, r)) for r, label in pairs]
            print(f"T {threshold:<5} D {most:<6} mean {np.mean(values):+.3f} worst {min(values):+.2f} | "
                  + " ".join(f"{v:+.2f}" for v in values))
    def shipped(row, r):
        return {"strong": "strong", "always": "weak", None: "alone"}[auto_choice(row["interior"], row[f"{r} relabel"])]
    values = [change(by_input[label], r, lambda row: shipped(row, r)) for r, label in pairs]
    print(f"auto as shipped (rule 44: relabel > {FAR_OFF_SHARE}, or > {FAR_OFF_SHARE_SURE} where interior doubt <= "
          f"{SURE_INSIDE}): mean {np.mean(values):+.3f} worst {min(values):+.2f} | "
          + " ".join(f"{v:+.2f}" for v in values))
    weak_only = [change(by_input[label], r, lambda row: "weak" if row["interior"] > INTERIOR_DOUBT else "alone")
                 for r, label in pairs]
    print(f"session 28's auto (weak CRF on inner doubt only): mean {np.mean(weak_only):+.3f} | "
          + " ".join(f"{c:+.2f}" for c in weak_only))


def main() -> None:
    parser = tuning_parser(__doc__)
    parser.add_argument("--input", action="append", required=True, help="NAME=FOLDER[:LIST] of .npy maps")
    parser.add_argument("--out", type=Path, required=True, help="per-image rows (JSON), resumed when present")
    parser.add_argument("--hard", action="store_true", help="each map's argmax as a label mask")
    args = parser.parse_args()
    inputs = named_inputs(args.input, args.list)
    rows = json.loads(args.out.read_text()) if args.out.exists() else []
    add_rows(rows, args, inputs)
    report({label: [row for row in rows if row["input"] == label] for label in inputs})


if __name__ == "__main__":
    main()
