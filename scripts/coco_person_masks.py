"""Person vs rest masks of coco128 for the person-map checks (scripts/tune_segmenter.sh).

    python scripts/coco_person_masks.py [--out runs/coco_person/masks]

Whole images, as scripts/person_crops.py makes its crops' truth: person 1, any other class 0, unlabeled 255 (ignored).
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from person_crops import DATA, coco_person_truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("runs/coco_person/masks"))
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    masks = sorted((DATA / "coco128/masks").glob("*.png"))
    for path in masks:
        Image.fromarray(coco_person_truth(np.asarray(Image.open(path)))).save(out / path.name)
    print(f"{len(masks)} masks in {out}")


if __name__ == "__main__":
    main()
