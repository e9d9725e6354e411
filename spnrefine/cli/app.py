"""Command line: ``spnrefine`` (Typer). Thin commands; heavy imports live inside them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import __version__
from .benchmark import benchmark_app
from .options import (
    Address,
    Backbone,
    BackboneWeights,
    CpusPerWorker,
    Device,
    Engine,
    GpusPerWorker,
    Mirror,
    NumWorkers,
    Overwrite,
    Precision,
    Quiet,
    Report,
    SharpenLowres,
    ThenCrf,
    ThinGuard,
    Upscale,
    Verbose,
    engine_options,
    finish,
    friendly,
    list_names,
    names_of_classes,
    palette_option,
)

app = typer.Typer(help="Refine semantic-segmentation masks with learned spatial propagation.", no_args_is_help=True)
app.add_typer(benchmark_app, name="benchmark")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"spnrefine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Refine semantic-segmentation masks with learned spatial propagation."""



@app.command()
@friendly
def segment(
    images: Annotated[Path, typer.Argument(help="An image, or a folder of images (searched recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: <stem>.png label maps, palette embedded.")],
    backbone: Backbone = "espnet-camvid",
    backbone_weights: BackboneWeights = None,
    backbone_config: Annotated[
        Optional[Path], typer.Option(help="JSON sidecar of a 'user' backbone (default: weights path with .json).")
    ] = None,
    refine: Annotated[bool, typer.Option(help="Refine the backbone's output with the SPN refiner.")] = True,
    checkpoint: Annotated[
        Optional[str], typer.Option(help="Refiner: a shipped one ('agnostic', 'camvid') or a file (default: the one "
                                         "made for the backbone, else agnostic).")
    ] = None,
    tta: Annotated[bool, typer.Option(help="Test-time augmentation: the backbone's probabilities averaged over 0.75x, "
                                           "1x and 1.25x its input size, each also mirrored (6 passes).")] = False,
    precision: Precision = "auto",
    mirror: Mirror = False,
    upscale: Upscale = 1.0,
    thin_guard: ThinGuard = True,
    then_crf: ThenCrf = "never",
    save_probs: Annotated[bool, typer.Option(help="Also write <stem>.npy: (K, H, W) float16 probabilities.")] = False,
    overlay: Annotated[bool, typer.Option(help="Also write overlay/<stem>.jpg: the mask blended on the image.")] = False,
    compare: Annotated[
        bool, typer.Option(help="Also write compare/<stem>.jpg: image | backbone | refined (with refinement).")
    ] = False,
    gt: Annotated[
        Optional[Path], typer.Option(help="Ground-truth label PNGs (same stems): with --html, score the outputs.")
    ] = None,
    html_dir: Annotated[
        Optional[Path], typer.Option("--html", help="With --gt: an HTML report, refined vs backbone, every image.")
    ] = None,
    device: Device = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward pass (same-size images batch).")] = 4,
    list_file: Annotated[
        Optional[Path], typer.Option("--list", help="Only these images: relative paths or file names, one per line.")
    ] = None,
    overwrite: Overwrite = False,
    engine: Engine = "local",
    address: Address = None,
    num_workers: NumWorkers = None,
    cpus_per_worker: CpusPerWorker = 1,
    gpus_per_worker: GpusPerWorker = 0.0,
    quiet: Quiet = False,
    verbose: Verbose = False,
    report_path: Report = None,
) -> None:
    """Segment images with a pretrained backbone, refine (default), write label PNGs.

    Exit code 1 when any image failed; the batch always goes on past failures.
    """
    from ..errors import SpnrefineError
    from ..jobs.outputs import OutputOptions
    from ..jobs.segment import SegmentSetup, run_segment

    if html_dir is not None and (gt is None or not refine):
        raise SpnrefineError("--html scores the refined masks against the backbone's: it needs --gt and refinement")
    where, torch_device = engine_options(engine, address, num_workers, cpus_per_worker, gpus_per_worker, device)
    setup = SegmentSetup(backbone, backbone_weights, backbone_config, refine, checkpoint,
                         OutputOptions(save_probs, overlay, compare, coarse_labels=html_dir is not None), out, tta,
                         precision, then_crf, mirror, upscale, thin_guard)
    names = list_names(list_file, images) if list_file else None
    report = run_segment(setup, images, torch_device, where, batch_size, overwrite, progress=not quiet,
                         verbose=verbose, names=names)
    if html_dir is not None:
        from ..evaluation.report import report_outputs

        labels = setup.label_set()
        typer.echo(f"report: {report_outputs(html_dir, out, gt, images, labels, labels.num_classes, labels.ignore_index, 'refined', 'backbone')}")
    finish(report, report_path)



