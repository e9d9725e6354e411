"""``spnrefine refine``: refine a folder of coarse masks, paired with their images by file stem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import SpnrefineError
from ..io.coarse import (
    MASK_SUFFIXES,
    binary_foreground,
    read_coarse_labels,
    read_probability_map,
    resize_maps,
    soft_matte_levels,
)
from ..io.images import read_image
from ..io.masks import check_label_range, read_label_png
from ..io.writers import remove_stale_temporaries
from ..labels import class_labels
from ..refiner.channels import LabelChannels, ProbabilityChannels
from ..refiner.then_crf import check_mode, crf_following, require_dense_crf
from .files import find_files, keep_listed, relative_stem, with_extension
from .outputs import OutputOptions, write_outputs
from .report import BatchReport
from .runner import run_chunks
from .types import EngineOptions, Outcome, chunked


@dataclass(frozen=True)
class Pair:
    stem: Path  # relative to the image folder, no suffix
    image: Path
    mask: Path


def pair_images_and_masks(images: Path, masks: Path, names: list[str] | None, exclude: tuple[Path, ...]):
    """Pairs by relative stem; returns (pairs, images without mask, masks without image, listed names
    without an image). With ``names`` only those images are paired and other masks are not reported."""
    image_files = find_files(images, exclude=exclude)
    mask_files = find_files(masks, MASK_SUFFIXES, exclude=exclude)
    by_stem = {}
    # several masks with one stem (e.g. segment's <stem>.png and <stem>.npy): prefer probabilities
    for mask in sorted(mask_files, key=lambda m: m.suffix not in (".npy", ".npz")):
        by_stem.setdefault(relative_stem(mask, masks), mask)
    unlisted: list[str] = []
    if names is not None:
        image_files, unlisted = keep_listed(image_files, lambda image: relative_stem(image, images), names)
    pairs, lonely_images = [], []
    for image in image_files:
        stem = relative_stem(image, images)
        mask = by_stem.pop(stem, None)
        if mask is None:
            lonely_images.append(image)
        else:
            pairs.append(Pair(stem, image, mask))
    lonely_masks = list(by_stem.values()) if names is None else []
    return pairs, lonely_images, lonely_masks, unlisted


@dataclass
class RefinePlan:
    """What ``refine`` will do: the pairs, the failures known before any work, and a note for the user."""

    pairs: list[Pair]
    failed: dict[Path, str]  # input → why (listed images without an image or a mask)
    unpaired: str | None  # without --list: a line about images and masks that found no partner
    num_classes: int
    inferred: str | None  # how num_classes was inferred from the masks (None: it was given)


def plan_refine(images: Path, masks: Path, out: Path, names: list[str] | None = None, palette=None,
                num_classes: int | None = None, ignore_index: int | None = None) -> RefinePlan:
    """Pair images and masks (only ``names``, if given), refuse an output folder that is an input folder,
    and infer K from the masks when ``num_classes`` is None."""
    if Path(images).resolve() == Path(out).resolve() or Path(masks).resolve() == Path(out).resolve():
        raise SpnrefineError(f"{out}: the output folder must differ from the image and mask folders")
    pairs, lonely_images, lonely_masks, unlisted = pair_images_and_masks(images, masks, names, exclude=(out,))
    failed: dict[Path, str] = {}  # with a list, every listed image was asked for: a missing one is a failure
    unpaired = None
    if names is not None:
        failed = {Path(n): f"{n}: listed, but no such image in {images}" for n in unlisted}
        failed |= {image: f"{image}: listed, but no mask with its stem in {masks}" for image in lonely_images}
    elif lonely_images or lonely_masks:
        unpaired = (f"unpaired: {len(lonely_images)} images without a mask, {len(lonely_masks)} masks without an "
                    f"image (e.g. {', '.join(str(p) for p in [*lonely_images, *lonely_masks][:3])})")
    if not pairs:
        raise SpnrefineError(f"no image in {images} has a mask with the same stem in {masks}")
    inferred = None
    if num_classes is None:
        num_classes, inferred = infer_num_classes(pairs, palette, ignore_index)
    return RefinePlan(pairs, failed, unpaired, num_classes, inferred)


def infer_num_classes(pairs: list[Pair], palette, ignore_index: int | None, sample: int = 16) -> tuple[int, str]:
    """K and how it was found: from the first probability map; 2 when the first ``sample`` label masks
    are all two-valued (0/v: binary masks such as 0/255); else max label + 1 over them. A mask that is a soft
    matte (``soft_matte_levels``) is refused: its gray levels are not classes."""
    highest, two_valued, counted = -1, True, 0
    for pair in pairs[:sample]:
        try:  # a bad mask is reported later, by the batch; here it is just not counted
            if pair.mask.suffix in (".npy", ".npz"):
                return read_probability_map(pair.mask, image_size(pair.image)).shape[0], "from the probability maps"
            labels = read_coarse_labels(pair.mask, palette, ignore_index)
        except SpnrefineError:
            continue
        levels = soft_matte_levels(labels) if palette is None and ignore_index != labels.max() else None
        if levels is not None:
            raise SpnrefineError(f"{pair.mask}: a soft matte or an upsampled mask, not class ids ({levels} gray levels "
                                 "that change from pixel to pixel): pass --alpha to refine it as foreground "
                                 "probability, or --num-classes to read its values as labels")
        valid = labels[labels != ignore_index] if ignore_index is not None else labels
        values = np.unique(valid)
        two_valued &= len(values) <= 2 and (len(values) == 0 or values.min() == 0)
        highest = max(highest, int(valid.max(initial=-1)))
        counted += 1
    if highest < 0:
        raise SpnrefineError("cannot infer the number of classes: the first masks hold only the ignore index "
                             f"{ignore_index}; pass --num-classes" if ignore_index is not None else
                             "cannot infer the number of classes: no readable mask among the first ones")
    if two_valued and counted and highest > 1:
        return 2, f"two-valued masks 0/{highest}: background and foreground, written back as 0/{highest}"
    return highest + 1, "the largest label + 1"


def image_size(path: Path) -> tuple[int, int] | None:
    """(H, W) of an image from its header, or None if unreadable (reported later by the batch)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
            if image.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # EXIF-rotated by 90°: read upright
                width, height = height, width
            return height, width
    except (OSError, ValueError, SyntaxError):
        return None


