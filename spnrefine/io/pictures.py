"""Pictures people look at: a mask blended on its image, and side-by-side comparisons."""

from __future__ import annotations

import cv2
import numpy as np


def colourize(labels: np.ndarray, palette) -> np.ndarray:
    """(H, W) ids → (H, W, 3) uint8; ids without a colour are black."""
    table = np.zeros((256, 3), np.uint8)
    colours = np.asarray(palette, np.uint8)[:256]
    table[: len(colours)] = colours
    return table[np.clip(labels, 0, 255)]


def overlay(image: np.ndarray, labels: np.ndarray, palette, alpha: float = 0.5) -> np.ndarray:
    return (image * (1 - alpha) + colourize(labels, palette) * alpha).astype(np.uint8)


def side_by_side(panels: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Titled (H, W, 3) panels in a row, separated by a white gap."""
    height = panels[0][1].shape[0]
    bar = max(18, height // 20)
    columns = []
    for title, panel in panels:
        canvas = np.full((height + bar, panel.shape[1], 3), 255, np.uint8)
        canvas[bar:] = panel
        scale = bar / 30
        cv2.putText(canvas, title, (4, int(bar * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
        columns += [canvas, np.full((height + bar, 4, 3), 255, np.uint8)]
    return np.concatenate(columns[:-1], axis=1)
