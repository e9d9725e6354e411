"""Write a backbone's probabilities on degraded copies of training images (training inputs for the refiner).

    python scripts/degraded_coarse.py --images DIR --list FILE --out DIR [--variants 3] [--seed 0] [--strength mild]

Variant i of image NAME goes to OUT/v{i}/STEM.npy as float16 (K, H, W). Deterministic per (seed, name, i).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spnrefine.backbones import load_backbone
from spnrefine.training.copies import write_coarse_copies
from spnrefine.training.degrade import DEGRADATIONS, degraded_probabilities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--list", type=Path, required=True, help="image file names, one per line")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--backbone", default="espnet-camvid")
    parser.add_argument("--weights", type=Path, default=Path("../shared/weights/espnet_camvid.pth"))
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strength", choices=sorted(DEGRADATIONS), default="mild",
                        help="mild: ESPNet near its val level; strong: near its level on unseen sequences")
    args = parser.parse_args()
    backbone = load_backbone(args.backbone, args.weights)
    names = [line.strip() for line in args.list.read_text().splitlines() if line.strip()]
    how = DEGRADATIONS[args.strength]
    write_coarse_copies(args.images, names, args.out, args.variants, args.seed,
                        lambda image, rng: degraded_probabilities(backbone, image, rng, how))


if __name__ == "__main__":
    main()
