"""Synthesize coarse probabilities from ground truth.

``synthesize_coarse``: blur of boundaries (downsample + bilinear upsample), eroded/dilated classes,
random blobs of a wrong class, and softened confidences — the kinds of error a segmentation network
makes. ``random_lowres_coarse``: nothing but low resolution (masks predicted or stored small and upsampled).
``drifted_coarse``: a confident segmenter's errors: boundaries that drift smoothly off the true ones, thin parts
lost or gaps filled, a narrow soft band.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..evaluation.comparison import lowres_coarse
from ..io.coarse import resize_maps


def _blob(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
    axes = (int(rng.integers(4, max(5, width // 8))), int(rng.integers(4, max(5, height // 8))))
    cv2.ellipse(mask, center, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask.astype(bool)


def synthesize_coarse(labels: np.ndarray, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W) labels in [0, K) → (K, H, W) float32 probabilities with realistic errors."""
    height, width = labels.shape
    labels = labels.copy()
    for _ in range(int(rng.integers(0, 4))):  # wrong-class blobs
        labels[_blob(rng, height, width)] = rng.integers(0, num_classes)
    present = np.unique(labels)
    for c in rng.choice(present, size=min(2, len(present)), replace=False):  # erode or dilate a class
        kernel = np.ones((3, 3), np.uint8)
        mask = (labels == c).astype(np.uint8)
        iterations = int(rng.integers(1, 4))
        if rng.random() < 0.5:
            grown = cv2.dilate(mask, kernel, iterations=iterations).astype(bool)
            labels[grown] = c
        else:
            shrunk = cv2.erode(mask, kernel, iterations=iterations).astype(bool)
            ring = mask.astype(bool) & ~shrunk
            neighbours = cv2.dilate(np.where(ring, 255, labels).astype(np.uint8), kernel)
            labels[ring] = np.where(neighbours[ring] < num_classes, neighbours[ring], c)
    one_hot = np.eye(num_classes, dtype=np.float32)[labels].transpose(2, 0, 1)
    factor = int(rng.choice([2, 4, 8]))
    small = [cv2.resize(p, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
             for p in one_hot]
    probs = resize_maps(small, (width, height))
    temperature = float(rng.uniform(0.5, 2.0))
    logits = np.log(probs + 0.02) / temperature
    logits -= logits.max(0, keepdims=True)
    probs = np.exp(logits)
    return (probs / probs.sum(0, keepdims=True)).astype(np.float32)


def random_lowres_coarse(labels: np.ndarray, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W) labels in [0, K) → (K, H, W) float32 low-resolution probabilities: a random factor 3–16 and
    a random sharpness (probabilities raised to 1/T, T in 0.7–1.5)."""
    probs = lowres_coarse(labels, num_classes, int(rng.integers(3, 17)))
    probs = np.power(probs, 1 / float(rng.uniform(0.7, 1.5)))
    return (probs / np.maximum(probs.sum(0, keepdims=True), 1e-6)).astype(np.float32)


def _smooth_field(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """(H, W) float32 smooth random field in [-1, 1] varying over about ``cell`` pixels."""
    grid = rng.standard_normal((max(2, round(height / cell)) + 1, max(2, round(width / cell)) + 1)).astype(np.float32)
    field = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return field / max(float(np.abs(field).max()), 1e-6)


def _fill_from_neighbours(labels: np.ndarray, holes: np.ndarray, steps: int) -> np.ndarray:
    """labels with the ``holes`` pixels taken over by the labels around them (grown inwards ``steps`` times)."""
    filled = np.where(holes, -1, labels).astype(np.float32)
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(steps):
        if not (filled < 0).any():
            break
        filled = np.where(filled < 0, cv2.dilate(filled, kernel), filled)
    return np.where(filled < 0, labels, filled).astype(labels.dtype)


def drifted_coarse(labels: np.ndarray, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W) labels in [0, K) → (K, H, W) float32 confident probabilities: the labels warped by a smooth random
    displacement (up to 0.4–2% of the diagonal, varying over 2–8% of it), one class opened (thin parts lost) or
    closed (gaps filled) by 1–4 px, then ×2 or ×4 down/up-sampled and sharpened (temperature 0.25–0.7)."""
    height, width = labels.shape
    diagonal = float(np.hypot(height, width))
    amplitude = rng.uniform(0.004, 0.02) * diagonal
    cell = rng.uniform(0.02, 0.08) * diagonal
    columns = np.arange(width, dtype=np.float32)[None] + amplitude * _smooth_field(rng, height, width, cell)
    rows = np.arange(height, dtype=np.float32)[:, None] + amplitude * _smooth_field(rng, height, width, cell)
    labels = cv2.remap(labels.astype(np.float32), columns, rows, cv2.INTER_NEAREST,
                       borderMode=cv2.BORDER_REPLICATE).astype(np.int64)
    present = np.unique(labels)
    c = int(rng.choice(present))
    radius = int(rng.integers(1, 5))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    mask = (labels == c).astype(np.uint8)
    if rng.random() < 0.6:  # thin parts of the class lost to its neighbours
        lost = mask.astype(bool) & ~cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel).astype(bool)
        labels = _fill_from_neighbours(labels, lost, 2 * radius + 2)
    else:  # narrow gaps of the class filled
        labels[cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel).astype(bool)] = c
    # as evaluation.comparison.lowres_coarse but without its renormalization (1-ulp changes): the shipped stage 3
    # was trained on exactly these values
    one_hot = np.eye(num_classes, dtype=np.float32)[labels].transpose(2, 0, 1)
    factor = int(rng.choice([2, 4]))
    small = (max(1, width // factor), max(1, height // factor))
    probs = np.stack([cv2.resize(cv2.resize(p, small, interpolation=cv2.INTER_AREA), (width, height),
                                 interpolation=cv2.INTER_LINEAR) for p in one_hot])
    logits = np.log(probs + 0.02) / float(rng.uniform(0.25, 0.7))
    probs = np.exp(logits - logits.max(0, keepdims=True))
    return (probs / probs.sum(0, keepdims=True)).astype(np.float32)


SYNTHESIZERS = {"synth": synthesize_coarse, "lowres": random_lowres_coarse, "drift": drifted_coarse}
"""How ``train --coarse`` names the synthesized coarse inputs."""
