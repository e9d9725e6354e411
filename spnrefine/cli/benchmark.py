"""``spnrefine benchmark …``: speed and quality measured side by side in one run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (
    Address,
    Backbone,
    BackboneWeights,
    CpusPerWorker,
    Device,
    NumWorkers,
    Precision,
    SharpenLowres,
    friendly,
    list_names,
    names_of_classes,
    resolve_device,
)

benchmark_app = typer.Typer(help="Measure speed and quality.", no_args_is_help=True)


@benchmark_app.command("propagation")
def benchmark_propagation(
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs per fast backend (best is kept).")] = 3,
    quick: Annotated[bool, typer.Option(help="Only the small shape (1, 32, 96, 128).")] = False,
) -> None:
    """Time each propagation backend against the torch reference and a bandwidth-bound pass."""
    from ..bench import propagation as benchmark

    shapes = benchmark.DEFAULT_SHAPES[:1] if quick else benchmark.DEFAULT_SHAPES
    for line in benchmark.run(shapes, repeats=repeats):
        typer.echo(line)



@benchmark_app.command("segment")
@friendly
def benchmark_segment(
    images: Annotated[Path, typer.Argument(help="Folder of images (the first --limit are timed).")],
    backbone: Backbone = "espnet-camvid",
    backbone_weights: BackboneWeights = None,
    checkpoint: Annotated[Optional[str], typer.Option(help="Refiner (default: fits the backbone).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many images to time.")] = 20,
    device: Device = "auto",
) -> None:
    """End-to-end images/s: the backbone alone, and backbone + SPN refiner (decoded images, no file I/O)."""
    from ..bench.pipeline import time_pipeline
    from ..io.images import read_image
    from ..jobs.files import find_files
    from ..jobs.outputs import OutputOptions
    from ..jobs.segment import SegmentSetup

    torch_device = resolve_device(device)
    worker = SegmentSetup(backbone, backbone_weights, None, True, checkpoint, OutputOptions(), Path(".")).build(torch_device)
    decoded = [read_image(p) for p in find_files(images)[:limit]]
    typer.echo(f"{len(decoded)} images, {decoded[0].shape[1]}x{decoded[0].shape[0]}, device {torch_device}")
    for label, rate in time_pipeline(worker.backbone, worker.refiner, decoded):
        typer.echo(f"{label:<24} {rate:6.2f} images/s")


@benchmark_app.command("engines")
@friendly
def benchmark_engines(
    images: Annotated[Path, typer.Argument(help="Folder of images (the first --limit are used).")],
    backbone: Backbone = "espnet-camvid",
    backbone_weights: BackboneWeights = None,
    refine: Annotated[bool, typer.Option(help="Refine with the SPN refiner.")] = True,
    limit: Annotated[int, typer.Option(min=1, help="How many images.")] = 40,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward pass.")] = 4,
    address: Address = None,
    num_workers: NumWorkers = 2,
    cpus_per_worker: CpusPerWorker = 1,
) -> None:
    """`segment` with the local engine vs the Ray engine: images/s side by side, files compared byte by byte."""
    from ..bench.engines import compare_engines
    from ..jobs.outputs import OutputOptions
    from ..jobs.segment import SegmentSetup
    from ..jobs.types import EngineOptions

    setup = SegmentSetup(backbone, backbone_weights, None, refine, None, OutputOptions(), Path("."))
    engine = EngineOptions("ray", address, num_workers, cpus_per_worker)
    for line in compare_engines(setup, images, limit, engine, batch_size):
        typer.echo(line)


@benchmark_app.command("scaling")
@friendly
def benchmark_scaling(
    image: Annotated[
        Optional[Path], typer.Option(help="A photo to resize for every case (default: a synthetic scene).")
    ] = None,
    checkpoint: Annotated[str, typer.Option(help="Refiner: 'agnostic', 'camvid' or a file.")] = "agnostic",
    largest: Annotated[
        str, typer.Option(help="Largest image size, WIDTHxHEIGHT (the 7680x4320 cases take ~1 min each).")
    ] = "7680x4320",
    quick: Annotated[bool, typer.Option(help="Only up to 960x720 and 59 classes (a smoke run).")] = False,
) -> None:
    """Time and peak memory of refinement against pixels (480x360 … 7680x4320) and against classes
    (2 … 150, dense and sparse), as ratios to the base case; each case in a fresh process, one run."""
    from ..bench.scaling import BASE_SIZE, Case, class_cases, pixel_cases, scaling_table
    from ..errors import SpnrefineError

    try:
        width, height = (int(v) for v in largest.lower().split("x"))
    except ValueError:
        raise SpnrefineError(f"--largest {largest!r}: expected WIDTHxHEIGHT, e.g. 7680x4320") from None
    sizes = [(360, 480), (720, 960), (1080, 1920), (2160, 3840), (4320, 7680)]
    sizes = [(h, w) for h, w in sizes if h * w <= height * width] if not quick else sizes[:2]
    if not quick and (height, width) not in sizes:
        sizes.append((height, width))
    base = Case(*BASE_SIZE, 12, 12)
    typer.echo("pixels: 12 classes, probability maps")
    scaling_table(pixel_cases(sizes), base, checkpoint, image, typer.echo)
    large = [Case(height, width, 20, 20)] if not quick else []
    if large:
        typer.echo("largest with 20 classes")
        scaling_table(large, base, checkpoint, image, typer.echo)
    typer.echo(f"classes at {BASE_SIZE[1]}x{BASE_SIZE[0]}, probability maps: dense (every channel carries mass), "
               "sparse (12 of 150 do)")
    scaling_table(class_cases("probabilities", [2, 59] if quick else [2, 59, 150]), base, checkpoint, image,
                  typer.echo)
    typer.echo(f"classes at {BASE_SIZE[1]}x{BASE_SIZE[0]}, label masks: 12 classes of a 150-class label space")
    scaling_table(class_cases("labels", []), Case(*BASE_SIZE, 12, 12, "labels"), checkpoint, image, typer.echo)


@benchmark_app.command("refinement")
@friendly
def benchmark_refinement(
    images: Annotated[Path, typer.Option(help="Folder of images.")],
    masks: Annotated[Path, typer.Option(help="Folder of ground-truth label PNGs (same stems).")],
    coarse: Annotated[
        str, typer.Option(help="Folder of coarse probabilities <stem>.npy (K, H, W), or 'lowres': synthesized from "
                               "the ground truth (one-hot, area-downsampled x8 or --lowres-factor, bilinear up), "
                               "or 'blocky': hard labels sampled at 1/8 (--lowres-factor), nearest neighbour up.")
    ],
    list_file: Annotated[Optional[Path], typer.Option("--list", help="File names or stems to use, one per line.")] = None,
    num_classes: Annotated[int, typer.Option(help="Classes scored (K may include a void channel).")] = 11,
    ignore_index: Annotated[Optional[int], typer.Option(help="Ground-truth label to ignore.")] = 11,
    present_classes: Annotated[
        bool, typer.Option(help="lowres/blocky: synthesize on the classes present in each mask (large or sparse ids).")
    ] = False,
    hard: Annotated[bool, typer.Option(help="Give the methods hard labels (as refine does for label masks).")] = False,
    lowres_factor: Annotated[int, typer.Option(min=2, help="lowres/blocky: the downsampling factor.")] = 8,
    checkpoint: Annotated[
        list[str], typer.Option(help="Refiner: 'agnostic', 'camvid' or a file (repeat to compare).")
    ] = ["agnostic"],
    crf: Annotated[bool, typer.Option(help="Include dense CRF (needs the bench extra).")] = True,
    then_crf: Annotated[
        list[str], typer.Option(help="auto, always or strong: also each refiner followed by dense CRF, as "
                                     "refine/segment --then-crf does (repeat to compare).")
    ] = [],
    sharpen_lowres: SharpenLowres = True,
    precision: Annotated[
        list[str], typer.Option(help=Precision.__metadata__[0].help + " Repeat to compare.")
    ] = ["auto"],
    mirror: Annotated[
        bool, typer.Option(help="Also each refiner with refine --mirror (the mirror image refined too, the two maps "
                                "averaged): a row next to its plain one.")
    ] = False,
    upscale: Annotated[
        list[float], typer.Option(min=1.0, max=4.0, help="Also each refiner with refine --upscale of this factor: a "
                                                         "row next to its plain one (repeat to compare).")
    ] = [],
    without_thin_guard: Annotated[
        bool, typer.Option("--without-thin-guard", help="Also each refiner with refine --no-thin-guard (the "
                                                        "refiner's labels everywhere): a row next to its plain one.")
    ] = False,
    class_names: Annotated[Optional[str], typer.Option(help="Per-class table names: a preset or a file.")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the rows and per-class IoU as JSON.")] = None,
) -> None:
    """Coarse vs dense CRF vs guided filter vs SPN: mIoU, Boundary IoU, mBA, per-class IoU and seconds per image, one run."""
    import json

    from ..evaluation.comparison import (
        CoarseSource,
        compare,
        format_per_class,
        format_rows,
        methods,
    )
    from ..refiner import Refiner
    from ..refiner.then_crf import check_mode, require_dense_crf

    then_crf = [mode for mode in then_crf if check_mode(mode) != "never"]
    if crf or then_crf:  # before any work
        require_dense_crf("dense CRF (--no-crf to leave it out)" if crf else "--then-crf")
    stems = [Path(c).stem if Path(c).suffix else c for c in checkpoint]
    labels = [f"SPN {stem}" if stems.count(stem) == 1 else f"SPN {Path(c).parent.name}/{stem}"
              for c, stem in zip(checkpoint, stems)]
    suffixes = {p: f" ({p})" if len(precision) > 1 else "" for p in precision}
    refiners = {}
    for label, c in zip(labels, checkpoint):
        for p in precision:
            for factor in [1.0, *upscale]:
                for mirrored in (False, True) if mirror else (False,):
                    for guarded in (True, False) if without_thin_guard else (True,):
                        name = label + suffixes[p] + (f" upscale {factor:g}" if factor != 1 else "")
                        name += (" mirror" if mirrored else "") + ("" if guarded else " no thin guard")
                        refiners[name] = Refiner.load(c, sharpen_lowres=sharpen_lowres, precision=p, mirror=mirrored,
                                                      upscale=factor, thin_guard=guarded)
    synthesized = coarse in ("lowres", "blocky")
    source = CoarseSource(None if synthesized else Path(coarse), present_classes, hard, lowres_factor,
                          blocky=coarse == "blocky")
    rows, per_class = compare(images, masks, list_names(list_file, images), source,
                              methods(refiners, crf, tuple(then_crf)), num_classes, ignore_index)
    for line in format_rows(rows):
        typer.echo(line)
    names = names_of_classes(class_names, num_classes) if class_names else None
    if num_classes <= 40:
        typer.echo("")
        for line in format_per_class(per_class, names):
            typer.echo(line)
    if json_path is not None:
        json_path.write_text(json.dumps({"rows": rows, "per_class_iou": per_class}, indent=2))
