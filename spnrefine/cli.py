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


Verbosity = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


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
    checkpoint: Annotated[Optional[Path], typer.Option(help="Refinement checkpoint (default: the shipped one).")] = None,
    save_probs: Annotated[bool, typer.Option(help="Also write <stem>.npy: (K, H, W) float16 probabilities.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward pass (same-size images batch).")] = 4,
    overwrite: Annotated[bool, typer.Option(help="Redo images whose outputs exist (default: skip them).")] = False,
    quiet: Verbosity = False,
) -> None:
    """Segment images with a pretrained backbone, refine (default), write label PNGs.

    Exit code 1 when any image failed; the batch always goes on past failures.
    """
    from .backbones import load_backbone
    from .segment import run_segment

    torch_device = resolve_device(device)
    model = load_backbone(backbone, backbone_weights, torch_device, backbone_config)
    refiner = None
    if refine:
        from .refiner import load_refiner

        refiner = load_refiner(checkpoint, torch_device)
    report = run_segment(model, images, out, refiner, save_probs, batch_size, overwrite, progress=not quiet)
    for line in report.lines():
        typer.echo(line, err=bool(report.failed))
    if report.failed:
        raise typer.Exit(1)


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
    boundary: Annotated[bool, typer.Option(help="Compute Boundary IoU (d = 2% of the diagonal).")] = True,
) -> None:
    """mIoU, per-class IoU, pixel/mean accuracy and Boundary IoU of predictions against ground truth."""
    import json

    from .evaluate import evaluate_folders, format_report

    names = _class_names(class_names, num_classes)
    metrics, missing = evaluate_folders(pred_dir, gt_dir, num_classes, ignore_index, clip, allow_missing, boundary)
    summary = metrics.summary(names)
    other = None
    if compare_to is not None:
        other = evaluate_folders(compare_to, gt_dir, num_classes, ignore_index, clip, allow_missing, boundary)[0]
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
    """Print versions and which propagation backends this machine can use (and why not)."""
    import platform

    import numpy
    import torch

    from .propagation import backend_statuses, nvrtc_status

    typer.echo(f"spnrefine {__version__}")
    typer.echo(f"python {platform.python_version()}, torch {torch.__version__}, numpy {numpy.__version__}")
    typer.echo("propagation backends:")
    for status in [*backend_statuses(), nvrtc_status()]:
        mark = "yes" if status.usable else "no "
        typer.echo(f"  {status.name:<6} {mark}  {status.detail}")


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


def main() -> None:
    # Large CPU tensors on transparent huge pages: page faults on fresh buffers otherwise
    # dominate CPU training steps (the propagation benchmark's forward+backward: 0.76 s -> 0.40 s).
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    app()
