"""Write a backbone's probabilities on degraded copies of training images (training inputs for the refiner).

    python scripts/degraded_coarse.py --images DIR --list FILE --out DIR [--variants 3] [--seed 0] [--strength mild]

Variant i of image NAME goes to OUT/v{i}/STEM.npy as float16 (K, H, W). Deterministic per (seed, name, i).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
from tqdm import tqdm

from spnrefine.backbones import load_backbone
from spnrefine.io.images import read_image
from spnrefine.io.writers import write_npy
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
    for name in tqdm(names, unit="img"):
        image = read_image(args.images / name)
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
        for variant in range(args.variants):
            path = args.out / f"v{variant}" / f"{Path(name).stem}.npy"
            if path.is_file():
                continue
            rng = np.random.default_rng([args.seed, key, variant])
            probs = degraded_probabilities(backbone, image, rng, DEGRADATIONS[args.strength])
            write_npy(path, probs.astype(np.float16))


if __name__ == "__main__":
    main()
