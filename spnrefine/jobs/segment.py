"""``spnrefine segment``: a backbone (and, by default, the SPN refiner) over a folder of images."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..backbones import predict_probabilities
from ..errors import SpnrefineError
from ..io.images import read_image
from ..io.writers import remove_stale_temporaries
from ..labels import class_labels
from ..refiner.then_crf import check_mode, crf_following, require_dense_crf
from .files import (
    check_outputs_do_not_overwrite_inputs,
    find_files,
    keep_listed,
    relative_stem,
)
from .outputs import OutputOptions, write_outputs
from .report import BatchReport
from .runner import run_chunks
from .types import EngineOptions, Outcome, chunked

Job = tuple[Path, Path]  # (image, stem relative to the image folder)
TTA_ZOOMS = (0.75, 1.0, 1.25)
"""Input sizes of ``segment --tta``, relative to the backbone's own (a common choice, fixed before it was scored)."""


def plan(images_root: Path, out: Path, options: OutputOptions, names: list[str] | None = None
         ) -> tuple[list[Job], list[str]]:
    """(image, relative stem) for every input (only those ``names``, if given: relative paths or file
    names, suffix optional) and the names that match no image; refuses outputs that would overwrite inputs."""
    if Path(images_root).resolve() == Path(out).resolve():
        raise SpnrefineError(f"{out}: the output folder is the input folder; outputs would overwrite or mix "
                             "with the inputs, choose another --out folder")
    images = find_files(images_root, exclude=(out,))
    if not images:
        raise SpnrefineError(f"{images_root}: no images found (.png, .jpg, .jpeg, .bmp, .tif, .webp)")
    jobs = [(image, relative_stem(image, images_root)) for image in images]
    unmatched: list[str] = []
    if names is not None:
        jobs, unmatched = keep_listed(jobs, lambda job: job[1], names)
    check_outputs_do_not_overwrite_inputs([p for _, stem in jobs for p in options.paths(out, stem)], images)
    return jobs, unmatched


@dataclass(frozen=True)
class SegmentSetup:
    """What a worker needs to build the models and write outputs (picklable: sent to Ray workers)."""

    backbone: str
    backbone_weights: Path | None
    backbone_config: Path | None
    refine: bool
    checkpoint: str | None  # None: the shipped refiner that fits the backbone
    options: OutputOptions
    out: Path
    augment: bool = False  # test-time augmentation of the backbone: ``TTA_ZOOMS``, each also mirrored
    precision: str = "auto"  # the refiner guidance's number format (refiner.precision)
    then_crf: str = "never"  # dense CRF on the refined probabilities: never, auto or always (refiner.then_crf)
    mirror: bool = False  # the mirror image refined too, the two maps averaged (Refiner)
    upscale: float = 1.0  # refined at this many times the image's size, resized back (Refiner)
    thin_guard: bool = True  # thin regions the coarse map is sure of keep its class (refiner.thin_guard)

    def label_set(self):
        """The backbone's label set (class names, palette, ignore index), without loading its weights."""
        from ..backbones.loading import user_description
        from ..backbones.registry import USER_MODEL, get_backbone

        if self.backbone == USER_MODEL:
            return user_description(self.backbone_weights, self.backbone_config)[0]
        return get_backbone(self.backbone).labels

    def build(self, device: torch.device) -> SegmentWorker:
        from ..backbones import load_backbone
        from ..refiner import Refiner, checkpoint_for_labels

        if check_mode(self.then_crf) != "never":
            if not self.refine:
                raise SpnrefineError("--then-crf runs dense CRF on the refiner's output: it needs refinement "
                                     "(drop --no-refine)")
            require_dense_crf("--then-crf")
        model = load_backbone(self.backbone, self.backbone_weights, device, self.backbone_config)
        refiner, chosen = None, None
        if self.refine:
            chosen = self.checkpoint or checkpoint_for_labels(model.labels.name, model.num_outputs)
            refiner = Refiner.load(chosen, device, precision=self.precision, mirror=self.mirror, upscale=self.upscale,
                                   thin_guard=self.thin_guard)
            refiner.check_classes(model.num_outputs, f"checkpoint {chosen}")
        return SegmentWorker(model, refiner, self.options, self.out, chosen, self.augment, self.then_crf)


def same_size_runs(items: list[tuple[Path, Path, np.ndarray]]):
    """Consecutive images of one size: each run is one forward pass."""
    run: list = []
    for item in items:
        if run and run[0][2].shape != item[2].shape:
            yield run
            run = []
        run.append(item)
    if run:
        yield run


