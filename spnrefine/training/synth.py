"""Synthesize coarse probabilities from ground truth.

``synthesize_coarse``: blur of boundaries (downsample + bilinear upsample), eroded/dilated classes,
random blobs of a wrong class, and softened confidences — the kinds of error a segmentation network
makes. ``random_lowres_coarse``: nothing but low resolution (masks predicted or stored small and upsampled).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..evaluation.comparison import lowres_coarse


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
    probs = np.stack([cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR) for p in small])
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


SYNTHESIZERS = {"synth": synthesize_coarse, "lowres": random_lowres_coarse}
"""How ``train --coarse`` names the synthesized coarse inputs."""
