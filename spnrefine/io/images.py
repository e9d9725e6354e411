"""Read any image as 8-bit RGB the way users expect (EXIF rotation, grayscale, alpha, 16-bit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import SpnrefineError

MAX_PIXELS = 16_000_000
"""Larger images go through the backbone and the refiner at this many pixels and are resized back."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """16/32-bit integer pixels → their top 8 of 16 bits; float pixels → [0, 1] scaled to 255."""
    if np.issubdtype(array.dtype, np.integer):
        return (array.astype(np.int64).clip(0, 65535) >> 8).astype(np.uint8)
    return (np.clip(array, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def open_image(path: str | Path, upright: bool = True) -> Image.Image:
    """Decode an image file completely; every failure becomes an error naming the file."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image) if upright else image
            image.load()
            return image
    except FileNotFoundError:
        raise SpnrefineError(f"{path}: no such file") from None
    except PermissionError:
        raise SpnrefineError(f"{path}: permission denied") from None
    except UnidentifiedImageError:
        raise SpnrefineError(f"{path}: not an image file (or a format Pillow cannot read)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise SpnrefineError(f"{path}: corrupt or truncated image ({error})") from None


def read_image(path: str | Path) -> np.ndarray:
    """Image file → (H, W, 3) uint8 RGB, upright per its EXIF orientation.

    Grayscale is repeated to 3 channels, alpha is dropped, 16-bit keeps its top 8 bits.
    """
    image = open_image(path)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        gray = _to_uint8(np.asarray(image))
        return np.repeat(gray[:, :, None], 3, axis=2)
    return np.array(image.convert("RGB"))  # writable


def image_in(folder: str | Path, name: str) -> Path:
    """``folder/name``, or, for a bare stem (list files of stems), the file ``folder/name.*`` with that stem;
    the first path if neither exists (the caller reports it)."""
    path = Path(folder) / name
    if path.is_file() or Path(name).suffix:
        return path
    return next((p for p in sorted(Path(folder).glob(f"{name}.*")) if p.stem == name), path)
