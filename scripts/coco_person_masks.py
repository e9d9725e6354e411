"""Person vs rest masks of coco128 for the person-map checks (scripts/tune_segmenter.sh).

    python scripts/coco_person_masks.py [--out runs/coco_person/masks]

COCO panoptic category 1 (person) → 1, every other labelled pixel → 0, unlabeled (0) → 255 (ignored).
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

COCO = Path("../shared/data/coco128")
PERSON, UNLABELED, IGNORED = 1, 0, 255


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("runs/coco_person/masks"))
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    masks = sorted((COCO / "masks").glob("*.png"))
    for path in masks:
        ids = np.asarray(Image.open(path))
        person = np.where(ids == UNLABELED, IGNORED, ids == PERSON).astype(np.uint8)
        Image.fromarray(person).save(out / path.name)
    print(f"{len(masks)} masks in {out}")


if __name__ == "__main__":
    main()