def load_coarse(pair: Pair, num_classes: int, ignore_index: int | None, palette, image_shape, resize_masks: bool
                ) -> tuple[ProbabilityChannels | LabelChannels, int | None]:
    """The coarse map on the channels that matter (``refiner.channels``: the classes present in a label mask,
    the channels with probability mass in a map) and, for a two-valued 0/v mask, v (the refined mask is
    written back in those values); checked against the image."""
    import cv2

    height, width = image_shape[:2]
    if pair.mask.suffix in (".npy", ".npz"):
        probs = read_probability_map(pair.mask, (height, width))
        if probs.shape[0] != num_classes:
            raise SpnrefineError(f"{pair.mask}: {probs.shape[0]} classes, expected {num_classes}")
        if probs.shape[1:] != (height, width):
            if not resize_masks:
                raise SpnrefineError(f"{pair.mask}: size {probs.shape[2]}x{probs.shape[1]} differs from the image "
                                     f"{pair.image} {width}x{height} (--resize-masks to resize)")
            probs = resize_maps(probs, (width, height))
        return ProbabilityChannels(probs), None
    labels = read_coarse_labels(pair.mask, palette, ignore_index)
    foreground = binary_foreground(labels, num_classes, ignore_index) if num_classes == 2 else None
    if foreground is not None:
        labels = np.where(labels == foreground, 1, labels)
    if labels.shape != (height, width):
        if not resize_masks:
            raise SpnrefineError(f"{pair.mask}: size {labels.shape[1]}x{labels.shape[0]} differs from the image "
                                 f"{pair.image} {width}x{height} (--resize-masks to resize with nearest neighbour)")
        labels = cv2.resize(labels.astype(np.int32), (width, height), interpolation=cv2.INTER_NEAREST)
    labels = check_label_range(labels, num_classes, ignore_index, pair.mask)
    return LabelChannels(labels, num_classes, ignore_index), foreground


