"""Command line: ``spnrefine`` (Typer). Heavy imports live inside the commands."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__

app = typer.Typer(help="Refine semantic-segmentation masks with learned spatial propagation.", no_args_is_help=True)
benchmark_app = typer.Typer(help="Measure speed.", no_args_is_help=True)
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


def _friendly(command):
    """Turn SpnrefineError into a one-line message on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from .errors import SpnrefineError

        try:
            return command(*args, **kwargs)
        except SpnrefineError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def resolve_device(device: str):
    import torch

    from .errors import SpnrefineError

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SpnrefineError("--device cuda: torch sees no CUDA device on this machine (use --device cpu or auto)")
    if device not in ("cpu", "cuda"):
        raise SpnrefineError(f"--device must be auto, cpu or cuda, got {device!r}")
    return torch.device(device)


def _class_names(value: Optional[str], num_classes: int) -> list[str]:
    """--class-names: a preset name, or a text file with one name per line."""
    from pathlib import Path

    from .datasets import PRESETS
    from .errors import SpnrefineError

    if value is None:
        return [str(i) for i in range(num_classes)]
    if value in PRESETS:
        names = list(PRESETS[value].class_names)
    elif Path(value).is_file():
        names = [line.strip() for line in Path(value).read_text().splitlines() if line.strip()]
    else:
        raise SpnrefineError(f"--class-names {value!r}: neither a preset ({', '.join(PRESETS)}) nor a file")
    if len(names) != num_classes:
        raise SpnrefineError(f"--class-names {value!r} has {len(names)} names but --num-classes is {num_classes}")
    return names


Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="A line per image: input → output.")]
Report = Annotated[
    Optional[Path], typer.Option("--report", help="Also write the counts and every failure as JSON to this file.")
]


def _finish(report, report_path: Optional[Path]) -> None:
    """Summary (and failures) on the terminal, the JSON report if asked; exit code 1 if anything failed."""
    import json

    from .io.writers import atomic_write

    for line in report.lines():
        typer.echo(line, err=bool(report.failed))
    if report_path is not None:
        atomic_write(report_path, lambda tmp: tmp.write_text(json.dumps(report.as_dict(), indent=2)))
    if report.failed:
        raise typer.Exit(1)
Engine = Annotated[str, typer.Option(help="local (this process) or ray (a Ray cluster; pip install 'spnrefine[ray]').")]
Address = Annotated[
    Optional[str], typer.Option(help="Ray cluster: 'auto' or HOST:PORT (default: start Ray on this machine).")
]
NumWorkers = Annotated[
    Optional[int], typer.Option(min=1, help="Ray workers, each holding the models once (default: fill the cluster).")
]
CpusPerWorker = Annotated[int, typer.Option(min=1, help="Ray: CPU cores (torch threads) per worker.")]
GpusPerWorker = Annotated[float, typer.Option(min=0, help="Ray: GPUs per worker (> 0: workers run on CUDA).")]


def _engine(kind: str, address, num_workers, cpus_per_worker: int, gpus_per_worker: float, device: str):
    """EngineOptions and the device the models run on (a Ray worker's GPU is chosen by Ray)."""
    from .engine import EngineOptions
    from .errors import SpnrefineError

    engine = EngineOptions(kind, address, num_workers, cpus_per_worker, gpus_per_worker)
    if kind == "ray":
        if device != "auto":
            raise SpnrefineError("--device is for --engine local; Ray workers use a GPU when --gpus-per-worker > 0")
        from . import ray_engine  # noqa: F401  (without the ray extra: a clear error before any work)

        return engine, resolve_device("cpu")  # the driver only checks that the models load
    return engine, resolve_device(device)