class SegmentWorker:
    def __init__(self, backbone, refiner, options: OutputOptions, out: Path, refiner_name: str | None = None,
                 augment: bool = False, then_crf: str = "never"):
        self.backbone, self.refiner, self.options, self.out = backbone, refiner, options, out
        self.refiner_name = refiner_name  # the checkpoint's name or path; None without refinement
        self.augment, self.then_crf = augment, then_crf

    def process(self, chunk: list[Job]) -> list[Outcome]:
        """Segment (and refine) a chunk of images; writes ``out/<stem>.png`` and the optional outputs."""
        outcomes, readable = [], []
        for path, stem in chunk:
            try:
                readable.append((path, stem, read_image(path)))
            except SpnrefineError as error:
                outcomes.append(Outcome(path, None, str(error)))
        for run in same_size_runs(readable):
            try:
                labels, probs, coarse_labels, then_crf = self._predict([image for _, _, image in run])
            except (SpnrefineError, RuntimeError, ValueError, OSError) as error:
                outcomes += [Outcome(path, None, f"{path}: {error}") for path, _, _ in run]
                continue
            for i, (path, stem, image) in enumerate(run):
                try:
                    write_outputs(self.options, self.out, stem, labels[i], probs[i], self.backbone.labels.palette,
                                  image, coarse_labels[i])
                    outcomes.append(Outcome(path, self.options.paths(self.out, stem)[0], then_crf=then_crf[i]))
                except (SpnrefineError, ValueError, OSError) as error:
                    outcomes.append(Outcome(path, None, f"{path}: {error}"))
        return outcomes

    def _predict(self, images: list[np.ndarray]):
        """Same-size images → labels (N, H, W) uint8, float16 probabilities (N, K, H, W) or Nones, coarse
        labels (N, H, W) or Nones (only the comparison picture needs them), and the dense CRF that followed (N:
        "always", "strong" or None)."""
        zooms, flip = (TTA_ZOOMS, True) if self.augment else ((1.0,), False)
        probabilities = predict_probabilities(self.backbone, images, zooms, flip)
        coarse = probabilities
        if self.refiner is not None:
            probabilities = self.refiner.refine_batch(images, probabilities)
        followed = [(None, None)] * len(images)
        if self.then_crf != "never":
            followed = [crf_following(self.then_crf, image, c.float().cpu().numpy(), p.float().cpu().numpy())
                        for image, c, p in zip(images, coarse, probabilities)]
        then_crf, marginals = [crf for crf, _ in followed], [m for _, m in followed]
        if any(then_crf):
            probabilities = torch.stack([p.float().cpu() if m is None else torch.from_numpy(m)
                                         for p, m in zip(probabilities, marginals)])
        nothing = [None] * len(images)
        labels = class_labels(probabilities).cpu().numpy()
        compared = self.refiner is not None and (self.options.compare or self.options.coarse_labels)
        coarse_labels = class_labels(coarse).cpu().numpy() if compared else nothing
        probs = probabilities.to(torch.float16).cpu().numpy() if self.options.save_probs else nothing
        return labels, probs, coarse_labels, then_crf


def run_segment(
    setup: SegmentSetup,
    images_root: Path,
    device: torch.device,
    engine: EngineOptions = EngineOptions(),
    batch_size: int = 4,
    overwrite: bool = False,
    progress: bool = True,
    verbose: bool = False,
    names: list[str] | None = None,
) -> BatchReport:
    """Segment every image under ``images_root`` (or those ``names``) that has no outputs yet (all with
    ``overwrite``); listed names without an image are failures."""
    out, options = setup.out, setup.options
    worker = setup.build(device)  # bad weights or classes fail before any work
    if progress and worker.refiner_name:
        print(f"refiner: {worker.refiner_name}", file=sys.stderr)
    remove_stale_temporaries(out)  # left by a run that was killed mid-write
    jobs, unmatched = plan(images_root, out, options, names)
    todo = [(path, stem) for path, stem in jobs
            if overwrite or not all(p.exists() for p in options.paths(out, stem))]
    report = BatchReport(skipped=len(jobs) - len(todo), then_crf=None if setup.then_crf == "never" else 0)
    for name in unmatched:
        report.fail(Path(name), f"{name}: listed, but no such image in {images_root}")
    return run_chunks(setup, worker, chunked(todo, batch_size), engine, report, progress, verbose)
