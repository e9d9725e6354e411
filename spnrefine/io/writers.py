"""Atomic writes: a temporary file in the target folder, renamed into place when complete.

Killing the process at any moment leaves either the old state or the complete file,
never a partial PNG/NPY.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary_path)``, then rename the result onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: str | Path) -> int:
    """Delete temporaries an interrupted run left (``.<name>.<random>.part``); returns how many."""
    removed = 0
    for stale in Path(folder).rglob(".*.part") if Path(folder).is_dir() else []:
        stale.unlink(missing_ok=True)
        removed += 1
    return removed


def palette_bytes(palette: Sequence[Sequence[int]]) -> list[int]:
    """[(r, g, b), ...] → the flat 768-entry list PIL wants (unused entries black)."""
    flat = [int(v) for colour in palette for v in colour][: 256 * 3]
    return flat + [0] * (768 - len(flat))


def write_label_png(path: str | Path, labels: np.ndarray, palette: Sequence[Sequence[int]] | None) -> None:
    """(H, W) integer labels in [0, 255] → 8-bit PNG, palette embedded when given."""
    if labels.min(initial=0) < 0 or labels.max(initial=0) > 255:
        raise ValueError(f"labels must be in [0, 255] for an 8-bit PNG, got [{labels.min()}, {labels.max()}]")
    image = Image.fromarray(labels.astype(np.uint8))
    if palette is not None:
        image.putpalette(palette_bytes(palette))  # L → P, the label values untouched
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


def write_png(path: str | Path, pixels: np.ndarray) -> None:
    """(H, W) or (H, W, 4) uint8 → a grayscale or RGBA PNG (mattes and cut-outs)."""
    image = Image.fromarray(np.ascontiguousarray(pixels.astype(np.uint8)))
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))


def write_npy(path: str | Path, array: np.ndarray) -> None:
    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.save(handle, array)

    atomic_write(path, save)


def write_image(path: str | Path, rgb: np.ndarray) -> None:
    """(H, W, 3) uint8 → file in the format of its suffix."""
    suffix = Path(path).suffix.lstrip(".").upper()
    fmt = {"JPG": "JPEG"}.get(suffix, suffix)
    atomic_write(path, lambda tmp: Image.fromarray(rgb).save(tmp, format=fmt))