@app.command()
@_friendly
def segment(
    images: Annotated[Path, typer.Argument(help="An image, or a folder of images (searched recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: <stem>.png label maps, palette embedded.")],
    backbone: Annotated[str, typer.Option(help="Backbone name (spnrefine backbones lists them).")] = "espnet-camvid",
    backbone_weights: Annotated[
        Optional[Path], typer.Option(help="Weights file (state dict; for 'user': TorchScript/torch.export).")
    ] = None,
    backbone_config: Annotated[
        Optional[Path], typer.Option(help="JSON sidecar of a 'user' backbone (default: weights path with .json).")
    ] = None,
    refine: Annotated[bool, typer.Option(help="Refine the backbone's output with the SPN refiner.")] = True,
    checkpoint: Annotated[
        Optional[str], typer.Option(help="Refiner: 'camvid', 'agnostic' (shipped) or a file (default: fits the backbone).")
    ] = None,
    save_probs: Annotated[bool, typer.Option(help="Also write <stem>.npy: (K, H, W) float16 probabilities.")] = False,
    overlay: Annotated[bool, typer.Option(help="Also write overlay/<stem>.jpg: the mask blended on the image.")] = False,
    compare: Annotated[
        bool, typer.Option(help="Also write compare/<stem>.jpg: image | backbone | refined (with refinement).")
    ] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward pass (same-size images batch).")] = 4,
    list_file: Annotated[
        Optional[Path], typer.Option("--list", help="Only these images: relative paths or file names, one per line.")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Redo images whose outputs exist (default: skip them).")] = False,
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
    from .outputs import OutputOptions
    from .segment import SegmentSetup, run_segment

    engine_options, torch_device = _engine(engine, address, num_workers, cpus_per_worker, gpus_per_worker, device)
    setup = SegmentSetup(backbone, backbone_weights, backbone_config, refine, checkpoint,
                         OutputOptions(save_probs, overlay, compare), out)
    names = _names(list_file, images) if list_file else None
    report = run_segment(setup, images, torch_device, engine_options, batch_size, overwrite, progress=not quiet,
                         verbose=verbose, names=names)
    _finish(report, report_path)


def _palette(value: Optional[str]):
    """--palette: a preset name or a file of 'r g b' lines; None → None."""
    from .datasets import PRESETS
    from .errors import SpnrefineError
    from .io.coarse import read_palette_file

    if value is None:
        return None
    if value in PRESETS:
        return list(PRESETS[value].palette)
    if Path(value).is_file():
        return read_palette_file(Path(value))
    raise SpnrefineError(f"--palette {value!r}: neither a preset ({', '.join(PRESETS)}) nor a file")


@app.command()
@_friendly
def refine(
    images: Annotated[Path, typer.Option(help="Folder of images (searched recursively).")],
    masks: Annotated[
        Path, typer.Option(help="Folder of coarse masks: label/palette PNGs, colour PNGs (+ --palette), .npy/.npz.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: refined <stem>.png, palette embedded.")],
    checkpoint: Annotated[
        str, typer.Option(help="Refiner: 'agnostic' (any classes), 'camvid' (12-channel ESPNet CamVid probabilities) or a file.")
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
    gt: Annotated[Optional[Path], typer.Option(help="Ground-truth folder for the --compare pictures.")] = None,
    resize_masks: Annotated[
        bool, typer.Option(help="Resize masks whose size differs from the image (nearest neighbour).")
    ] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Redo images whose outputs exist (default: skip them).")] = False,
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
    from .datasets import VOC
    from .errors import SpnrefineError
    from .outputs import OutputOptions
    from .refine import RefineSetup, infer_num_classes, pair_images_and_masks, run_refine

    if images.resolve() == out.resolve() or masks.resolve() == out.resolve():
        raise SpnrefineError(f"{out}: the output folder must differ from the image and mask folders")
    colours = _palette(palette)
    names = _names(list_file, images) if list_file else None
    pairs, lonely_images, lonely_masks, unlisted = pair_images_and_masks(images, masks, names, exclude=(out,))
    failed = {}  # with --list every listed image was asked for: a missing one is a failure
    if names is not None:
        failed = {Path(n): f"{n}: listed, but no such image in {images}" for n in unlisted}
        failed |= {image: f"{image}: listed, but no mask with its stem in {masks}" for image in lonely_images}
    elif lonely_images or lonely_masks:
        typer.echo(f"unpaired: {len(lonely_images)} images without a mask, {len(lonely_masks)} masks without an "
                   f"image (e.g. {', '.join(str(p) for p in [*lonely_images, *lonely_masks][:3])})", err=True)
    if not pairs:
        raise SpnrefineError(f"no image in {images} has a mask with the same stem in {masks}")
    if num_classes is None:
        num_classes = infer_num_classes(pairs, colours, ignore_index)
        typer.echo(f"classes: {num_classes} (inferred; --num-classes to set)", err=True)
    engine_options, torch_device = _engine(engine, address, num_workers, cpus_per_worker, gpus_per_worker, device)
    setup = RefineSetup(checkpoint, num_classes, ignore_index, colours or VOC.palette, colours,
                        OutputOptions(save_probs, overlay, compare), out, gt, resize_masks)
    report = run_refine(setup, pairs, torch_device, engine_options, overwrite, progress=not quiet, verbose=verbose,
                        failed=failed)
    _finish(report, report_path)


@app.command()
def backbones() -> None:
    """List the registered segmentation backbones."""
    from .backbones.registry import REGISTRY, USER_MODEL

    for spec in REGISTRY.values():
        typer.echo(f"{spec.name:<30} {spec.description}")
        typer.echo(f"{'':<30} weights: {spec.weights}")
    typer.echo(f"{USER_MODEL:<30} your TorchScript / torch.export model (--backbone-weights) + JSON sidecar")


@app.command()
@_friendly
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
) -> None:
    """mIoU, per-class IoU, pixel/mean accuracy, Boundary IoU and mBA of predictions against ground truth."""
    import json

    from .evaluate import evaluate_folders, format_report

    names = _class_names(class_names, num_classes)
    metrics, missing, evaluated = evaluate_folders(pred_dir, gt_dir, num_classes, ignore_index, clip,
                                                   allow_missing, boundary)
    summary = metrics.summary(names)
    other = None
    if compare_to is not None:
        other = evaluate_folders(compare_to, gt_dir, num_classes, ignore_index, clip, allow_missing, boundary,
                                 only=set(evaluated))[0]  # exactly the images evaluated above
        other = other.summary(names)
    if missing:
        typer.echo(f"warning: {len(missing)} ground-truth masks have no prediction and were left out", err=True)
    for line in format_report(summary, other, (pred_dir.name, compare_to.name if compare_to else "")):
        typer.echo(line)
    if json_path is not None:
        from .io.writers import atomic_write

        payload = {**summary, "compare_to": other} if other else summary
        atomic_write(json_path, lambda tmp: tmp.write_text(json.dumps(payload, indent=2)))


@app.command()
def info() -> None:
    """Print versions, which propagation backends this machine can use (and why not), and the engines."""
    import platform
    from importlib import metadata

    import numpy
    import torch

    from .propagation import backend_statuses, nvrtc_status

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
    typer.echo("engines:")
    typer.echo("  local  yes  this process")
    typer.echo(f"  ray    {ray}")


@benchmark_app.command("propagation")
def benchmark_propagation(
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs per fast backend (best is kept).")] = 3,
    quick: Annotated[bool, typer.Option(help="Only the small shape (1, 32, 96, 128).")] = False,
) -> None:
    """Time each propagation backend against the torch reference and a bandwidth-bound pass."""
    from . import benchmark

    shapes = benchmark.DEFAULT_SHAPES[:1] if quick else benchmark.DEFAULT_SHAPES
    for line in benchmark.run(shapes, repeats=repeats):
        typer.echo(line)


def _names(list_file: Optional[Path], folder: Path) -> list[str]:
    from .errors import SpnrefineError

    if list_file is None:
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    if not list_file.is_file():
        raise SpnrefineError(f"{list_file}: no such list file")
    return [line.split()[0] for line in list_file.read_text().splitlines() if line.strip()]


@benchmark_app.command("segment")
@_friendly
def benchmark_segment(
    images: Annotated[Path, typer.Argument(help="Folder of images (the first --limit are timed).")],
    backbone: Annotated[str, typer.Option(help="Backbone name.")] = "espnet-camvid",
    backbone_weights: Annotated[Optional[Path], typer.Option(help="Backbone weights file.")] = None,
    checkpoint: Annotated[Optional[str], typer.Option(help="Refiner (default: fits the backbone).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many images to time.")] = 20,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
) -> None:
    """End-to-end images/s: the backbone alone, and backbone + SPN refiner (decoded images, no file I/O)."""
    from .backbones import load_backbone
    from .batch import find_files
    from .benchmark import time_pipeline
    from .io.images import read_image
    from .refiner import Refiner, checkpoint_for_labels

    torch_device = resolve_device(device)
    model = load_backbone(backbone, backbone_weights, torch_device)
    refiner = Refiner.load(checkpoint or checkpoint_for_labels(model.labels.name, model.num_outputs), torch_device)
    decoded = [read_image(p) for p in find_files(images)[:limit]]
    typer.echo(f"{len(decoded)} images, {decoded[0].shape[1]}x{decoded[0].shape[0]}, device {torch_device}")
    for label, rate in time_pipeline(model, refiner, decoded):
        typer.echo(f"{label:<24} {rate:6.2f} images/s")


@benchmark_app.command("engines")
@_friendly
def benchmark_engines(
    images: Annotated[Path, typer.Argument(help="Folder of images (the first --limit are used).")],
    backbone: Annotated[str, typer.Option(help="Backbone name.")] = "espnet-camvid",
    backbone_weights: Annotated[Optional[Path], typer.Option(help="Backbone weights file.")] = None,
    refine: Annotated[bool, typer.Option(help="Refine with the SPN refiner.")] = True,
    limit: Annotated[int, typer.Option(min=1, help="How many images.")] = 40,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward pass.")] = 4,
    address: Address = None,
    num_workers: NumWorkers = 2,
    cpus_per_worker: CpusPerWorker = 1,
) -> None:
    """`segment` with the local engine vs the Ray engine: images/s side by side, files compared byte by byte."""
    from .engine import EngineOptions
    from .engine_benchmark import compare_engines
    from .outputs import OutputOptions
    from .segment import SegmentSetup

    setup = SegmentSetup(backbone, backbone_weights, None, refine, None, OutputOptions(), Path("."))
    engine = EngineOptions("ray", address, num_workers, cpus_per_worker)
    for line in compare_engines(setup, images, limit, engine, batch_size):
        typer.echo(line)


@benchmark_app.command("refinement")
@_friendly
def benchmark_refinement(
    images: Annotated[Path, typer.Option(help="Folder of images.")],
    masks: Annotated[Path, typer.Option(help="Folder of ground-truth label PNGs (same stems).")],
    coarse: Annotated[Path, typer.Option(help="Folder of coarse probabilities <stem>.npy, (K, H, W).")],
    list_file: Annotated[Optional[Path], typer.Option("--list", help="File names to use, one per line.")] = None,
    num_classes: Annotated[int, typer.Option(help="Classes scored (K may include a void channel).")] = 11,
    ignore_index: Annotated[Optional[int], typer.Option(help="Ground-truth label to ignore.")] = 11,
    checkpoint: Annotated[str, typer.Option(help="Refiner: 'camvid', 'agnostic' or a file.")] = "camvid",
    crf: Annotated[bool, typer.Option(help="Include dense CRF (needs the bench extra).")] = True,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the rows as JSON.")] = None,
) -> None:
    """Coarse vs dense CRF vs guided filter vs SPN: mIoU, Boundary IoU and seconds per image, one run."""
    import json

    from .comparison import compare, format_rows, methods
    from .refiner import Refiner

    table = methods(Refiner.load(checkpoint), include_crf=crf)
    rows = compare(images, masks, coarse, _names(list_file, images), table, num_classes, ignore_index)
    for line in format_rows(rows):
        typer.echo(line)
    if json_path is not None:
        json_path.write_text(json.dumps(rows, indent=2))


@app.command()
@_friendly
def train(
    out: Annotated[Path, typer.Option(help="Run folder: last.pt (resumable), log.jsonl, refiner.pt.")],
    images: Annotated[list[Path], typer.Option(help="Image folder (repeat for several sources).")],
    masks: Annotated[list[Path], typer.Option(help="Ground-truth folder, one per --images.")],
    coarse: Annotated[
        list[str], typer.Option(help="Coarse probabilities folder per --images, or 'synth' to perturb ground truth.")
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
        Optional[int], typer.Option(help="Add a class-specific correction head for K classes (default: agnostic).")
    ] = None,
    hard_fraction: Annotated[
        float, typer.Option(min=0, max=1, help="Share of coarse inputs turned into hard labels.")
    ] = 0.0,
    pixel_blend: Annotated[
        bool, typer.Option(help="Predict per pixel how much of the coarse input to keep (else one learned weight).")
    ] = False,
    stop_after: Annotated[
        Optional[int], typer.Option(min=1, help="Stop after N steps in this run (rerun to resume).")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Train the SPN refiner; rerun the same command to resume from OUT/last.pt."""
    from .errors import SpnrefineError
    from .training.data import LabelSpace, list_samples
    from .training.loop import TrainConfig
    from .training.loop import train as run_training

    sources = len(images)
    if (not (len(masks) == len(coarse) == len(list_file) == sources) or (repeat and len(repeat) != sources)
            or (label_space and len(label_space) != sources)):
        raise SpnrefineError("give one --masks, --coarse and --list (and --repeat, --label-space, if any) per --images")
    default_space = LabelSpace(num_classes, ignore_index)
    samples = []
    for i in range(sources):
        names = None if list_file[i] == "all" else _names(Path(list_file[i]), images[i])
        space = LabelSpace.parse(label_space[i]) if label_space else default_space
        source = list_samples(images[i], masks[i], names, None if coarse[i] == "synth" else Path(coarse[i]),
                              space, source=i)
        samples += source * (repeat[i] if repeat else 1)
    val = None
    if val_images is not None:
        val_names = _names(val_list, val_images) if val_list else None
        val = list_samples(val_images, val_masks or val_images, val_names, val_coarse, default_space)
    config = TrainConfig(steps=steps, batch_size=batch_size, crop=crop, lr=lr, seed=seed, eval_every=eval_every,
                         classes=head_classes, hard_fraction=hard_fraction, pixel_blend=pixel_blend)
    final = run_training(samples, out, config, val, progress=not quiet, stop_after=stop_after)
    typer.echo(f"saved {final}" if final else f"stopped early; {out / 'last.pt'} saved, rerun to resume")


def main() -> None:
    # Large CPU tensors on transparent huge pages: page faults on fresh buffers otherwise
    # dominate CPU training steps (the propagation benchmark's forward+backward: 0.76 s -> 0.40 s).
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    app()
