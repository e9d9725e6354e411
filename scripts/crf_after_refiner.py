"""Dense CRF run on a refiner's output (and the other order), beside each alone, on CamVid-labelled images.

    python scripts/crf_after_refiner.py --coarse runs/degraded_tune_strong/v0 runs/espnet --list runs/camvid_tune.txt

One run per coarse folder of (12, H, W) ``.npy`` probabilities: coarse, dense CRF, each refiner, refiner then CRF
(``--then-crf always`` and ``strong``; and CRF then ``camvid``), scored by
``spnrefine.evaluation.comparison.compare``; prints the rows and the per-class
IoU change against coarse. A tuning tool (model card): the held-out sequence 0006R0, never a val list.
"""

from __future__ import annotations

from pathlib import Path

from spnrefine.evaluation.baselines import dense_crf
from spnrefine.evaluation.comparison import CoarseSource, compare, format_per_class, format_rows, methods
from spnrefine.labels import CAMVID
from spnrefine.refiner import Refiner

from camvid_tuning import tuning_parser


def main() -> None:
    parser = tuning_parser(__doc__)
    parser.add_argument("--coarse", type=Path, nargs="+", required=True, help="folders of (12, H, W) .npy maps")
    args = parser.parse_args()
    names = args.list.read_text().split()
    refiners = {f"SPN {name}": Refiner.load(name) for name in ("camvid", "agnostic")}
    table = methods(refiners, include_crf=True, then_crf=("always", "strong"))
    del table["guided filter"]
    camvid = refiners["SPN camvid"]
    table["CRF, then SPN camvid"] = lambda image, probs, labels: camvid.refine(image, dense_crf(image, probs))
    for folder in args.coarse:
        rows, per_class = compare(args.images, args.masks, names, CoarseSource(folder), table, 11, 11)
        print(f"\n{folder} ({len(names)} images)")
        print("\n".join(format_rows(rows)))
        print("\n".join(format_per_class(per_class, list(CAMVID.class_names))))


if __name__ == "__main__":
    main()
