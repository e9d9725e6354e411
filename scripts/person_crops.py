"""Close-up person images for a selfie segmenter: portrait crops around single people, at native resolution.

    python scripts/person_crops.py [--out runs/person_crops]

MediaPipe's selfie models are made for close-ups, and the issue's person photos are portraits; whole pennfudan
and coco128 scenes are neither (small pedestrians, crowds). Each person instance with at least 3,000 pixels
(pennfudan) or a non-crowd person segment of at least 15,000 pixels (coco128) gives one crop: its bounding box
grown by 15% on every side, widened to 2:3 (width:height) when narrower, clipped to the image; no resizing.
The crop's ground truth is every person in it (coco128: unlabeled pixels → 255, ignored). Per list (train,
val) of each dataset: OUT/{pennfudan,coco}_{train,val}/images/STEM_pK.png, masks/STEM_pK.png, list.txt.
Then per folder: ``mpenv/bin/python scripts/mediapipe_masks.py F/images F/list.txt F/mp0 --model 0`` (and 1).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path("../shared/data")
COCO_PERSON, COCO_UNLABELED = 1, 0


def portrait_box(rows: np.ndarray, cols: np.ndarray, height: int, width: int) -> tuple[slice, slice]:
    """Pixel coordinates of one person → the crop's (rows, cols) in an image of height × width."""
    top, bottom, left, right = rows.min(), rows.max() + 1.0, cols.min(), cols.max() + 1.0
    grow_y, grow_x = 0.15 * (bottom - top), 0.15 * (right - left)
    top, bottom, left, right = top - grow_y, bottom + grow_y, left - grow_x, right + grow_x
    if right - left < (bottom - top) * 2 / 3:
        centre, half = (left + right) / 2, (bottom - top) / 3
        left, right = centre - half, centre + half
    return (slice(max(0, round(top)), min(height, round(bottom))),
            slice(max(0, round(left)), min(width, round(right))))


def pennfudan_crops(stem: str):
    """(name, image crop, mask crop) of each large enough pedestrian; mask 0 background, 1 person."""
    image = np.asarray(Image.open(DATA / "pennfudan/images" / f"{stem}.jpg").convert("RGB"))
    mask = np.asarray(Image.open(DATA / "pennfudan/masks" / f"{stem}.png"))
    instances = np.asarray(Image.open(DATA / "pennfudan/instances" / f"{stem}.png"))
    for k in range(1, int(instances.max()) + 1):
        rows, cols = np.nonzero(instances == k)
        if len(rows) >= 3000:
            box = portrait_box(rows, cols, *mask.shape)
            yield f"{stem}_p{k}", image[box], mask[box]


def coco_person_truth(semantic: np.ndarray) -> np.ndarray:
    """(H, W) COCO panoptic category ids → uint8: 1 person, 0 any other class, 255 unlabeled (ignored)."""
    return np.where(semantic == COCO_PERSON, 1, np.where(semantic == COCO_UNLABELED, 255, 0)).astype(np.uint8)


def coco_crops(stem: str, segments: list[dict]):
    """(name, image crop, mask crop) of each large non-crowd person; mask 1 person, 0 other, 255 unlabeled."""
    image = np.asarray(Image.open(DATA / "coco128/images" / f"{stem}.jpg").convert("RGB"))
    semantic = np.asarray(Image.open(DATA / "coco128/masks" / f"{stem}.png"))
    segment_ids = np.asarray(Image.open(DATA / "coco128/segments" / f"{stem}.png"))
    truth = coco_person_truth(semantic)
    for k, segment in enumerate(segments, start=1):
        if segment["category_id"] == COCO_PERSON and not segment["iscrowd"] and segment["area"] >= 15000:
            rows, cols = np.nonzero(segment_ids == k)
            box = portrait_box(rows, cols, *truth.shape)
            yield f"{stem}_p{k}", image[box], truth[box]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/person_crops"))
    args = parser.parse_args()
    segments = json.loads((DATA / "coco128/segments.json").read_text())
    for split in ("train", "val"):
        sources = {"pennfudan": (pennfudan_crops(s) for s in (DATA / f"pennfudan/{split}.txt").read_text().split()),
                   "coco": (coco_crops(s, segments[s]) for s in (DATA / f"coco128/{split}.txt").read_text().split())}
        for name, crops in sources.items():
            folder = args.out / f"{name}_{split}"
            shutil.rmtree(folder / "images", ignore_errors=True)
            shutil.rmtree(folder / "masks", ignore_errors=True)
            (folder / "images").mkdir(parents=True)
            (folder / "masks").mkdir()
            stems = []
            for crops_of_one in crops:
                for stem, image, mask in crops_of_one:
                    Image.fromarray(image).save(folder / "images" / f"{stem}.png")
                    Image.fromarray(mask).save(folder / "masks" / f"{stem}.png")
                    stems.append(stem)
            (folder / "list.txt").write_text("".join(f"{s}\n" for s in stems))
            print(f"{folder}: {len(stems)} crops")


if __name__ == "__main__":
    main()