@app.command()
@friendly
def refine(
    images: Annotated[Path, typer.Option(help="Folder of images (searched recursively).")],
    masks: Annotated[
        Path, typer.Option(help="Folder of coarse masks: label/palette PNGs, colour PNGs (+ --palette), .npy/.npz.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: refined <stem>.png, palette embedded.")],
    checkpoint: Annotated[
        str, typer.Option(help="Refiner: 'agnostic' (shipped; any classes), 'camvid' (shipped; CamVid's 12 "
                               "channels) or a checkpoint file.")
    ] = "agnostic",
    list_file: Annotated[Optional[Path], typer.Option("--list", help="Only these file names, one per line.")] = None,
    num_classes: Annotated[Optional[int], typer.Option(help="K (default: inferred from the masks and printed).")] = None,
    ignore_index: Annotated[Optional[int], typer.Option(help="Mask label meaning 'unknown' (e.g. 255).")] = None,
    palette: Annotated[
        Optional[str], typer.Option(help="Colours of class ids: a preset (camvid, voc, cityscapes) or a file.")
    ] = None,
    save_probs: Annotated[bool, typer.Option(help="Also write <stem>.npy refined (K, H, W) float16.")] = False,
    overlay: Annotated[bool, typer.Option(help="Also write overlay/<stem>.jpg: the mask blended on the image.")] = False,
    compare: Annotated[
        bool, typer.Option(help="Also write compare/<stem>.jpg: image | coarse | refined [| ground truth].")
    ] = False,
    gt: Annotated[Optional[Path], typer.Option(help="Ground-truth folder for the --compare pictures and --html.")] = None,
    html_dir: Annotated[
        Optional[Path], typer.Option("--html", help="With --gt: an HTML report, refined vs coarse, every image.")
    ] = None,
    resize_masks: Annotated[
        bool, typer.Option(help="Resize masks whose size differs from the image (nearest neighbour).")
    ] = False,
    alpha: Annotated[
        bool, typer.Option(help="Masks are RGBA cut-outs (alpha = mask) or single-channel soft mattes: refined as "
                                "foreground probability and written back as such.")
    ] = False,
    sharpen_lowres: SharpenLowres = True,
    precision: Precision = "auto",
    mirror: Mirror = False,
    upscale: Upscale = 1.0,
    thin_guard: ThinGuard = True,
    then_crf: ThenCrf = "never",
    device: Device = "auto",
    overwrite: Overwrite = False,
    engine: Engine = "local",
    address: Address = None,
    num_workers: NumWorkers = None,
    cpus_per_worker: CpusPerWorker = 1,
    gpus_per_worker: GpusPerWorker = 0.0,
    quiet: Quiet = False,
    verbose: Verbose = False,
    report_path: Report = None,
) -> None:
    """Refine coarse masks with the SPN refiner. Exit code 1 when any image failed; the batch goes on."""
    from ..errors import SpnrefineError
    from ..jobs.outputs import OutputOptions
    from ..jobs.refine import RefineSetup, plan_refine, run_refine
    from ..labels import VOC

    if html_dir is not None and gt is None:
        raise SpnrefineError("--html scores the refined masks against the coarse ones: it needs --gt")
    if alpha and (num_classes not in (None, 2) or palette is not None):
        raise SpnrefineError("--alpha masks are foreground probability: two classes, no --palette")
    if alpha and html_dir is not None:
        raise SpnrefineError("--html scores label masks; with --alpha the outputs are mattes (use evaluate on labels)")
    if alpha:
        num_classes = 2
    colours = palette_option(palette)
    names = list_names(list_file, images) if list_file else None
    plan = plan_refine(images, masks, out, names, colours, num_classes, ignore_index)
    if plan.unpaired:
        typer.echo(plan.unpaired, err=True)
    if plan.inferred:
        typer.echo(f"classes: {plan.num_classes} (inferred: {plan.inferred}; --num-classes to set)", err=True)
    where, torch_device = engine_options(engine, address, num_workers, cpus_per_worker, gpus_per_worker, device)
    setup = RefineSetup(checkpoint, plan.num_classes, ignore_index, colours or VOC.palette, colours,
                        OutputOptions(save_probs, overlay, compare, coarse_labels=html_dir is not None), out, gt,
                        resize_masks, alpha, sharpen_lowres, precision, then_crf, mirror, upscale, thin_guard)
    report = run_refine(setup, plan.pairs, torch_device, where, overwrite, progress=not quiet, verbose=verbose,
                        failed=plan.failed)
    if html_dir is not None:
        from ..evaluation.report import report_outputs
        from ..labels import PRESETS

        labels = PRESETS.get(palette) if palette in PRESETS else None
        typer.echo(f"report: {report_outputs(html_dir, out, gt, images, labels, plan.num_classes, ignore_index)}")
    finish(report, report_path)


