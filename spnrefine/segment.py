"""``spnrefine segment``: a backbone (and, by default, the SPN refiner) over a folder of images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .backbones import Backbone, predict_logits
from .batch import BatchReport, check_outputs_do_not_overwrite_inputs, find_files, relative_stem
from .errors import SpnrefineError
from .io.images import read_image
from .io.writers import write_label_png, write_npy


@dataclass
class Job:
    image: Path
    label_out: Path
    probs_out: Path | None


def plan_jobs(images_root: Path, out: Path, save_probs: bool) -> list[Job]:
    if Path(images_root).resolve() == Path(out).resolve():
        raise SpnrefineError(f"{out}: the output folder is the input folder; outputs would overwrite or mix "
                             "with the inputs, choose another --out folder")
    images = find_files(images_root, exclude=(out,))
    jobs = []
    for image in images:
        stem = out / relative_stem(image, images_root)
        jobs.append(Job(image, stem.with_suffix(".png"), stem.with_suffix(".npy") if save_probs else None))
    check_outputs_do_not_overwrite_inputs([j.label_out for j in jobs], images)
    return jobs


def _finished(job: Job) -> bool:
    return job.label_out.exists() and (job.probs_out is None or job.probs_out.exists())


def _batches(jobs: list[Job], batch_size: int, report: BatchReport):
    """Read images; yield lists of (job, image) of one size, at most batch_size long."""
    pending: list[tuple[Job, np.ndarray]] = []
    for job in jobs:
        try:
            image = read_image(job.image)
        except SpnrefineError as error:
            report.fail(job.image, str(error))
            continue
        if pending and (len(pending) == batch_size or pending[0][1].shape != image.shape):
            yield pending
            pending = []
        pending.append((job, image))
    if pending:
        yield pending


def run_segment(
    backbone: Backbone,
    images_root: Path,
    out: Path,
    refiner=None,
    save_probs: bool = False,
    batch_size: int = 4,
    overwrite: bool = False,
    progress: bool = True,
) -> BatchReport:
    """Write ``out/<stem>.png`` (palette labels) and optionally ``<stem>.npy`` ((K, H, W) float16 probabilities)."""
    report = BatchReport()
    jobs = plan_jobs(images_root, out, save_probs)
    if not jobs:
        raise SpnrefineError(f"{images_root}: no images found ({', '.join(('.png', '.jpg', '...'))})")
    todo = [j for j in jobs if overwrite or not _finished(j)]
    report.skipped = len(jobs) - len(todo)
    palette = backbone.labels.palette
    with tqdm(total=len(todo), unit="img", disable=not progress, dynamic_ncols=True) as bar:
        for batch in _batches(todo, batch_size, report):
            try:
                logits = predict_logits(backbone, [image for _, image in batch])
                probabilities = torch.softmax(logits, dim=1)
                if refiner is not None:
                    probabilities = refiner.refine_batch([image for _, image in batch], probabilities)
                labels = probabilities.argmax(dim=1).to(torch.uint8).cpu().numpy()
                for i, (job, _) in enumerate(batch):
                    write_label_png(job.label_out, labels[i], palette)
                    if job.probs_out is not None:
                        write_npy(job.probs_out, probabilities[i].to(torch.float16).cpu().numpy())
                    report.done += 1
            except (SpnrefineError, RuntimeError, ValueError) as error:
                for job, _ in batch:
                    report.fail(job.image, f"{job.image}: {error}")
            bar.update(len(batch))
    return report
