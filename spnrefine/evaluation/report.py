"""A static HTML report of an evaluation: dataset metrics, charts, and a gallery of every image sorted by
how much it gained or lost against another prediction (worst first).

One ``index.html`` plus ``gallery-N.html`` pages of 100 rows and the pictures they show; it opens from
disk (no server, no network, no JavaScript). The report is built in a temporary folder beside the target
and renamed into place, so an interrupted run leaves no half-written report; an existing folder is
replaced only if it is an earlier report (it holds ``REPORT_MARKER``).
"""

from __future__ import annotations

import html
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import SpnrefineError
from ..io.images import read_image
from ..io.masks import read_label_png
from ..io.pictures import colourize, side_by_side
from ..io.writers import write_image
from ..jobs.files import find_files, relative_stem
from .charts import confusion_chart, per_class_chart
from .folders import ImageResult

REPORT_MARKER = ".spnrefine-report"
ROWS_PER_PAGE = 100
THUMB_HEIGHT = 120
FIXED, BROKEN, WRONG = (40, 200, 80), (230, 40, 40), (230, 40, 40)


@dataclass(frozen=True)
class ReportInput:
    """What the report shows. ``other``: the prediction compared against (None: none)."""

    summary: dict
    per_image: list[ImageResult]
    class_names: list[str]
    palette: list
    prediction_name: str
    other_summary: dict | None = None
    other_per_image: dict[Path, ImageResult] | None = None  # by ground-truth path
    other_name: str = ""
    images: Path | None = None  # the photos, for the gallery (paired by stem)
    ignore_index: int | None = None


def error_picture(truth: np.ndarray, prediction: np.ndarray, other: np.ndarray | None, palette,
                  ignore_index: int | None) -> np.ndarray:
    """Ground truth in colour, dimmed, with the pixels ``prediction`` fixed (other wrong, it right) in green
    and broke (other right, it wrong) in red; without ``other``: every wrong pixel in red."""
    picture = (colourize(truth, palette) * 0.45 + 255 * 0.25).astype(np.uint8)
    valid = truth != ignore_index if ignore_index is not None else np.ones(truth.shape, bool)
    right = (prediction == truth) & valid
    if other is None:
        picture[valid & ~right] = WRONG
        return picture
    other_right = (other == truth) & valid
    picture[right & ~other_right] = FIXED
    picture[~right & other_right & valid] = BROKEN
    return picture


def _thumbnail(picture: np.ndarray) -> np.ndarray:
    scale = THUMB_HEIGHT / picture.shape[0]
    return cv2.resize(picture, (max(1, round(picture.shape[1] * scale)), THUMB_HEIGHT), interpolation=cv2.INTER_AREA)