@app.command()
def backbones() -> None:
    """List the registered segmentation backbones."""
    from ..backbones.registry import REGISTRY, USER_MODEL

    for spec in REGISTRY.values():
        typer.echo(f"{spec.name:<30} {spec.description}")
        typer.echo(f"{'':<30} weights: {spec.weights}")
    typer.echo(f"{USER_MODEL:<30} your TorchScript / torch.export model (--backbone-weights) + JSON sidecar")


@app.command()
@friendly
def evaluate(
    pred_dir: Annotated[Path, typer.Argument(help="Folder of predicted label PNGs.")],
    gt_dir: Annotated[Path, typer.Argument(help="Folder of ground-truth label PNGs (paired by file stem).")],
    num_classes: Annotated[int, typer.Option(min=1, help="K: classes are 0..K-1.")],
    ignore_index: Annotated[Optional[int], typer.Option(help="Ground-truth label to ignore (e.g. 11, 255).")] = None,
    class_names: Annotated[
        Optional[str], typer.Option(help="A preset (camvid, voc, cityscapes) or a file, one name per line.")
    ] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the numbers as JSON.")] = None,
    compare_to: Annotated[
        Optional[Path], typer.Option(help="Another prediction folder (e.g. coarse): print both and the deltas.")
    ] = None,
    clip: Annotated[bool, typer.Option(help="Treat out-of-range ground-truth labels as ignored, not an error.")] = False,
    allow_missing: Annotated[bool, typer.Option(help="Evaluate the pairs that exist when predictions are missing.")] = False,
    boundary: Annotated[bool, typer.Option(help="Compute Boundary IoU (d = 2% of the diagonal) and mBA.")] = True,
    html_dir: Annotated[
        Optional[Path], typer.Option("--html", help="Also write a static HTML report (charts, every image) here.")
    ] = None,
    images: Annotated[
        Optional[Path], typer.Option(help="The photos (paired by stem), shown beside the masks in the --html gallery.")
    ] = None,
) -> None:
    """mIoU, per-class IoU, pixel/mean accuracy, Boundary IoU and mBA of predictions against ground truth."""
    from ..evaluation.folders import evaluate_folders, format_report, outside_warning

    names = names_of_classes(class_names, num_classes)
    per_image, other_per_image = [], []
    metrics, missing, evaluated = evaluate_folders(pred_dir, gt_dir, num_classes, ignore_index, clip,
                                                   allow_missing, boundary, per_image=per_image)
    summary = metrics.summary(names)
    other = None
    if compare_to is not None:
        other = evaluate_folders(compare_to, gt_dir, num_classes, ignore_index, clip, allow_missing, boundary,
                                 only=set(evaluated), per_image=other_per_image)[0]  # exactly the images above
        other = other.summary(names)
    if missing:
        typer.echo(f"warning: {len(missing)} ground-truth masks have no prediction and were left out", err=True)
    for folder, result in ((pred_dir, summary), (compare_to, other)):
        warning = outside_warning(result, num_classes, folder) if result else None
        if warning:
            typer.echo(f"warning: {warning}", err=True)
    for line in format_report(summary, other, (pred_dir.name, compare_to.name if compare_to else "")):
        typer.echo(line)
    others = {r.truth: r for r in other_per_image}
    if json_path is not None:
        _write_evaluation_json(json_path, summary, other, per_image, others)
    if html_dir is not None:
        from ..evaluation.report import ReportInput, write_report
        from ..labels import PRESETS, VOC

        palette = list(PRESETS[class_names].palette) if class_names in PRESETS else list(VOC.palette)
        data = ReportInput(summary, per_image, names, palette, pred_dir.name, other, others if other else None,
                           compare_to.name if compare_to else "", images, ignore_index)
        typer.echo(f"report: {write_report(html_dir, data)}")