def load_alpha(pair: Pair, image_shape, resize_masks: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(2, H, W) probabilities from a cut-out's alpha or a matte, and the cut-out's colours (None: a matte)."""
    import cv2

    from ..io.coarse import read_alpha, to_two_channels

    height, width = image_shape[:2]
    foreground, colours = read_alpha(pair.mask)
    if foreground.shape != (height, width):
        if not resize_masks:
            raise SpnrefineError(f"{pair.mask}: size {foreground.shape[1]}x{foreground.shape[0]} differs from the "
                                 f"image {pair.image} {width}x{height} (--resize-masks to resize)")
        foreground = cv2.resize(foreground, (width, height), interpolation=cv2.INTER_LINEAR)
        colours = None if colours is None else cv2.resize(colours, (width, height), interpolation=cv2.INTER_LINEAR)
    return to_two_channels(foreground), colours


@dataclass(frozen=True)
class RefineSetup:
    """What a worker needs to refine pairs and write outputs (picklable: sent to Ray workers)."""

    checkpoint: str
    num_classes: int
    ignore_index: int | None
    palette: list  # colours the outputs
    mask_palette: list | None  # decodes colour-coded masks (None: none given)
    options: OutputOptions
    out: Path
    truth_dir: Path | None = None  # ground truth for the --compare pictures
    resize_masks: bool = False
    alpha: bool = False  # masks are cut-outs/mattes: foreground probability, written back as such
    sharpen_lowres: bool = True  # probability maps that are upsampled hard masks sharpened (refiner.softness)
    precision: str = "auto"  # the guidance's number format (refiner.precision)
    then_crf: str = "never"  # dense CRF on the refined probabilities: never, auto or always (refiner.then_crf)
    mirror: bool = False  # the mirror image refined too, the two maps averaged (Refiner)
    upscale: float = 1.0  # refined at this many times the image's size, resized back (Refiner)
    thin_guard: bool = True  # thin regions the coarse map is sure of keep its class (refiner.thin_guard)

    def build(self, device: torch.device) -> RefineWorker:
        from ..refiner import Refiner

        if check_mode(self.then_crf) != "never":
            require_dense_crf("--then-crf")
        refiner = Refiner.load(self.checkpoint, device, self.sharpen_lowres, self.precision, self.mirror,
                                self.upscale, self.thin_guard)
        refiner.check_classes(self.num_classes, f"checkpoint {self.checkpoint}")
        return RefineWorker(refiner, self)


class RefineWorker:
    def __init__(self, refiner, setup: RefineSetup):
        self.refiner, self.setup = refiner, setup

    def process(self, chunk: list[Pair]) -> list[Outcome]:
        outcomes = []
        for pair in chunk:
            try:
                then_crf = self._refine(pair)
                outcomes.append(Outcome(pair.image, self.setup.options.paths(self.setup.out, pair.stem)[0],
                                        then_crf=then_crf))
            except SpnrefineError as error:
                outcomes.append(Outcome(pair.image, None, str(error)))
            except (RuntimeError, ValueError, OSError) as error:
                outcomes.append(Outcome(pair.image, None, f"{pair.image}: {type(error).__name__}: {error}"))
        return outcomes

    def _refine(self, pair: Pair) -> str | None:
        """Refine one pair; writes ``out/<stem>.png`` and the optional outputs. The dense CRF that followed, if any
        ("always": the weak one, "strong": DeepLab's)."""
        setup = self.setup
        image = read_image(pair.image)
        colours, foreground = None, None
        if setup.alpha:
            probs, colours = load_alpha(pair, image.shape, setup.resize_masks)
            coarse = ProbabilityChannels(probs, threshold=0)
        else:
            coarse, foreground = load_coarse(pair, setup.num_classes, setup.ignore_index, setup.mask_palette,
                                             image.shape, setup.resize_masks)
        coarse_probs = None if coarse.hard else coarse.probs
        coarse = self.refiner.fitting(coarse)
        keep = setup.options.save_probs or setup.alpha or setup.then_crf != "never"
        refined, labels = self.refiner.refine_channels(image, coarse, keep_probabilities=keep)
        crf, marginals = crf_following(setup.then_crf, image, coarse_probs, refined)
        if marginals is not None:
            refined, labels = marginals, coarse.channels.labels(marginals.argmax(0))
        coarse_labels = None
        truth = None
        if setup.options.compare or setup.options.coarse_labels:
            if setup.options.compare and setup.truth_dir is not None:
                truth_path = setup.truth_dir / with_extension(pair.stem, ".png")
                truth = read_label_png(truth_path) if truth_path.is_file() else None
            coarse_labels = coarse_labels_of(coarse)
        main = None
        if foreground is not None:  # a 0/v mask comes back as 0/v
            main = np.array([0, foreground], np.uint8)[labels]
        if setup.alpha:  # the refined foreground probability, as the input had it: a matte or a cut-out
            matte = np.round(refined[1] * 255).astype(np.uint8)
            main = matte if colours is None else np.dstack([colours, matte])
        probs = coarse.channels.expand(refined) if setup.options.save_probs else None
        write_outputs(setup.options, setup.out, pair.stem, labels, probs, setup.palette, image, coarse_labels,
                      truth, main)
        return crf


def coarse_labels_of(coarse: ProbabilityChannels | LabelChannels) -> np.ndarray:
    """(H, W) class ids of the coarse input (a label mask's own labels; a map's most probable class)."""
    if isinstance(coarse, LabelChannels):
        return coarse.labels
    return class_labels(torch.from_numpy(np.asarray(coarse.probs, np.float32))[None])[0].numpy()


PAIRS_PER_CHUNK = 4  # one image at a time either way; a chunk is the unit a Ray worker takes


def run_refine(setup: RefineSetup, pairs: list[Pair], device: torch.device, engine: EngineOptions = EngineOptions(),
               overwrite: bool = False, progress: bool = True, verbose: bool = False,
               failed: dict[Path, str] | None = None) -> BatchReport:
    """Refine every pair that has no outputs yet (all with ``overwrite``); ``failed`` (input → why) enters
    the report as failures (e.g. listed images without a mask)."""
    worker = setup.build(device)  # bad weights or classes fail before any work
    remove_stale_temporaries(setup.out)  # left by a run that was killed mid-write
    todo = [p for p in pairs if overwrite or not all(path.exists() for path in setup.options.paths(setup.out, p.stem))]
    report = BatchReport(skipped=len(pairs) - len(todo), then_crf=None if setup.then_crf == "never" else 0)
    for path, why in (failed or {}).items():
        report.fail(path, why)
    return run_chunks(setup, worker, chunked(todo, PAIRS_PER_CHUNK), engine, report, progress, verbose)
