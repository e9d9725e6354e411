"""Everything one refined image writes, each file atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..io.pictures import colourize, overlay, side_by_side
from ..io.writers import write_image, write_label_png, write_npy, write_png
from .files import with_extension


def to_float16(probs: np.ndarray | torch.Tensor) -> np.ndarray:
    """(K, H, W) → float16 numpy, converted by torch: numpy's astype of a fresh 4 MB map cost up to
    70 ms here (page faults on a new buffer per image), torch's 3 ms (its allocator reuses memory)."""
    return torch.as_tensor(probs).to(torch.float16).numpy()


@dataclass(frozen=True)
class OutputOptions:
    save_probs: bool = False
    overlay: bool = False
    compare: bool = False
    coarse_labels: bool = False  # also coarse/<stem>.png: the input's labels (for reports against the input)

    def paths(self, out: Path, stem: Path) -> list[Path]:
        """Every file written for ``stem`` (relative), label PNG first."""
        paths = [out / with_extension(stem, ".png")]
        if self.save_probs:
            paths.append(out / with_extension(stem, ".npy"))
        if self.overlay:
            paths.append(out / "overlay" / with_extension(stem, ".jpg"))
        if self.compare:
            paths.append(out / "compare" / with_extension(stem, ".jpg"))
        if self.coarse_labels:
            paths.append(out / "coarse" / with_extension(stem, ".png"))
        return paths


def write_outputs(
    options: OutputOptions, out: Path, stem: Path, labels: np.ndarray, probs: np.ndarray | None, palette,
    image: np.ndarray, coarse_labels: np.ndarray | None = None, truth: np.ndarray | None = None,
    main: np.ndarray | None = None,
) -> None:
    """labels (H, W); probs (K, H, W) saved as float16; pictures as JPEG; coarse_labels (H, W) for the
    comparison picture and ``coarse/``; truth (H, W) only for the comparison picture. ``main``: (H, W) or
    (H, W, 4) uint8 written as ``<stem>.png`` instead of the labels, in the input's own convention (a 0/255
    mask, a refined matte or cut-out)."""
    paths = iter(options.paths(out, stem))
    if main is not None:
        write_png(next(paths), main)
    else:
        write_label_png(next(paths), labels, palette)
    if options.save_probs:
        write_npy(next(paths), to_float16(probs))
    if options.overlay:
        write_image(next(paths), overlay(image, labels, palette))
    if options.compare:
        panels = [("image", image)]
        if coarse_labels is not None:
            panels.append(("coarse", colourize(coarse_labels, palette)))
        panels.append(("refined" if coarse_labels is not None else "prediction", colourize(labels, palette)))
        if truth is not None:
            panels.append(("ground truth", colourize(truth, palette)))
        write_image(next(paths), side_by_side(panels))
    if options.coarse_labels:
        write_label_png(next(paths), coarse_labels, palette)
