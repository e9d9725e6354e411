"""``spnrefine segment``: a backbone (and, by default, the SPN refiner) over a folder of images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .backbones import Backbone, predict_logits
from .batch import BatchReport, check_outputs_do_not_overwrite_inputs, find_files, relative_stem
from .errors import SpnrefineError
from .io.images import read_image
from .io.writers import remove_stale_temporaries
from .outputs import OutputOptions, write_outputs


def plan(images_root: Path, out: Path, options: OutputOptions) -> list[tuple[Path, Path]]:
    """(image, relative stem) for every input; refuses outputs that would overwrite inputs."""
    if Path(images_root).resolve() == Path(out).resolve():
        raise SpnrefineError(f"{out}: the output folder is the input folder; outputs would overwrite or mix "
                             "with the inputs, choose another --out folder")
    images = find_files(images_root, exclude=(out,))
    if not images:
        raise SpnrefineError(f"{images_root}: no images found (.png, .jpg, .jpeg, .bmp, .tif, .webp)")
    jobs = [(image, relative_stem(image, images_root)) for image in images]
    check_outputs_do_not_overwrite_inputs([p for _, stem in jobs for p in options.paths(out, stem)], images)
    return jobs


def _batches(jobs, batch_size: int, report: BatchReport, bar):
    """Read images; yield lists of (path, stem, image) of one size, at most batch_size long."""
    pending: list[tuple[Path, Path, np.ndarray]] = []
    for path, stem in jobs:
        try:
            image = read_image(path)
        except SpnrefineError as error:
            report.fail(path, str(error))
            bar.update(1)
            continue
        if pending and (len(pending) == batch_size or pending[0][2].shape != image.shape):
            yield pending
            pending = []
        pending.append((path, stem, image))
    if pending:
        yield pending


def run_segment(
    backbone: Backbone,
    images_root: Path,
    out: Path,
    refiner=None,
    options: OutputOptions = OutputOptions(),
    batch_size: int = 4,
    overwrite: bool = False,
    progress: bool = True,
    verbose: bool = False,
) -> BatchReport:
    """Write ``out/<stem>.png`` (palette labels) and the optional outputs of ``options``."""
    remove_stale_temporaries(out)  # left by a run that was killed mid-write
    report = BatchReport()
    jobs = plan(images_root, out, options)
    todo = [(path, stem) for path, stem in jobs
            if overwrite or not all(p.exists() for p in options.paths(out, stem))]
    report.skipped = len(jobs) - len(todo)
    palette = backbone.labels.palette
    with tqdm(total=len(todo), unit="img", disable=not progress, dynamic_ncols=True) as bar:
        for batch in _batches(todo, batch_size, report, bar):
            images = [image for _, _, image in batch]
            try:
                probabilities = torch.softmax(predict_logits(backbone, images), dim=1)
                coarse = probabilities
                if refiner is not None:
                    probabilities = refiner.refine_batch(images, probabilities)
                labels = probabilities.argmax(dim=1).to(torch.uint8).cpu().numpy()
                coarse_labels = coarse.argmax(dim=1).cpu().numpy() if refiner is not None else None
                probs = probabilities.cpu().numpy() if options.save_probs else [None] * len(batch)
                for i, (path, stem, image) in enumerate(batch):
                    write_outputs(options, out, stem, labels[i], probs[i], palette, image,
                                  coarse_labels[i] if coarse_labels is not None else None)
                    report.done += 1
                    if verbose:
                        tqdm.write(f"{path} → {out / stem.with_suffix('.png')}")
            except (SpnrefineError, RuntimeError, ValueError, OSError) as error:
                for path, _, _ in batch:
                    report.fail(path, f"{path}: {error}")
            bar.update(len(batch))
    return report
