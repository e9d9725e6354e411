"""Person probability maps from MediaPipe selfie segmentation (a third-party segmenter) for external checks.

Runs in its own environment (mediapipe 0.10.14 ships the selfie models in its wheel):
    python -m venv mpenv && mpenv/bin/pip install mediapipe==0.10.14
    mpenv/bin/python scripts/mediapipe_masks.py IMAGES_DIR LIST OUT_DIR [--model 0|1]
Writes OUT_DIR/STEM.npy: (H, W) float32 foreground probability at the image's size, as MediaPipe returns it.
Model 0 is MediaPipe's "general" 256×256 model, 1 the "landscape" 144×256 one.
"""

import argparse
from pathlib import Path

import numpy as np
from mediapipe.python.solutions.selfie_segmentation import SelfieSegmentation
from PIL import Image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("images", type=Path)
    parser.add_argument("stems", type=Path, help="a list file, one stem per line")
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stems = args.stems.read_text().split()
    with SelfieSegmentation(model_selection=args.model) as segmenter:
        for stem in stems:
            path = next(args.images.glob(f"{stem}.*"))
            rgb = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
            mask = segmenter.process(rgb).segmentation_mask
            np.save(args.out / f"{stem}.npy", np.asarray(mask, dtype=np.float32))
    print(f"{len(stems)} maps in {args.out}")


if __name__ == "__main__":
    main()
