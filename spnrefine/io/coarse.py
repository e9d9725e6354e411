"""Read coarse masks in every form users have and turn them into (K, H, W) probabilities.

* label PNGs (one class id per pixel, 8/16-bit or palette),
* colour-coded RGB PNGs with a palette (preset or file) mapping colours to ids,
* probability maps ``.npy`` / ``.npz`` of shape (K, H, W).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SpnrefineError
from .images import open_image
from .masks import labels_from_image

MASK_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".npy", ".npz")
HARD_LABEL_CONFIDENCE = 0.9
"""Hard labels become probabilities 0.9 on the label and 0.1 spread over all classes."""


def read_palette_file(path: Path) -> list[tuple[int, int, int]]:
    """One ``r g b`` (or ``r,g,b``) line per class id."""
    colours = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        if len(parts) < 3 or not all(p.isdigit() and int(p) < 256 for p in parts[:3]):
            raise SpnrefineError(f"{path}:{number}: expected 'r g b' with values 0..255, got {line!r}")
        colours.append(tuple(int(p) for p in parts[:3]))
    if not colours:
        raise SpnrefineError(f"{path}: no colours in palette file")
    return colours


def colours_to_labels(rgb: np.ndarray, palette, path: Path, ignore_index: int | None) -> np.ndarray:
    """(H, W, 3) colour mask → (H, W) ids; colours not in the palette are an error naming them."""
    codes = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    lookup = {}
    for index, (r, g, b) in enumerate(palette):
        lookup.setdefault((r << 16) | (g << 8) | b, index)
    keys = np.array(list(lookup), dtype=np.int64)
    values = np.array(list(lookup.values()), dtype=np.int64)
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    position = np.searchsorted(keys, codes).clip(0, len(keys) - 1)
    known = keys[position] == codes
    if not known.all():
        unknown = np.unique(codes[~known])[:5]
        names = ", ".join(f"({c >> 16}, {(c >> 8) & 255}, {c & 255})" for c in unknown)
        raise SpnrefineError(f"{path}: colours not in the palette: {names}")
    return values[position]


def labels_to_probabilities(labels: np.ndarray, num_classes: int, ignore_index: int | None) -> np.ndarray:
    """(H, W) ids → (K, H, W) float32; ignored pixels are uniform."""
    k = num_classes
    probs = np.full((k, *labels.shape), (1 - HARD_LABEL_CONFIDENCE) / k, np.float32)
    valid = (labels >= 0) & (labels < k)
    rows, cols = np.nonzero(valid)
    probs[labels[valid], rows, cols] += HARD_LABEL_CONFIDENCE
    if ignore_index is not None:
        probs[:, labels == ignore_index] = 1.0 / k
    return probs


HARD_LABEL_BLUR = 0.0025
"""Hard labels are blurred with a Gaussian of sigma = 0.25% of the image diagonal (1.5 px at 480×360):
the refiner learned from network outputs, which are uncertain near boundaries. Chosen on the refiner's
CamVid training images (hard ESPNet labels: +0.49 mIoU at 1–1.5 px, +0.38 at 2, −1.2 at 6, 0 unblurred)."""


MIN_LATTICE_LINES = 8
"""A mask is taken as blocky only if its label changes fall on at least this many distinct columns and rows."""
MIN_NEXT_BLOCK_SHARE = 1 / 3
"""... and at least this share of those lines are one block from the next (a boundary crossing block after
block; upsampled masks: ≥ 0.45, 0.9 typically; rectangles drawn anywhere: ≤ 0.23)."""


def lattice_side(changes: np.ndarray) -> int:
    """(L,) bool, whether something changes before each column (row) → the side of the blocks if the changes
    lie on a lattice (at least a block apart, most of them exactly one), else 1."""
    lines = np.flatnonzero(changes)
    if len(lines) < MIN_LATTICE_LINES:
        return 1
    gaps = np.diff(lines)
    side = int(gaps.min())  # blocks of a non-integer scale are `side` or `side` + 1 pixels
    return side if np.mean(gaps <= side + 1) >= MIN_NEXT_BLOCK_SHARE else 1


def block_size(labels: np.ndarray) -> int:
    """(H, W) ids → the side of the blocks of a mask upsampled by nearest neighbour from a low resolution (every
    label change falls between two blocks), or 1 for any other mask (a boundary that is not axis-aligned
    changes at neighbouring columns; axis-aligned ones drawn anywhere are irregularly spaced)."""
    return min(lattice_side((labels[:, 1:] != labels[:, :-1]).any(0)), lattice_side((labels[1:] != labels[:-1]).any(1)))


MAX_BLOCK_BLUR = 8.0
"""Blocks larger than 16 px are blurred by 8 px only: the refiner reaches about that far (×16: +3 to +5 mIoU, ×32:
+1), and the blur's cost grows with it."""