def _write_evaluation_json(path: Path, summary: dict, other: dict | None, per_image: list, others: dict) -> None:
    """Dataset numbers (and the other folder's), plus each image's scores and their change against the other."""
    import json

    from ..io.writers import atomic_write

    images = []
    for result in per_image:
        row = result.as_dict()
        match = others.get(result.truth)
        if match is not None:
            for key in ("miou", "boundary_iou", "mba"):
                mine, theirs = row[key], getattr(match, key)
                row[f"compare_to_{key}"] = theirs
                row[f"change_{key}"] = None if mine is None or theirs is None else round(mine - theirs, 4)
        images.append(row)
    payload = {**summary, "compare_to": other, "per_image": images} if other else {**summary, "per_image": images}
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(payload, indent=2)))


@app.command()
def info() -> None:
    """Print versions, which propagation backends this machine can use (and why not), the refiner guidance's number
    format on this CPU, and the engines."""
    import platform
    from importlib import metadata

    import numpy
    import torch

    from ..propagation import backend_statuses, nvrtc_status
    from ..refiner.precision import cpu_precision_summary

    typer.echo(f"spnrefine {__version__}")
    typer.echo(f"python {platform.python_version()}, torch {torch.__version__}, numpy {numpy.__version__}")
    typer.echo("propagation backends:")
    for status in [*backend_statuses(), nvrtc_status()]:
        mark = "yes" if status.usable else "no "
        typer.echo(f"  {status.name:<6} {mark}  {status.detail}")
    try:
        ray = f"yes  ray {metadata.version('ray')} (--engine ray)"
    except metadata.PackageNotFoundError:
        ray = "no   Ray is not installed: pip install 'spnrefine[ray]'"
    typer.echo(f"refiner guidance on CPU (--precision auto): {cpu_precision_summary()}")
    typer.echo("engines:")
    typer.echo("  local  yes  this process")
    typer.echo(f"  ray    {ray}")



