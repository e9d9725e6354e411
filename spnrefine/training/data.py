"""Training samples: image, ground truth and coarse probabilities (from a folder of .npy or synthesized).

Sources may differ in their label space (CamVid's 12 channels, binary objects, COCO's category ids):
each sample carries its own :class:`LabelSpace`, and a training batch is drawn from one source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import SpnrefineError
from ..io.coarse import labels_to_probabilities, resize_maps
from ..io.images import image_in, read_image
from ..io.masks import read_label_png
from ..labels import renumber_present
from .degrade import Degradation, degrade_image
from .synth import SYNTHESIZERS

IGNORE = -100
"""Target value of pixels the loss and the metrics skip (``F.nll_loss``'s default)."""


@dataclass(frozen=True)
class LabelSpace:
    """How a source's masks become targets.

    channels: K of the coarse probabilities; None means "the classes present in each mask, renumbered
    0..n-1, plus one channel for the ignored pixels" (for label sets with large or sparse ids, e.g. COCO).
    ignore_index: the mask value left out of the loss (None: none).
    """

    channels: int | None
    ignore_index: int | None

    @classmethod
    def parse(cls, text: str) -> LabelSpace:
        """'K', 'K:IGNORE', 'present' or 'present:IGNORE'."""
        channels, _, ignore = text.partition(":")
        try:
            return cls(None if channels == "present" else int(channels), int(ignore) if ignore else None)
        except ValueError:
            raise SpnrefineError(f"label space {text!r}: expected K, K:IGNORE, present or present:IGNORE") from None

    def targets(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """(H, W) mask ids → (labels in [0, K) to synthesize from, targets with IGNORE, K)."""
        ignored = mask == self.ignore_index if self.ignore_index is not None else np.zeros(mask.shape, bool)
        if self.channels is None:
            labels, present = renumber_present(mask, self.ignore_index)
            return labels, np.where(ignored, IGNORE, labels), len(present) + 1
        k = self.channels
        labels = np.where(ignored, k - 1, mask).clip(0, k - 1)
        targets = np.where(ignored, IGNORE, mask)
        if ((targets != IGNORE) & ((targets < 0) | (targets >= k))).any():
            raise SpnrefineError(f"mask ids {np.unique(targets[(targets != IGNORE) & (targets >= k)])[:5].tolist()} "
                                 f"do not fit {k} channels")
        return labels, targets, k


@dataclass(frozen=True)
class Sample:
    image: Path
    mask: Path
    coarse: Path | None  # (K, H, W) .npy probabilities; None: synthesize from the mask
    labels: LabelSpace = LabelSpace(12, 11)
    source: int = 0  # batches are drawn from one source at a time
    synthesis: str = "synth"  # without coarse: how it is synthesized (a key of SYNTHESIZERS)


def list_samples(images: Path, masks: Path, names: list[str] | None, coarse: Path | str | None,
                 labels: LabelSpace = LabelSpace(12, 11), source: int = 0) -> list[Sample]:
    """Pairs by stem (``names`` from a list file: file names or stems; else every image); coarse by stem
    from a folder, or synthesized: None or 'synth' (network-like errors), 'lowres' (low resolution only),
    'drift' (a confident segmenter's errors; ``training.synth``)."""
    images, masks = Path(images), Path(masks)
    synthesis = "synth" if coarse is None else str(coarse)
    if synthesis in SYNTHESIZERS:
        coarse = None
    if names is None:
        names = sorted(p.name for p in images.iterdir() if not p.name.startswith("."))
    samples = []
    for name in names:
        stem = Path(name).stem if Path(name).suffix else name
        image = image_in(images, name)
        mask = masks / f"{stem}.png"
        if not image.is_file() or not mask.is_file():
            raise SpnrefineError(f"{image}: image or its mask {mask} is missing")
        coarse_path = Path(coarse) / f"{stem}.npy" if coarse else None
        if coarse_path is not None and not coarse_path.is_file():
            raise SpnrefineError(f"{coarse_path}: no coarse probabilities for {name}")
        samples.append(Sample(image, mask, coarse_path, labels, source, synthesis))
    return samples


class SampleCache:
    """Decoded images, masks and coarse maps kept in memory, each file once however many sources share it
    (the agnostic recipe's 2356 samples: ~4 GB), label maps in the smallest integer type that holds them.

    Images whose short side is under ``min_side`` are enlarged to it (so every crop fits)."""

    def __init__(self, min_side: int = 0):
        self.min_side = min_side
        self._pictures: dict[tuple, tuple] = {}  # (image, mask, label space) → image, labels, targets, K
        self._coarse: dict[Path, np.ndarray] = {}  # .npy path → (K, H, W) float16

    def load(self, sample: Sample) -> tuple:
        """(H, W, 3) uint8 image, (H, W) labels and targets (compact integers), (K, H, W) float16 coarse or
        None (synthesized), K."""
        image, labels, targets, k, shape = self._picture(sample)
        coarse = self._coarse_map(sample.coarse, k, shape) if sample.coarse else None
        return image, labels, targets, coarse, k

    def _picture(self, sample: Sample) -> tuple:
        key = (sample.image, sample.mask, sample.labels)  # its entry also keeps the mask's size as read
        if key not in self._pictures:
            image = read_image(sample.image)
            mask = read_label_png(sample.mask)
            if image.shape[:2] != mask.shape:
                raise SpnrefineError(f"{sample.image}: size {image.shape[:2]} differs from its mask {mask.shape}")
            labels, targets, k = sample.labels.targets(mask)
            size = self._enlarged(mask.shape)
            if size is not None:
                image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
                labels = cv2.resize(labels.astype(np.int32), size, interpolation=cv2.INTER_NEAREST)
                targets = cv2.resize(targets.astype(np.int32), size, interpolation=cv2.INTER_NEAREST)
            self._pictures[key] = (image, _compact(labels), _compact(targets), k, mask.shape)
        return self._pictures[key]

    def _coarse_map(self, path: Path, k: int, shape: tuple[int, int]) -> np.ndarray:
        """The (K, H, W) map of ``path``, checked against K and the (H, W) of its mask as read."""
        if path not in self._coarse:
            coarse = np.load(path).astype(np.float16)
            if coarse.shape != (k, *shape):
                raise SpnrefineError(f"{path}: shape {coarse.shape} does not fit ({k}, {shape})")
            size = self._enlarged(shape)
            if size is not None:
                coarse = np.stack([cv2.resize(p.astype(np.float32), size) for p in coarse]).astype(np.float16)
            self._coarse[path] = coarse
        return self._coarse[path]

    def _enlarged(self, shape: tuple[int, int]) -> tuple[int, int] | None:
        """(width, height) to resize to so the short side is ``min_side``; None: large enough."""
        scale = self.min_side / min(shape)
        return (round(shape[1] * scale), round(shape[0] * scale)) if scale > 1 else None

    def coarse_for(self, sample: Sample, rng: np.random.Generator, temper: float = 1.0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(H, W, 3) uint8 image, (H, W) int64 targets (IGNORE where skipped), (K, H, W) float32 coarse; ``temper``
        > 1: a network's map (from a file) at a temperature drawn log-uniformly from [1/temper, temper]."""
        image, labels, targets, coarse, k = self.load(sample)
        if coarse is None:
            coarse = SYNTHESIZERS[sample.synthesis](labels.astype(np.int64), k, rng)
        elif temper > 1:
            return image, targets.astype(np.int64), at_temperature(coarse, temper ** rng.uniform(-1, 1))
        return image, targets.astype(np.int64), coarse.astype(np.float32)


def zoomed(image: np.ndarray, mask: np.ndarray, coarse: np.ndarray, size: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A square crop resized to ``size`` × ``size``: (s, s, 3) uint8 image and (K, s, s) coarse bilinearly (area
    when shrinking), (s, s) targets by nearest neighbour."""
    shape = (size, size)
    smooth = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_LINEAR
    coarse = resize_maps(coarse, shape, smooth)
    mask = cv2.resize(mask.astype(np.int32), shape, interpolation=cv2.INTER_NEAREST).astype(mask.dtype)
    return cv2.resize(image, shape, interpolation=smooth), mask, coarse


def at_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """(K, H, W) probabilities → float32, raised to 1/temperature and renormalized over K (> 1 softer, < 1 surer)."""
    powered = np.power(np.clip(probs.astype(np.float32), 1e-8, 1.0), 1.0 / temperature)
    return powered / powered.sum(0, keepdims=True)


def _compact(ids: np.ndarray) -> np.ndarray:
    """Integer ids in int16 when they fit (label maps: a quarter of int64's memory), else unchanged."""
    fits = ids.size == 0 or (ids.min() >= np.iinfo(np.int16).min and ids.max() <= np.iinfo(np.int16).max)
    return ids.astype(np.int16) if fits else ids


def draw_batch(samples: list[Sample], by_source: dict[int, list[Sample]], size: int,
               rng: np.random.Generator) -> list[Sample]:
    """``size`` samples of one source, the source chosen in proportion to its share of ``samples``."""
    first = samples[int(rng.integers(0, len(samples)))]
    pool = by_source[first.source]
    return [first] + [pool[int(i)] for i in rng.integers(0, len(pool), size - 1)]


def random_crops(cache: SampleCache, samples: list[Sample], size: int, rng: np.random.Generator,
                 hard_fraction: float = 0.0, temper_network: float = 1.0, zoom: float = 1.0,
                 image_degradation: Degradation | None = None):
    """A batch: (B, 3, s, s) images in [0, 1], (B, K, s, s) coarse, (B, s, s) targets; random crop + flip.

    With probability ``hard_fraction`` a coarse map is replaced by its hard labels as ``refine`` feeds
    label masks (0.9 on the label + 0.1 spread), so the refiner also learns from hard masks. A network's map
    (from a file) is tempered when ``temper_network`` > 1 (``SampleCache.coarse_for``). ``zoom`` > 1: each crop
    shows its image at a scale drawn log-uniformly from [1/zoom, zoom] (``zoomed``; capped where the image is too
    small). With ``image_degradation``, half the crops show the guidance their image degraded at its size (colour,
    blur, noise, JPEG: ``training.degrade``; the coarse map and targets as they were), as another camera would.
    Channels are zero-padded to the largest K in the batch.
    """
    images, coarses, masks = [], [], []
    for sample in samples:
        image, mask, coarse = cache.coarse_for(sample, rng, temper_network)
        if hard_fraction and rng.random() < hard_fraction:
            coarse = labels_to_probabilities(coarse.argmax(0), coarse.shape[0], None)
        height, width = mask.shape
        side = size if zoom == 1 else min(round(size / zoom ** rng.uniform(-1, 1)), height, width)
        top = int(rng.integers(0, max(1, height - side + 1)))
        left = int(rng.integers(0, max(1, width - side + 1)))
        window = (slice(top, top + side), slice(left, left + side))
        image, mask, coarse = image[window], mask[window], coarse[(slice(None), *window)]
        if side != size:
            image, mask, coarse = zoomed(image, mask, coarse, size)
        if rng.random() < 0.5:
            image, mask, coarse = image[:, ::-1], mask[:, ::-1], coarse[:, :, ::-1]
        if image_degradation is not None and rng.random() < 0.5:
            image = degrade_image(image, rng, image_degradation)
        images.append(np.ascontiguousarray(image.transpose(2, 0, 1)))
        coarses.append(np.ascontiguousarray(coarse))
        masks.append(np.ascontiguousarray(mask))
    k = max(c.shape[0] for c in coarses)
    coarses = [np.pad(c, ((0, k - c.shape[0]), (0, 0), (0, 0))) for c in coarses]
    return (torch.from_numpy(np.stack(images)).float().div(255), torch.from_numpy(np.stack(coarses)),
            torch.from_numpy(np.stack(masks)))
