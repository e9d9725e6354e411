"""How refinement scales: time and peak memory against pixels and against classes, as ratios to a base case.

Each case runs in a fresh process (so its peak memory is its own): the coarse input is made in memory,
then refined after one warm-up run of the same case, the best of seven runs (up to 4× the base pixels), of
three (up to 3840×2160: one run varies by ±5–10% on a 2-core machine) or once (larger);
what is timed is coarse input → refined labels, as ``refine`` does it without ``--save-probs`` (on the
channels that matter, in windows when large). Peak memory is the process's maximum resident set, the
interpreter and PyTorch included.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

BASE_SIZE = (360, 480)


@dataclass(frozen=True)
class Case:
    """height × width; ``classes`` of the label space, ``present`` of them in the image; ``kind``:
    'probabilities' (a (K, H, W) map) or 'labels' (a label mask); ``every_channel``: compute all K
    channels (the full computation, for reference)."""

    height: int
    width: int
    classes: int
    present: int
    kind: str = "probabilities"
    every_channel: bool = False

    @property
    def label(self) -> str:
        sparse = f"{self.present} of {self.classes}" if self.present < self.classes else f"{self.classes}"
        how = " (every channel)" if self.every_channel else ""
        return f"{self.width}x{self.height}, {sparse} classes, {self.kind}{how}"


def scene(height: int, width: int, image: Path | None = None) -> np.ndarray:
    """(H, W, 3) uint8: the given photo resized, or a synthetic scene of smooth shapes and texture."""
    if image is not None:
        from ..io.images import read_image

        return cv2.resize(read_image(image), (width, height), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)
    picture = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 8, (height, width, 1))
    return np.clip(picture + noise, 0, 255).astype(np.uint8)


def layout(height: int, width: int, present: int) -> np.ndarray:
    """(H, W) int64 ids 0..present-1: regions of a fixed pattern, scaled with the image, with wavy sides (a mask
    of straight-sided blocks would be a blocky mask, which is blurred more: ``io.coarse.block_size``)."""
    rng = np.random.default_rng(1)
    small = rng.integers(0, present, (12, 16))
    small[np.unravel_index(np.arange(present) % small.size, small.shape)] = np.arange(present)  # each one present
    rows = np.arange(height)[:, None]
    wave = width / 64 * np.sin(rows * 6 * np.pi / height)  # columns shift by up to 1/64 of the width
    columns = np.clip((np.arange(width)[None] + wave) * 16 / width, 0, 15).astype(np.int32)
    return small[(rows * 12 // height).astype(np.int32), columns].astype(np.int64)


def coarse_input(case: Case):
    """The case's coarse input: (K, H, W) float32 probabilities, or (H, W) ids of a K-class label space."""
    ids = layout(case.height, case.width, case.present)
    if case.present < case.classes:  # spread the present classes over the label space
        ids = np.linspace(0, case.classes - 1, case.present).round().astype(np.int64)[ids]
    if case.kind == "labels":
        return ids
    probs = np.full((case.classes, case.height, case.width), 1e-4, np.float32)
    blur = max(3, (case.width // 160) | 1)
    for class_id in np.unique(ids):
        probs[class_id] += cv2.blur((ids == class_id).astype(np.float32), (blur, blur))
    probs /= probs.sum(0, keepdims=True)
    return probs


def _measure(case: Case, checkpoint: str, image: Path | None) -> tuple[float, float]:
    """In a fresh process: (seconds, peak resident GB) of one refinement of the case."""

    from ..io.coarse import hard_label_sigma, labels_to_probabilities, soften
    from ..refiner import Refiner
    from ..refiner.channels import LabelChannels, ProbabilityChannels

    refiner = Refiner.load(checkpoint)
    warm = Case(64, 96, 3, 3)
    refiner.refine_channels(scene(64, 96), ProbabilityChannels(coarse_input(warm)))
    picture, coarse = scene(case.height, case.width, image), coarse_input(case)

    def run():
        if case.kind == "labels" and case.every_channel:
            channels = ProbabilityChannels(soften(labels_to_probabilities(coarse, case.classes, None),
                                                  hard_label_sigma(coarse)), 0)
        elif case.kind == "labels":
            channels = LabelChannels(coarse, case.classes)
        else:
            channels = ProbabilityChannels(coarse, 0) if case.every_channel else ProbabilityChannels(coarse)
        return refiner.refine_channels(picture, channels, keep_probabilities=False)[1]

    run()  # one-time costs of a new size (oneDNN's kernels for its window shapes) are not per-image costs
    scale = case.height * case.width / (BASE_SIZE[0] * BASE_SIZE[1])
    seconds = float("inf")
    for _ in range(7 if scale <= 4 else 3 if scale <= 48 else 1):  # the best of 7 / 3 (up to 3840×2160) / 1
        began = time.perf_counter()
        run()
        seconds = min(seconds, time.perf_counter() - began)
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def measure(case: Case, checkpoint: str = "agnostic", image: Path | None = None) -> tuple[float, float]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_measure, (case, checkpoint, image))


def pixel_cases(sizes: list[tuple[int, int]], classes: int = 12) -> list[Case]:
    return [Case(h, w, classes, classes) for h, w in sizes]


def class_cases(kind: str, counts: list[int], present: int = 12, large: int = 150) -> list[Case]:
    """At the base size, of one kind of input: dense (every class present / carrying mass) for each count;
    sparse, ``present`` of ``large``, on the channels that matter and on every channel."""
    height, width = BASE_SIZE
    return [*(Case(height, width, k, k, kind) for k in counts), Case(height, width, large, present, kind),
            Case(height, width, large, present, kind, every_channel=True)]


def scaling_table(cases: list[Case], base: Case, checkpoint: str = "agnostic", image: Path | None = None,
                  progress=print) -> list[str]:
    """Lines of a table: seconds, peak GB and ratios to ``base`` (measured in this run)."""
    base_seconds, base_peak = measure(base, checkpoint, image)
    base_pixels = base.height * base.width
    lines = [f"{'case':<52} {'pixels':>7} {'seconds':>8} {'time':>7} {'peak GB':>8}",
             f"{base.label:<52} {1:>6.1f}x {base_seconds:>8.3f} {1:>6.2f}x {base_peak:>8.2f}   (base)"]
    progress(lines[0])
    progress(lines[1])
    for case in cases:
        if case == base:
            continue
        seconds, peak = measure(case, checkpoint, image)
        line = (f"{case.label:<52} {case.height * case.width / base_pixels:>6.1f}x {seconds:>8.3f} "
                f"{seconds / base_seconds:>6.2f}x {peak:>8.2f}")
        lines.append(line)
        progress(line)
    return lines