@app.command()
@friendly
def train(
    out: Annotated[Path, typer.Option(help="Run folder: last.pt (resumable), log.jsonl, refiner.pt.")],
    images: Annotated[list[Path], typer.Option(help="Image folder (repeat for several sources).")],
    masks: Annotated[list[Path], typer.Option(help="Ground-truth folder, one per --images.")],
    coarse: Annotated[
        list[str], typer.Option(help="Coarse probabilities folder per --images, or synthesized from the ground truth: "
                                   "'synth' (network-like errors), 'lowres' (low resolution only) or 'drift' (a "
                                   "confident segmenter's: boundaries drifting smoothly off).")
    ],
    list_file: Annotated[
        list[str], typer.Option("--list", help="File-name list per --images ('all' for every image).")
    ],
    repeat: Annotated[list[int], typer.Option(help="How often each source is repeated when sampling.")] = [],
    label_space: Annotated[
        list[str], typer.Option(help="Per --images: 'K', 'K:IGNORE', 'present' or 'present:IGNORE' (the classes "
                                     "present in each mask, renumbered). Default: --num-classes/--ignore-index.")
    ] = [],
    val_images: Annotated[Optional[Path], typer.Option(help="Validation images (logged, never trained on).")] = None,
    val_masks: Annotated[Optional[Path], typer.Option(help="Validation ground truth (default: --val-images).")] = None,
    val_coarse: Annotated[Optional[Path], typer.Option(help="Validation coarse .npy folder (default: synthesized).")] = None,
    val_list: Annotated[Optional[Path], typer.Option(help="Validation file names, one per line.")] = None,
    steps: Annotated[int, typer.Option(min=1, help="Optimizer steps.")] = 800,
    batch_size: Annotated[int, typer.Option(min=1, help="Crops per step.")] = 8,
    crop: Annotated[int, typer.Option(min=16, help="Square random crops.")] = 192,
    lr: Annotated[float, typer.Option(help="Peak learning rate (AdamW, cosine decay).")] = 2e-3,
    seed: Annotated[int, typer.Option(help="Seed: the same seed and data give the same weights.")] = 0,
    num_classes: Annotated[int, typer.Option(help="Channels of the coarse probabilities (default label space).")] = 12,
    ignore_index: Annotated[int, typer.Option(help="Ground-truth label ignored by the loss (default label space).")] = 11,
    eval_every: Annotated[int, typer.Option(min=1, help="Validate and save last.pt every N steps.")] = 100,
    head_classes: Annotated[
        Optional[int], typer.Option(help="Tie the refiner to a K-class label set (a correction head unless "
                                         "--no-class-head; default: agnostic).")
    ] = None,
    hard_fraction: Annotated[
        float, typer.Option(min=0, max=1, help="Share of coarse inputs turned into hard labels.")
    ] = 0.0,
    pixel_blend: Annotated[
        bool, typer.Option(help="Predict per pixel how much of the coarse input to keep (else one learned weight).")
    ] = False,
    head_labels: Annotated[
        Optional[str], typer.Option(help="Name of the label set of the class head (stored in the checkpoint).")
    ] = None,
    init: Annotated[
        Optional[Path], typer.Option(help="Start from this checkpoint's weights (a new class head starts at zero).")
    ] = None,
    class_balance: Annotated[
        float, typer.Option(min=0, help="Weigh pixels by their class's share of the crop to this power, negated "
                                        "(0: plain NLL; 0.5: small and thin objects count more).")
    ] = 0.0,
    width: Annotated[
        int, typer.Option(min=4, help="Channels of the guidance CNN's first stage (the shipped refiners: 24; --init "
                                      "from a narrower checkpoint keeps its weights in the leading channels, the new "
                                      "ones start at zero).")
    ] = 24,
    iterations: Annotated[
        int, typer.Option(min=1, help="Propagation passes, each with its own gates (--init from a one-pass "
                                      "checkpoint starts every pass with its gates).")
    ] = 1,
    class_head: Annotated[
        bool, typer.Option(help="With --head-classes: a class-specific correction head on the output.")
    ] = True,
    class_guidance: Annotated[
        bool, typer.Option(help="With --head-classes: the guidance CNN also sees the K coarse probabilities.")
    ] = False,
    log_class_guidance: Annotated[
        bool, typer.Option(help="With --class-guidance: the guidance sees the class probabilities log-scaled (1e-4 "
                                "to 1 onto 0 to 1), so small probabilities are not all near 0.")
    ] = False,
    sharpen: Annotated[
        bool, typer.Option(help="The guidance CNN also predicts, per pixel, a power that sharpens the coarse "
                                "input before propagation (--init: starts at power 1, the old model).")
    ] = False,
    promote_second: Annotated[
        bool, typer.Option(help="The guidance CNN also predicts, per pixel, how far to raise the coarse map's second "
                                "most likely class after propagation (--init: starts near zero, the old model).")
    ] = False,
    neighbour_pick: Annotated[
        int, typer.Option(min=0, help="R > 0: after propagation each pixel takes a mix of the refined map in its "
                                      "(2R + 1)² window, its weights predicted by the guidance CNN (--init: most of it "
                                      "on the pixel itself). 0: none.")
    ] = 0,
    lovasz: Annotated[
        float, typer.Option(min=0, help="Add the Lovász-softmax loss (a surrogate of 1 - IoU per class present "
                                        "in a crop) with this weight to the NLL (0: NLL only).")
    ] = 0.0,
    balance_coarse: Annotated[
        bool, typer.Option(help="With --class-balance: a pixel also weighs as much as its coarse label's share of "
                                "the crop says (a small class drawn where it is not counts as much as one missed).")
    ] = False,
    balance_synthesized: Annotated[
        bool, typer.Option(help="With --balance-coarse: also on batches whose coarse maps are synthesized (else only "
                                "on a network's maps, --coarse folders).")
    ] = True,
    false_blob_margin: Annotated[
        Optional[int], typer.Option(min=0, help="With --balance-coarse: weigh a pixel by its coarse label only where "
                                                "that class is truly nowhere within N px (a false blob, not the "
                                                "over-wide edge of a thin object).")
    ] = None,
    temper_network: Annotated[
        float, typer.Option(min=1, help="Give each network map (--coarse folders) at a temperature drawn "
                                        "log-uniformly from [1/R, R] (p^(1/T), renormalized): softer and surer maps "
                                        "than the network made. 1: as made.")
    ] = 1.0,
    zoom: Annotated[
        float, typer.Option(min=1, help="Show each crop at a scale drawn log-uniformly from [1/Z, Z] (image, coarse "
                                        "map and targets resized alike). 1: as stored.")
    ] = 1.0,
    image_degradation: Annotated[
        Optional[str], typer.Option(help="mild or strong: half the training crops show the guidance their image "
                                         "degraded at its size (colour, blur, noise, JPEG), as another camera's "
                                         "would look; the coarse maps and targets stay as they are.")
    ] = None,
    stop_after: Annotated[
        Optional[int], typer.Option(min=1, help="Stop after N steps in this run (rerun to resume).")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Train the SPN refiner; rerun the same command to resume from OUT/last.pt."""
    from ..errors import SpnrefineError
    from ..training.data import LabelSpace, list_samples
    from ..training.degrade import DEGRADATIONS
    from ..training.loop import TrainConfig
    from ..training.loop import train as run_training

    sources = len(images)
    if (not (len(masks) == len(coarse) == len(list_file) == sources) or (repeat and len(repeat) != sources)
            or (label_space and len(label_space) != sources)):
        raise SpnrefineError("give one --masks, --coarse and --list (and --repeat, --label-space, if any) per --images")
    if image_degradation is not None and image_degradation not in DEGRADATIONS:
        raise SpnrefineError(f"--image-degradation {image_degradation!r}: expected one of {', '.join(DEGRADATIONS)}")
    default_space = LabelSpace(num_classes, ignore_index)
    samples = []
    for i in range(sources):
        names = None if list_file[i] == "all" else list_names(Path(list_file[i]), images[i])
        space = LabelSpace.parse(label_space[i]) if label_space else default_space
        source = list_samples(images[i], masks[i], names, coarse[i], space, source=i)
        samples += source * (repeat[i] if repeat else 1)
    val = None
    if val_images is not None:
        val_names = list_names(val_list, val_images) if val_list else None
        val = list_samples(val_images, val_masks or val_images, val_names, val_coarse, default_space)
    config = TrainConfig(steps=steps, batch_size=batch_size, crop=crop, lr=lr, seed=seed, eval_every=eval_every,
                         width=width,
                         classes=head_classes, hard_fraction=hard_fraction, pixel_blend=pixel_blend,
                         head_labels=head_labels, init=str(init) if init else None,
                         class_balance=class_balance, iterations=iterations, class_head=class_head,
                         class_guidance=class_guidance, log_class_guidance=log_class_guidance, sharpen=sharpen,
                         lovasz=lovasz,
                         promote_second=promote_second, neighbour_pick=neighbour_pick, balance_coarse=balance_coarse,
                         balance_synthesized=balance_synthesized, false_blob_margin=false_blob_margin,
                         temper_network=temper_network, zoom=zoom, image_degradation=image_degradation)
    final = run_training(samples, out, config, val, progress=not quiet, stop_after=stop_after)
    typer.echo(f"saved {final}" if final else f"stopped early; {out / 'last.pt'} saved, rerun to resume")


def main() -> None:
    # Large CPU tensors on transparent huge pages: page faults on fresh buffers otherwise
    # dominate CPU training steps (the propagation benchmark's forward+backward: 0.76 s -> 0.40 s).
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    app()