def _fmt(value, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}
td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}th{background:#f3f3f3}td:first-child,
th:first-child{text-align:left}.gain{color:#1d7a3a}.loss{color:#c0392b}.gallery td{vertical-align:top}
.gallery img{display:block}nav a{margin-right:8px}h2{margin-top:28px}.key span{padding:0 6px;color:#fff}"""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


def _signed_cell(value) -> str:
    css = "" if value is None or abs(value) < 0.005 else ("gain" if value > 0 else "loss")
    return f'<td class="{css}">{_fmt(value, signed=True)}</td>'


def _tables(data: ReportInput) -> str:
    s, o = data.summary, data.other_summary
    rows = []
    for key, label in (("miou", "mIoU"), ("boundary_iou", "boundary IoU"), ("mba", "mBA"),
                       ("pixel_accuracy", "pixel accuracy"), ("mean_accuracy", "mean accuracy")):
        cells = f"<td>{label}</td><td>{_fmt(s[key])}</td>"
        if o:
            delta = None if s[key] is None or o[key] is None else s[key] - o[key]
            cells += f"<td>{_fmt(o[key])}</td>{_signed_cell(delta)}"
        rows.append(f"<tr>{cells}</tr>")
    other_head = f"<th>{html.escape(data.other_name)}</th><th>Δ</th>" if o else ""
    dataset = (f"<table><tr><th>metric (%)</th><th>{html.escape(data.prediction_name)}</th>{other_head}</tr>"
               + "".join(rows) + f"</table><p>{s['images']} images.</p>")
    per_class = []
    boundary = s.get("per_class_boundary_iou") or {}
    for name in data.class_names:
        iou, biou = s["per_class_iou"].get(name), boundary.get(name)
        cells = f"<td>{html.escape(name)}</td><td>{_fmt(iou)}</td><td>{_fmt(biou)}</td>"
        if o:
            oi, ob = o["per_class_iou"].get(name), (o.get("per_class_boundary_iou") or {}).get(name)
            cells += (f"<td>{_fmt(oi)}</td>{_signed_cell(None if iou is None or oi is None else iou - oi)}"
                      f"{_signed_cell(None if biou is None or ob is None else biou - ob)}")
        per_class.append(f"<tr>{cells}</tr>")
    head = "<th>class</th><th>IoU</th><th>boundary IoU</th>" + (
        f"<th>{html.escape(data.other_name)} IoU</th><th>ΔIoU</th><th>Δ boundary IoU</th>" if o else "")
    return dataset + "<h2>Per class</h2><table><tr>" + head + "</tr>" + "".join(per_class) + "</table>"


def _charts(data: ReportInput, folder: Path) -> str:
    names, s, o = data.class_names, data.summary, data.other_summary
    boundary = s.get("per_class_boundary_iou") or {}
    if o:
        other_boundary = o.get("per_class_boundary_iou") or {}

        def change(a, b):
            return None if a is None or b is None else a - b

        series = {"IoU": [change(s["per_class_iou"].get(n), o["per_class_iou"].get(n)) for n in names]}
        if boundary:
            series["boundary IoU"] = [change(boundary.get(n), other_boundary.get(n)) for n in names]
        per_class_chart(folder / "per_class.png", names, series,
                        f"change per class: {data.prediction_name} − {data.other_name}", "Δ (percentage points)")
    else:
        series = {"IoU": [s["per_class_iou"].get(n) for n in names]}
        if boundary:
            series["boundary IoU"] = [boundary.get(n) for n in names]
        per_class_chart(folder / "per_class.png", names, series, "per-class scores", "%")
    confusion_chart(folder / "confusion.png", np.asarray(s["confusion"]), names)
    return ('<h2>Charts</h2><p><img src="charts/per_class.png" alt="per-class chart"></p>'
            '<p><img src="charts/confusion.png" alt="confusion matrix" style="max-width:100%"></p>')


def _ordered(data: ReportInput) -> list[tuple[ImageResult, ImageResult | None, float | None]]:
    """(result, other's result, change of mIoU) per image, worst change (or worst mIoU) first."""
    rows = []
    for result in data.per_image:
        other = data.other_per_image.get(result.truth) if data.other_per_image else None
        change = None if other is None or result.miou is None or other.miou is None else result.miou - other.miou
        rows.append((result, other, change))
    if data.other_per_image:
        return sorted(rows, key=lambda r: (r[2] is None, r[2] if r[2] is not None else 0, str(r[0].truth)))
    return sorted(rows, key=lambda r: (r[0].miou is None, r[0].miou or 0, str(r[0].truth)))


def _pictures(data: ReportInput, result: ImageResult, other: ImageResult | None, photos: dict, folder: Path,
              index: int) -> tuple[str, str, tuple[int, int]]:
    """Write the full-size and thumbnail composites of one image; their relative paths and thumbnail size."""
    truth = read_label_png(result.truth)
    prediction = read_label_png(result.prediction)
    other_labels = read_label_png(other.prediction) if other is not None else None
    panels = []
    photo = photos.get(result.truth.stem)
    if photo is not None:
        image = read_image(photo)
        if image.shape[:2] == truth.shape:
            panels.append(("image", image))
    if other_labels is not None:
        panels.append((data.other_name, colourize(other_labels, data.palette)))
    panels.append((data.prediction_name, colourize(prediction, data.palette)))
    key = "green fixed, red broken" if other_labels is not None else "red wrong"
    panels.append((f"ground truth ({key})", error_picture(truth, prediction, other_labels, data.palette,
                                                            data.ignore_index)))
    full = side_by_side(panels)
    thumb = _thumbnail(full)
    name = f"{index:05d}-{result.truth.stem}.jpg"
    write_image(folder / "full" / name, full)
    write_image(folder / "thumbs" / name, thumb)
    return f"images/full/{name}", f"images/thumbs/{name}", (thumb.shape[1], thumb.shape[0])


def _gallery_pages(data: ReportInput, folder: Path) -> list[str]:
    photos = {}
    if data.images is not None:
        photos = {relative_stem(p, data.images).name: p for p in find_files(data.images)}
    (folder / "images" / "full").mkdir(parents=True)
    (folder / "images" / "thumbs").mkdir()
    ordered = _ordered(data)
    pages = []
    for start in range(0, len(ordered), ROWS_PER_PAGE):
        rows = []
        for index, (result, other, change) in enumerate(ordered[start : start + ROWS_PER_PAGE], start + 1):
            full, thumb, (width, height) = _pictures(data, result, other, photos, folder / "images", index)
            scores = (f"mIoU {_fmt(result.miou)}<br>boundary IoU {_fmt(result.boundary_iou)}<br>mBA {_fmt(result.mba)}")
            if other is not None:
                css = "" if change is None or abs(change) < 0.005 else ("gain" if change > 0 else "loss")
                scores = (f'<span class="{css}">ΔmIoU {_fmt(change, signed=True)}</span><br>{scores}'
                          f"<br>{html.escape(data.other_name)} mIoU {_fmt(other.miou)}")
            rows.append(f'<tr><td>{index}. {html.escape(result.truth.stem)}<br><small>{scores}</small></td>'
                        f'<td><a href="{full}"><img src="{thumb}" width="{width}" height="{height}" loading="lazy" '
                        f'alt="{html.escape(result.truth.stem)}"></a></td></tr>')
        pages.append("".join(rows))
    return pages


def _nav(count: int, current: int) -> str:
    links = ['<a href="index.html">summary</a>'] if current else []
    for page in range(count):
        target = "index.html#gallery" if page == 0 else f"gallery-{page + 1}.html"
        label = f"page {page + 1}"
        links.append(f"<b>{label}</b>" if page == current else f'<a href="{target}">{label}</a>')
    return "<nav>" + " ".join(links) + "</nav>"


def write_report(target: Path, data: ReportInput) -> Path:
    """Build the report in a temporary folder and move it to ``target``; returns ``target / "index.html"``."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / REPORT_MARKER).exists())):
        raise SpnrefineError(f"{target}: exists and is not an earlier spnrefine report; choose another --html folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        (scratch / REPORT_MARKER).write_text("written by spnrefine evaluate --html\n")
        (scratch / "charts").mkdir()
        title = f"spnrefine evaluation: {data.prediction_name}" + (f" vs {data.other_name}" if data.other_name else "")
        charts = _charts(data, scratch / "charts")
        pages = _gallery_pages(data, scratch)
        order = "change of mIoU against " + html.escape(data.other_name) if data.other_per_image else "mIoU"
        gallery_head = (f'<h2 id="gallery">Every image, by {order} (worst first)</h2><p class="key">Each row: '
                        + ("image | " if data.images else "")
                        + (f"{html.escape(data.other_name)} | " if data.other_per_image else "")
                        + f"{html.escape(data.prediction_name)} | ground truth with the errors. Click a picture for "
                        "full size.</p>")
        for number, rows in enumerate(pages):
            table = f'<table class="gallery">{rows}</table>'
            if number == 0:
                body = (f"<h1>{html.escape(title)}</h1><h2>Dataset</h2>{_tables(data)}{charts}{gallery_head}"
                        f"{_nav(len(pages), 0)}{table}{_nav(len(pages), 0)}")
                (scratch / "index.html").write_text(_page(title, body), encoding="utf-8")
            else:
                body = (f"<h1>{html.escape(title)}</h1>{gallery_head}{_nav(len(pages), number)}{table}"
                        f"{_nav(len(pages), number)}")
                (scratch / f"gallery-{number + 1}.html").write_text(_page(title, body), encoding="utf-8")
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            scratch.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target / "index.html"


def report_outputs(html_dir: Path, out: Path, truth: Path, images: Path, label_set, num_classes: int,
                   ignore_index: int | None, name: str = "refined", other_name: str = "coarse") -> Path:
    """The report of a ``segment``/``refine`` run: ``out``'s label PNGs against the ground truth in ``truth``,
    compared with the run's inputs in ``out/coarse``; images without ground truth are left out."""
    from .folders import evaluate_folders

    known = list(label_set.class_names[:num_classes]) if label_set is not None else []
    names = known + [str(i) for i in range(len(known), num_classes)]
    palette = list(label_set.palette) if label_set is not None else None
    if palette is None:
        from ..labels import VOC

        palette = list(VOC.palette)
    per_image, other_per_image = [], []
    metrics, _, evaluated = evaluate_folders(out, truth, num_classes, ignore_index, clip=True, allow_missing=True,
                                             per_image=per_image)
    other = evaluate_folders(Path(out) / "coarse", truth, num_classes, ignore_index, clip=True, allow_missing=True,
                             only=set(evaluated), per_image=other_per_image)[0]
    data = ReportInput(metrics.summary(names), per_image, names, palette, name, other.summary(names),
                       {r.truth: r for r in other_per_image}, other_name, images, ignore_index)
    return write_report(html_dir, data)