def hard_label_sigma(labels: np.ndarray, block: int | None = None) -> float:
    """Blur of a hard label mask, pixels: ``HARD_LABEL_BLUR`` of the diagonal, or half a block (at most
    ``MAX_BLOCK_BLUR``) for a blocky mask (nearest-neighbour upsampled: its boundaries are off by up to a block,
    so they are made that uncertain). block: its ``block_size`` if known."""
    default = max(0.5, HARD_LABEL_BLUR * float(np.hypot(*labels.shape)))
    return max(default, min((block_size(labels) if block is None else block) / 2, MAX_BLOCK_BLUR))


def resize_maps(maps: np.ndarray, size: tuple[int, int], interpolation: int | None = None) -> np.ndarray:
    """(K, H, W) float maps → (K, h, w), each channel resized to ``size`` = (w, h) (OpenCV; default bilinear)."""
    import cv2

    how = cv2.INTER_LINEAR if interpolation is None else interpolation
    return np.stack([cv2.resize(m, size, interpolation=how) for m in maps])


def soften(probs: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """(K, H, W) probabilities of hard labels → blurred near label boundaries (by ``sigma``; None: as
    ``hard_label_sigma`` of their argmax), renormalized."""
    import cv2

    sigma = hard_label_sigma(probs.argmax(0)) if sigma is None else sigma
    blurred = np.stack([cv2.GaussianBlur(p, (0, 0), sigma) for p in probs])
    return blurred / blurred.sum(0, keepdims=True)


def binary_foreground(labels: np.ndarray, num_classes: int, ignore_index: int | None) -> int | None:
    """The foreground value v of a two-valued mask {0, v} (0/255 as rembg, SAM exports and photo tools write)
    that cannot be a K-class label mask (v ≥ K); None for an ordinary label mask."""
    valid = labels[labels != ignore_index] if ignore_index is not None else labels
    values = np.unique(valid)
    if len(values) == 0 or values.min() != 0 or len(values) > 2 or values.max() < max(num_classes, 2):
        return None
    return int(values.max())


def soft_matte_levels(labels: np.ndarray) -> int | None:
    """The number of gray levels of a mask that is a soft matte or a bilinearly upsampled mask (values 0 … 255
    or 0 … 65535, many levels in between that change from pixel to pixel, as ramps do), None for a label mask
    (whose ids fill regions: a pixel's neighbour mostly has its id)."""
    top = int(labels.max(initial=0))
    if top not in (255, 65535) or labels.min(initial=0) != 0:
        return None
    levels = np.unique(labels)
    if len(levels) < 16:
        return None
    between = (labels[:, :-1] > 0) & (labels[:, :-1] < top)
    same = labels[:, :-1] == labels[:, 1:]
    return len(levels) if (between & same).sum() < 0.5 * between.sum() else None


def to_two_channels(foreground: np.ndarray) -> np.ndarray:
    """(H, W) foreground probability → (2, H, W): background, foreground."""
    return np.stack([1 - foreground, foreground])


def probability_layout(array: np.ndarray, path: Path, image_size: tuple[int, int] | None = None) -> np.ndarray:
    """A probability array as segmenters write them → (K, H, W).

    (H, W) and (1, H, W): foreground probability (MediaPipe's and every sigmoid head's layout) → 2 channels.
    (K, H, W) as is. (H, W, K) is recognised when (H, W) is the image's size; otherwise a channel-last
    looking shape is refused with how to save it.
    """
    if array.ndim == 2 or (array.ndim == 3 and array.shape[0] == 1):
        return to_two_channels(array.reshape(array.shape[-2:]))
    if array.ndim != 3:
        raise SpnrefineError(f"{path}: probability maps must be (K, H, W), (H, W) or (1, H, W), got shape {array.shape}")
    if image_size is not None and array.shape[1:] != image_size and array.shape[:2] == image_size:
        return np.ascontiguousarray(array.transpose(2, 0, 1))  # channel-last (H, W, K) of this image
    if array.shape[2] < min(array.shape[:2]) and array.shape[0] > array.shape[2] and (
            image_size is None or array.shape[1:] != image_size):
        raise SpnrefineError(f"{path}: shape {array.shape} looks channel-last (H, W, K) and does not fit the image; "
                             "save it as (K, H, W), e.g. np.save(path, probs.transpose(2, 0, 1))")
    return array


def read_probability_map(path: Path, image_size: tuple[int, int] | None = None) -> np.ndarray:
    """(K, H, W) float32 probabilities summing to 1 from ``.npy``/``.npz`` in any layout of
    :func:`probability_layout`; ``image_size`` (H, W) lets channel-last maps be recognised."""
    if not path.is_file():
        raise SpnrefineError(f"{path}: no such file")
    try:
        if path.suffix == ".npz":
            with np.load(path) as archive:
                key = "probs" if "probs" in archive else archive.files[0]
                array = archive[key]
        else:
            array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, IndexError) as error:
        raise SpnrefineError(f"{path}: not a readable .npy/.npz array ({error})") from None
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise SpnrefineError(f"{path}: contains NaN or infinite values")
    if array.min() < -1e-3 or array.max() > 1 + 1e-3:
        raise SpnrefineError(f"{path}: values must be probabilities in [0, 1], got [{array.min():.3g}, "
                             f"{array.max():.3g}] (logits? apply a softmax first)")
    array = probability_layout(array.clip(0, 1), path, image_size)
    return array / np.maximum(array.sum(0, keepdims=True), 1e-6)


