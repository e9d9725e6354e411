"""Write a backbone's probabilities on degraded copies of training images (training inputs for the refiner).

    python scripts/degraded_coarse.py --images DIR --list FILE --out DIR [--variants 3] [--seed 0] [--strength mild]

Variant i of image NAME goes to OUT/v{i}/STEM.npy as float16 (K, H, W). Deterministic per (seed, name, i).
"""

from __future__ import annotations

from spnrefine.backbones import load_backbone
from spnrefine.cli.options import list_names
from spnrefine.training.copies import copy_writer_parser, write_coarse_copies
from spnrefine.training.degrade import DEGRADATIONS, degraded_probabilities


def main() -> None:
    parser = copy_writer_parser(__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--strength", choices=sorted(DEGRADATIONS), default="mild",
                        help="mild: ESPNet near its val level; strong: near its level on unseen sequences")
    args = parser.parse_args()
    backbone = load_backbone(args.backbone, args.weights)
    names = list_names(args.list, args.images)
    how = DEGRADATIONS[args.strength]
    write_coarse_copies(args.images, names, args.out, args.variants, args.seed,
                        lambda image, rng: degraded_probabilities(backbone, image, rng, how))


if __name__ == "__main__":
    main()
