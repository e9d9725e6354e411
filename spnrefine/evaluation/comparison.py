"""Coarse vs dense CRF vs guided filter vs SPN refiners on the same images and coarse masks, in one run.

Coarse masks come from a folder of (K, H, W) ``.npy`` probabilities, or are synthesized from the ground
truth as low-resolution masks (``lowres``: each class's one-hot mask area-downsampled ×8 and upsampled
bilinearly — deterministic, no randomness), or as blocky label masks (``blocky``: sampled at 1/8 resolution
and upsampled by nearest neighbour, as label maps are resized). With ``hard`` (always for ``blocky``) the
methods get hard labels instead, turned into probabilities exactly as ``spnrefine refine`` does for label
masks. Label sets with large or sparse ids (COCO) are handled per image on the classes present
(``present_classes``) and mapped back for scoring.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..io.coarse import hard_label_sigma, labels_to_probabilities, read_probability_map, soften
from ..io.images import image_in, read_image
from ..io.masks import check_label_range, read_label_png
from ..labels import renumber_present
from ..refiner.then_crf import crf_following
from .baselines import dense_crf, guided_filter
from .metrics import SegmentationMetrics

Method = Callable[[np.ndarray, np.ndarray, np.ndarray | None], np.ndarray]
"""(image, (K, H, W) probabilities, (H, W) hard labels or None) → (K, H, W)."""
LOWRES_FACTOR = 8


def methods(refiners: dict | None = None, include_crf: bool = True, then_crf: tuple[str, ...] = ()
            ) -> dict[str, Method]:
    """name → method; ``refiners``: label → a loaded ``Refiner``, given hard labels as ``refine`` reads label
    masks (the others get their probabilities); ``then_crf``: modes (auto, always, strong) in which each refiner is
    also followed by dense CRF (``refiner.then_crf``)."""
    table: dict[str, Method] = {"coarse": lambda image, probs, labels: probs}
    if include_crf:
        table["dense CRF"] = lambda image, probs, labels: dense_crf(image, probs)
    table["guided filter"] = lambda image, probs, labels: guided_filter(image, probs)
    for label, refiner in (refiners or {}).items():
        table[label] = _refining(refiner)
        for mode in then_crf:
            suffix = "" if mode == "always" else f" ({mode})"
            table[f"{label}, then CRF{suffix}"] = _ThenCrf(_refining(refiner), mode)
    return table


class _ThenCrf:
    """A refiner followed by dense CRF in ``mode`` (auto, always, strong); ``sent`` counts the images CRF ran on,
    ``sent_full_weight`` those of them with DeepLab's full weight."""

    def __init__(self, refining: Method, mode: str):
        self.refining, self.mode, self.sent, self.sent_full_weight = refining, mode, 0, 0

    def __call__(self, image: np.ndarray, probs: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        refined = self.refining(image, probs, labels)
        crf, marginals = crf_following(self.mode, image, probs if labels is None else None, refined)
        if marginals is None:
            return refined
        self.sent += 1
        self.sent_full_weight += crf == "strong"
        return marginals


def _refining(refiner) -> Method:
    def run(image: np.ndarray, probs: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        if labels is None:
            return refiner.refine(image, probs)
        return refiner.refine_labels(image, labels, probs.shape[0])
    return run


@dataclass(frozen=True)
class CoarseSource:
    """Where the coarse masks come from: a folder of ``.npy`` or ``"lowres"``; ``present_classes``:
    synthesize on the ids present in each mask (plus a channel for the ignored pixels)."""

    folder: Path | None = None  # None: synthesized low-resolution masks
    present_classes: bool = False
    hard: bool = False
    factor: int = LOWRES_FACTOR  # of the synthesized low-resolution masks
    blocky: bool = False  # synthesized by nearest neighbour (hard labels) instead of area + bilinear


def lowres_coarse(labels: np.ndarray, num_channels: int, factor: int = LOWRES_FACTOR) -> np.ndarray:
    """(H, W) ids in [0, K) → (K, H, W) float32: one-hot, area-downsampled ×factor, upsampled bilinearly."""
    height, width = labels.shape
    small = (max(1, width // factor), max(1, height // factor))
    one_hot = (labels[None] == np.arange(num_channels)[:, None, None]).astype(np.float32)
    probs = np.stack([cv2.resize(cv2.resize(p, small, interpolation=cv2.INTER_AREA), (width, height),
                                 interpolation=cv2.INTER_LINEAR) for p in one_hot])
    return probs / np.maximum(probs.sum(0, keepdims=True), 1e-6)


def blocky_coarse(labels: np.ndarray, num_channels: int, factor: int = LOWRES_FACTOR) -> np.ndarray:
    """(H, W) ids in [0, K) → (K, H, W) one-hot float32 of the ids sampled at 1/factor resolution and upsampled by
    nearest neighbour (blocks of ``factor`` or ``factor`` + 1 pixels)."""
    height, width = labels.shape
    small = cv2.resize(labels.astype(np.int32), (max(1, width // factor), max(1, height // factor)),
                       interpolation=cv2.INTER_NEAREST)
    blocky = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)
    return (blocky[None] == np.arange(num_channels)[:, None, None]).astype(np.float32)


def coarse_for(source: CoarseSource, stem: str, truth: np.ndarray, num_classes: int, ignore_index: int | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(K, H, W) coarse probabilities, (K,) the scored id of each channel (−1: none) and, for hard inputs, the
    (H, W) hard labels they were made from (None for probabilities)."""
    if source.folder is not None:
        probs = read_probability_map(Path(source.folder) / f"{stem}.npy")
        lookup = np.arange(probs.shape[0])
    elif source.present_classes:
        labels, present = renumber_present(truth, ignore_index)
        lookup = np.append(present, -1)  # the last channel stands for the ignored pixels
        probs = (blocky_coarse if source.blocky else lowres_coarse)(labels, len(lookup), source.factor)
    else:
        channels = num_classes + (1 if ignore_index == num_classes else 0)  # e.g. CamVid's void channel
        ignored = truth == ignore_index if ignore_index is not None else np.zeros(truth.shape, bool)
        lookup = np.arange(channels)
        synthesize = blocky_coarse if source.blocky else lowres_coarse
        probs = synthesize(np.where(ignored, channels - 1, truth).clip(0, channels - 1), channels, source.factor)
    if not (source.hard or source.blocky):
        return probs, lookup, None
    labels = probs.argmax(0)
    return soften(labels_to_probabilities(labels, probs.shape[0], None), hard_label_sigma(labels)), lookup, labels


def scored(probs: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """(K, H, W) → (H, W) scored ids (channels without an id become −1: a miss)."""
    return lookup[np.asarray(probs).argmax(0)]


def compare(images: Path, masks: Path, names: list[str], source: CoarseSource, table: dict[str, Method],
            num_classes: int, ignore_index: int | None) -> tuple[list[dict], dict[str, dict]]:
    """Rows of method, mIoU, boundary IoU, mBA (%), seconds per image (the method alone, no I/O) and, for a refiner
    followed by dense CRF, on how many images CRF ran (``then_crf_images``; ``then_crf_full_weight_images`` of them at
    DeepLab's full weight); and each method's per-class IoU."""
    metrics = {name: SegmentationMetrics(num_classes, ignore_index) for name in table}
    seconds = dict.fromkeys(table, 0.0)
    for image, truth, probs, lookup, labels in _items(images, masks, names, source, num_classes, ignore_index):
        for method, run in table.items():
            began = time.perf_counter()
            refined = run(image, probs, labels)
            seconds[method] += time.perf_counter() - began
            metrics[method].update(scored(refined, lookup), truth)
    rows, per_class = [], {}
    for method in table:
        summary = metrics[method].summary()
        rows.append({"method": method, "miou": summary["miou"], "boundary_iou": summary["boundary_iou"],
                     "mba": summary["mba"], "seconds_per_image": round(seconds[method] / len(names), 4)})
        if isinstance(table[method], _ThenCrf):
            rows[-1] |= {"then_crf_images": table[method].sent,
                         "then_crf_full_weight_images": table[method].sent_full_weight}
        per_class[method] = summary["per_class_iou"]
    return rows, per_class


def _items(images: Path, masks: Path, names: list[str], source: CoarseSource, num_classes: int,
           ignore_index: int | None) -> Iterator[tuple]:
    for name in names:
        stem = Path(name).stem if Path(name).suffix else name
        image_path = image_in(images, name)
        mask_path = Path(masks) / f"{stem}.png"
        truth = check_label_range(read_label_png(mask_path), num_classes, ignore_index, mask_path)
        probs, lookup, labels = coarse_for(source, stem, truth, num_classes, ignore_index)
        yield read_image(image_path), truth, probs, lookup, labels


def format_rows(rows: list[dict]) -> list[str]:
    """The table: each metric and its change against the first row (coarse), seconds per image and, with dense CRF
    in the run, each method's time as a multiple of CRF's (the same run, the same images); then, for each refiner
    followed by CRF, on how many images CRF ran."""
    base = rows[0]
    crf = next((row["seconds_per_image"] for row in rows if row["method"] == "dense CRF"), None)
    width = max(16, *(len(row["method"]) + 2 for row in rows))
    lines = [f"{'method':<{width}}{'mIoU':>8}{'Δ':>8}{'bIoU':>8}{'Δ':>8}{'mBA':>8}{'Δ':>8}{'s/img':>9}"
             + (f"{'× CRF':>8}" if crf else "")]
    for row in rows:
        cells = "".join(f"{row[key]:>8.2f}{row[key] - base[key]:>+8.2f}" for key in ("miou", "boundary_iou", "mba"))
        ratio = "" if not crf or row is base else f"{row['seconds_per_image'] / crf:>8.2f}"
        lines.append(f"{row['method']:<{width}}{cells}{row['seconds_per_image']:>9.3f}{ratio}")
    lines += [f"{row['method']}: dense CRF ran on {row['then_crf_images']} images (at DeepLab's full weight on "
              f"{row['then_crf_full_weight_images']})" for row in rows if "then_crf_images" in row]
    return lines


def format_per_class(per_class: dict[str, dict], class_names: list[str] | None = None) -> list[str]:
    """Per-class IoU change of every method against the first (coarse); classes absent everywhere left out."""
    methods_ = list(per_class)
    base = per_class[methods_[0]]
    width = max(12, *(len(m) + 2 for m in methods_[1:]))
    lines = [f"{'class':<14}{methods_[0]:>8}" + "".join(f"{m:>{width}}" for m in methods_[1:])]
    for key, value in base.items():
        if value is None:
            continue
        label = class_names[int(key)] if class_names and key.isdigit() and int(key) < len(class_names) else key
        cells = "".join(f"{(per_class[m][key] or 0) - value:>+{width}.2f}" for m in methods_[1:])
        lines.append(f"{label[:13]:<14}{value:>8.2f}{cells}")
    return lines
