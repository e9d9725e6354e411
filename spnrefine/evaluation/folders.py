"""``spnrefine evaluate``: predictions against ground truth over two folders, paired by file stem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SpnrefineError
from ..io.masks import check_label_range, read_label_png
from ..jobs.files import find_files, relative_stem
from .metrics import SegmentationMetrics

MASK_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")


def pair_by_stem(pred_dir: Path, gt_dir: Path) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(prediction, ground truth) pairs by relative stem (or plain stem when unique); unpaired GT files."""
    predictions = find_files(pred_dir, MASK_SUFFIXES)
    by_relative = {relative_stem(p, pred_dir): p for p in predictions}
    by_stem: dict[str, list[Path]] = {}
    for p in predictions:
        by_stem.setdefault(p.stem, []).append(p)
    pairs, missing = [], []
    for truth in find_files(gt_dir, MASK_SUFFIXES):
        pred = by_relative.get(relative_stem(truth, gt_dir))
        if pred is None and len(by_stem.get(truth.stem, [])) == 1:
            pred = by_stem[truth.stem][0]
        if pred is None:
            missing.append(truth)
        else:
            pairs.append((pred, truth))
    return pairs, missing


@dataclass(frozen=True)
class ImageResult:
    """One image's scores (%): mIoU over the classes in its ground truth or prediction, boundary IoU, mBA."""

    truth: Path
    prediction: Path
    miou: float | None
    boundary_iou: float | None
    mba: float | None

    def as_dict(self) -> dict:
        return {"image": self.truth.stem, "ground_truth": str(self.truth), "prediction": str(self.prediction),
                "miou": self.miou, "boundary_iou": self.boundary_iou, "mba": self.mba}


def evaluate_folders(
    pred_dir: Path,
    gt_dir: Path,
    num_classes: int,
    ignore_index: int | None,
    clip: bool = False,
    allow_missing: bool = False,
    boundary: bool = True,
    only: set[Path] | None = None,
    per_image: list[ImageResult] | None = None,
) -> tuple[SegmentationMetrics, list[Path], list[Path]]:
    """Metrics over the ground-truth masks that have a prediction (restricted to ``only`` if given);
    returns them, the ground-truth files left without a prediction, and those evaluated. Each image's own
    scores are appended to ``per_image`` when it is given."""
    pairs, missing = pair_by_stem(pred_dir, gt_dir)
    if only is not None:
        missing = [m for m in missing if m in only]
        pairs = [(p, t) for p, t in pairs if t in only]
    if not pairs:
        raise SpnrefineError(f"no prediction in {pred_dir} has the file stem of a ground-truth mask in {gt_dir}")
    if missing and not allow_missing:
        names = ", ".join(str(m) for m in missing[:5])
        raise SpnrefineError(f"{len(missing)} ground-truth masks have no prediction in {pred_dir} (e.g. {names}); "
                             "pass --allow-missing to evaluate the pairs that exist")
    metrics = SegmentationMetrics(num_classes, ignore_index, boundary=boundary)
    for pred_path, truth_path in pairs:
        truth = check_label_range(read_label_png(truth_path), num_classes, ignore_index, truth_path, clip)
        prediction = read_label_png(pred_path)
        if prediction.shape != truth.shape:
            raise SpnrefineError(f"{pred_path}: size {prediction.shape[::-1]} differs from its ground truth "
                                 f"{truth_path} {truth.shape[::-1]}")
        image = SegmentationMetrics(num_classes, ignore_index, boundary=boundary)
        image.update(prediction, truth)
        metrics.merge(image)
        if per_image is not None:
            summary = image.summary()
            per_image.append(ImageResult(truth_path, pred_path, summary["miou"], summary["boundary_iou"],
                                         summary["mba"]))
    return metrics, missing, [t for _, t in pairs]


def outside_warning(summary: dict, num_classes: int, folder) -> str | None:
    """A sentence when most predicted pixels are outside [0, K) (all of them count as wrong), else None."""
    confusion = summary["confusion"]
    total = sum(sum(row) for row in confusion)
    outside = sum(row[-1] for row in confusion)
    if not total or outside / total <= 0.5:
        return None
    return (f"{100 * outside / total:.0f}% of the predicted pixels in {folder} are outside [0, {num_classes}) and "
            f"all count as wrong. That usually means the masks use other values than class ids, e.g. 0/255 "
            f"binary masks (map 255 to 1 first) or ids from a larger label set (check --num-classes).")


def format_report(summary: dict, other: dict | None = None, names: tuple[str, str] = ("pred", "other")) -> list[str]:
    """A terminal table: per-class IoU and boundary IoU, then the dataset numbers (and deltas vs ``other``)."""

    def cell(value):
        return "   n/a" if value is None else f"{value:6.2f}"

    def delta(a, b):
        return "" if a is None or b is None else f"{a - b:+7.2f}"

    lines = []
    head = f"{'class':<16}{'IoU':>8}{'bIoU':>8}"
    if other:
        head += f"{'other IoU':>12}{'ΔIoU':>8}{'ΔbIoU':>8}   (Δ = {names[0]} − other = {names[1]})"
    lines.append(head)
    boundary = summary.get("per_class_boundary_iou") or {}
    other_boundary = (other or {}).get("per_class_boundary_iou") or {}
    for name, iou in summary["per_class_iou"].items():
        row = f"{name:<16}{cell(iou):>8}{cell(boundary.get(name)):>8}"
        if other:
            o = other["per_class_iou"].get(name)
            row += f"{cell(o):>12}{delta(iou, o):>8}{delta(boundary.get(name), other_boundary.get(name)):>8}"
        lines.append(row)
    lines.append("")
    for key, label in (("miou", "mIoU"), ("boundary_iou", "boundary IoU"), ("mba", "mBA"),
                       ("pixel_accuracy", "pixel accuracy"), ("mean_accuracy", "mean accuracy")):
        row = f"{label:<16}{cell(summary[key]):>8}"
        if other:
            row += f"{cell(other[key]):>12}{delta(summary[key], other[key]):>8}"
        lines.append(row)
    lines.append(f"{'images':<16}{summary['images']:>8}")
    return lines
