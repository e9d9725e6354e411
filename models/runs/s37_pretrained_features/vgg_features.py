"""Rule 49 (session 37): HED's deep VGG16 features (conv4_3 at 1/8, conv5_3 at 1/16 resolution), reduced by a PCA
fitted on the images of FIT_LIST (200 random pixels each) to 8 components per level, upsampled bilinearly to the image
and quantized to uint8 (+-3 component std → 0..255): OUT_DIR/plain/<stem>.npy, (H, W, 16); images under a
camera_tune folder go to OUT_DIR/camera/ (same PCA).
Usage: python vgg_features.py WEIGHTS.h5 OUT_DIR FIT_LIST IMAGE [IMAGE ...]"""
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hed_torch import block_outputs, load

from spnrefine.io.images import read_image

COMPONENTS = 8
LEVELS = (3, 4)  # conv4_3, conv5_3


def pca(samples: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, C) pixel samples → mean (C,), COMPONENTS directions (COMPONENTS, C), their std (COMPONENTS,)."""
    data = np.concatenate(samples).astype(np.float64)
    mean = data.mean(0)
    _, singular, directions = np.linalg.svd(data - mean, full_matrices=False)
    print("explained", (singular[:COMPONENTS] ** 2).sum() / (singular ** 2).sum(), flush=True)
    return mean, directions[:COMPONENTS], singular[:COMPONENTS] / np.sqrt(len(data) - 1)


def projected(features: np.ndarray, basis, size: tuple[int, int]) -> np.ndarray:
    """(C, h, w) features → (COMPONENTS, H, W) float32 in component std units, upsampled to ``size``."""
    mean, directions, std = basis
    flat = features.reshape(features.shape[0], -1).T.astype(np.float64)
    low = ((flat - mean) @ directions.T / std).T.reshape(COMPONENTS, *features.shape[1:]).astype(np.float32)
    return F.interpolate(torch.from_numpy(low)[None], size=size, mode="bilinear", align_corners=False)[0].numpy()


def main():
    torch.set_num_threads(2)
    weights, out = load(sys.argv[1]), Path(sys.argv[2])
    fit = {Path(name).stem for name in Path(sys.argv[3]).read_text().split()}
    rng = np.random.default_rng(0)
    features, samples = {}, [[] for _ in LEVELS]
    for path in map(Path, sys.argv[4:]):
        rgb = read_image(path)
        outputs = block_outputs(weights, rgb)
        levels = [outputs[level][0].numpy() for level in LEVELS]
        features[path] = ([level.astype(np.float16) for level in levels], rgb.shape[:2])
        if path.stem in fit:
            for kept, level in zip(samples, levels):
                flat = level.reshape(level.shape[0], -1).T
                kept.append(flat[rng.choice(len(flat), 200, replace=False)])
    bases = [pca(kept) for kept in samples]
    for path, (levels, size) in features.items():
        channels = np.concatenate([projected(level, basis, size) for level, basis in zip(levels, bases)])
        quantized = np.clip(np.round((channels / 6 + 0.5) * 255), 0, 255).astype(np.uint8)
        target = out / ("camera" if "camera_tune" in str(path) else "plain")
        target.mkdir(parents=True, exist_ok=True)
        np.save(target / f"{path.stem}.npy", np.ascontiguousarray(quantized.transpose(1, 2, 0)))


main()
