"""Training samples: image, ground truth and coarse probabilities (from a folder of .npy or synthesized)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import SpnrefineError
from ..io.images import read_image
from ..io.coarse import labels_to_probabilities
from ..io.masks import read_label_png
from .synth import synthesize_coarse


@dataclass(frozen=True)
class Sample:
    image: Path
    mask: Path
    coarse: Path | None  # (K, H, W) .npy probabilities; None: synthesize from the mask


def list_samples(images: Path, masks: Path, names: list[str] | None, coarse: Path | None) -> list[Sample]:
    """Pairs by file name (``names`` from a list file, else every image); coarse by stem."""
    images, masks = Path(images), Path(masks)
    names = names if names is not None else sorted(p.name for p in images.iterdir() if not p.name.startswith("."))
    samples = []
    for name in names:
        stem = Path(name).stem
        mask = masks / f"{stem}.png"
        if not (images / name).is_file() or not mask.is_file():
            raise SpnrefineError(f"{images / name}: image or its mask {mask} is missing")
        coarse_path = Path(coarse) / f"{stem}.npy" if coarse else None
        if coarse_path is not None and not coarse_path.is_file():
            raise SpnrefineError(f"{coarse_path}: no coarse probabilities for {name}")
        samples.append(Sample(images / name, mask, coarse_path))
    return samples


class SampleCache:
    """Decoded images, masks and coarse maps kept in memory (CamVid: ~1 GB for 400 images)."""

    def __init__(self, num_classes: int, ignore_index: int):
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self._cache: dict[Sample, tuple] = {}

    def load(self, sample: Sample):
        if sample not in self._cache:
            image = read_image(sample.image)
            mask = read_label_png(sample.mask)
            coarse = np.load(sample.coarse).astype(np.float16) if sample.coarse else None
            if coarse is not None and (coarse.ndim != 3 or coarse.shape[1:] != mask.shape):
                raise SpnrefineError(f"{sample.coarse}: shape {coarse.shape} does not fit mask {mask.shape}")
            self._cache[sample] = (image, mask.astype(np.int64), coarse)
        return self._cache[sample]

    def coarse_for(self, sample: Sample, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        image, mask, coarse = self.load(sample)
        if coarse is None:
            labels = np.where(mask == self.ignore_index, self.num_classes - 1, mask).clip(0, self.num_classes - 1)
            coarse = synthesize_coarse(labels, self.num_classes, rng)
        return image, mask, coarse.astype(np.float32)


def random_crops(cache: SampleCache, samples: list[Sample], size: int, rng: np.random.Generator,
                 hard_fraction: float = 0.0):
    """A batch: (B, 3, s, s) images in [0, 1], (B, K, s, s) coarse, (B, s, s) labels; random crop + flip.

    With probability ``hard_fraction`` a coarse map is replaced by its hard labels as ``refine`` feeds
    label masks (0.9 on the label + 0.1 spread), so the refiner also learns from hard masks.
    """
    images, coarses, masks = [], [], []
    for sample in samples:
        image, mask, coarse = cache.coarse_for(sample, rng)
        if hard_fraction and rng.random() < hard_fraction:
            coarse = labels_to_probabilities(coarse.argmax(0), coarse.shape[0], None)
        height, width = mask.shape
        top = int(rng.integers(0, max(1, height - size + 1)))
        left = int(rng.integers(0, max(1, width - size + 1)))
        window = (slice(top, top + size), slice(left, left + size))
        image, mask, coarse = image[window], mask[window], coarse[(slice(None), *window)]
        if rng.random() < 0.5:
            image, mask, coarse = image[:, ::-1], mask[:, ::-1], coarse[:, :, ::-1]
        images.append(np.ascontiguousarray(image.transpose(2, 0, 1)))
        coarses.append(np.ascontiguousarray(coarse))
        masks.append(np.ascontiguousarray(mask))
    return (torch.from_numpy(np.stack(images)).float().div(255), torch.from_numpy(np.stack(coarses)),
            torch.from_numpy(np.stack(masks)))
