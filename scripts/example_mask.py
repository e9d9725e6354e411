"""The mask of ``examples/``: a segmenter's foreground probability kept at 1/8 resolution, as a 0/255 PNG.

    python scripts/example_mask.py MAP.npy OUT.png [--factor 8]

MAP.npy: (H, W) foreground probability (``scripts/mediapipe_masks.py``). It is area-downsampled by the factor,
thresholded at 0.5 and upsampled by nearest neighbour: the blocky mask a low-resolution segmenter gives.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probability", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--factor", type=int, default=8)
    args = parser.parse_args()
    foreground = np.load(args.probability).astype(np.float32)
    height, width = foreground.shape
    small = cv2.resize(foreground, (width // args.factor, height // args.factor), interpolation=cv2.INTER_AREA)
    mask = cv2.resize((small > 0.5).astype(np.uint8) * 255, (width, height), interpolation=cv2.INTER_NEAREST)
    Image.fromarray(mask).save(args.out)


if __name__ == "__main__":
    main()