def read_alpha(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """A cut-out or a soft matte as foreground probability: (H, W) float32 in [0, 1], and the cut-out's
    (H, W, 3) uint8 colours (None for a matte). RGBA/LA: the alpha channel; L/I;16: the value / its maximum."""
    image = open_image(path, upright=False)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"))
        return rgba[..., 3].astype(np.float32) / 255, np.ascontiguousarray(rgba[..., :3])
    if image.mode == "L":
        return np.asarray(image).astype(np.float32) / 255, None
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return (np.asarray(image).astype(np.float32) / 65535).clip(0, 1), None
    raise SpnrefineError(f"{path}: --alpha reads an RGBA cut-out or a single-channel matte, got mode {image.mode} "
                         "(no alpha channel)")


def read_coarse_labels(path: Path, palette, ignore_index: int | None) -> np.ndarray:
    """A mask PNG → (H, W) ids; colour-coded (RGB) masks need ``palette``."""
    image = open_image(path, upright=False)
    if image.mode in ("RGB", "RGBA"):
        if palette is None:
            raise SpnrefineError(f"{path}: a colour-coded mask needs --palette (a preset or a file)")
        return colours_to_labels(np.asarray(image.convert("RGB")), palette, path, ignore_index)
    return labels_from_image(image, path)
