"""Images as another camera would take them, and a backbone's probabilities on them (a tuning input where the
segmenter and the refiner see the same shifted image, as a user's would).

    python scripts/camera_shift_copies.py --images DIR --list FILE --out DIR [--seed 0]

Each image is shifted at its size with every part of the strong degradation (``training.degrade.STRONG``: contrast,
brightness, channel gains, gamma, blur, noise, JPEG), drawn from its own generator (seed, name): OUT/images/NAME as
PNG, and the backbone's (K, H, W) softmax on it in OUT/maps/STEM.npy (float16). Files that exist are skipped.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from spnrefine.backbones import load_backbone, predict_probabilities
from spnrefine.cli.options import list_names
from spnrefine.io.images import read_image
from spnrefine.io.writers import write_image, write_npy
from spnrefine.training.copies import copy_generator, copy_writer_parser
from spnrefine.training.degrade import STRONG, degrade_image

CAMERA = replace(STRONG, scale=(1.0, 1.0), chance=1.0)


def main() -> None:
    args = copy_writer_parser(__doc__.splitlines()[0]).parse_args()
    backbone = load_backbone(args.backbone, args.weights)
    for name in tqdm(list_names(args.list, args.images), unit="img"):
        image_path, map_path = args.out / "images" / name, args.out / "maps" / f"{Path(name).stem}.npy"
        if image_path.is_file() and map_path.is_file():
            continue
        shifted = degrade_image(read_image(args.images / name), copy_generator(args.seed, name, 0), CAMERA)
        write_npy(map_path, predict_probabilities(backbone, [shifted])[0].cpu().numpy().astype(np.float16))
        write_image(image_path, shifted)


if __name__ == "__main__":
    main()
