"""What the commands share: options declared once (``Annotated``), error handling, devices, list files."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Optional

import typer


def friendly(command):
    """Turn SpnrefineError into a one-line message on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from ..errors import SpnrefineError

        try:
            return command(*args, **kwargs)
        except SpnrefineError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def resolve_device(device: str):
    import torch

    from ..errors import SpnrefineError

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SpnrefineError("--device cuda: torch sees no CUDA device on this machine (use --device cpu or auto)")
    if device not in ("cpu", "cuda"):
        raise SpnrefineError(f"--device must be auto, cpu or cuda, got {device!r}")
    return torch.device(device)


def names_of_classes(value: Optional[str], num_classes: int) -> list[str]:
    """--class-names: a preset name, or a text file with one name per line."""
    from pathlib import Path

    from ..errors import SpnrefineError
    from ..labels import PRESETS

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


Backbone = Annotated[str, typer.Option(help="Backbone name (spnrefine backbones lists them).")]
BackboneWeights = Annotated[
    Optional[Path], typer.Option(help="Weights file (state dict; for 'user': TorchScript/torch.export).")
]
SharpenLowres = Annotated[
    bool, typer.Option(help="Sharpen probability maps that are upsampled hard masks (≥ 20% of pixels ≥ 0.999, "
                            "ramps in ≤ 9 straight pieces) before refining them, their labels kept; blocky maps "
                            "(nearest-neighbour upsampled) are interpolated bilinearly first. Off: refine them as "
                            "given.")
]
Precision = Annotated[
    str, typer.Option(help="The guidance CNN's number format: auto (bfloat16 on a CPU with native bfloat16, "
                           "AVX512-BF16 or AMX: ~1.4x faster refinement, labels the same at 99.9% of pixels; "
                           "float32 elsewhere), float32 or bfloat16 (CPU only).")
]
ThenCrf = Annotated[
    str, typer.Option(help="Dense CRF on the refined probabilities: never; always (at a tenth of DeepLab's pairwise "
                           "weight, 3 steps: gained 0.3-0.6 mIoU on every network input of the tuning sequence but "
                           "averaged --tta maps; ~0.26 s per 480x360 image); strong (always, DeepLab's full weight: "
                           "for masks far off the truth, costs thin objects; ~0.5 s); auto (per image: strong where a "
                           "quick CRF at 1/4 size relabels over 8% of the refined map, ~40 ms, or over 5% where the "
                           "coarse map is sure inside its regions; else always's weak CRF where the coarse map doubts "
                           "inside its regions: over 0.5% of the pixels below 0.7 top-1 probability and 5 px or more "
                           "from the argmax's boundaries; else none; never for label masks). README; needs pip install "
                           "'spnrefine\\[bench]'.")
]
Mirror = Annotated[
    bool, typer.Option(help="Also refine the mirror image and average the two refined maps, at twice the refiner's "
                            "time: on CamVid val +0.11 mIoU with camvid, +0.01 with agnostic (README).")
]
Upscale = Annotated[
    float, typer.Option(min=1.0, max=4.0, help="Refine the image and its coarse map at this many times their size and "
                                               "resize the result back, at about its square times the refiner's time. "
                                               "1.25 gained on the tuning sequence but not on CamVid val (camvid "
                                               "-0.08 mIoU, agnostic -0.02; README): compare on your images first.")
]
ThinGuard = Annotated[
    bool, typer.Option(help="Keep the coarse class where a probability map draws a region at most ~6 px wide with "
                            "top-1 probability >= 0.8: the refiner may not erase thin objects the map is sure of "
                            "(README; label masks are not guarded). --no-thin-guard: the refiner's labels everywhere.")
]
Overwrite = Annotated[bool, typer.Option(help="Redo images whose outputs exist (default: skip them).")]
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="A line per image: input → output.")]
Report = Annotated[
    Optional[Path], typer.Option("--report", help="Also write the counts and every failure as JSON to this file.")
]


def finish(report, report_path: Optional[Path]) -> None:
    """Summary (and failures) on the terminal, the JSON report if asked; exit code 1 if anything failed."""
    import json

    from ..io.writers import atomic_write

    for line in report.lines():
        typer.echo(line, err=bool(report.failed))
    if report_path is not None:
        atomic_write(report_path, lambda tmp: tmp.write_text(json.dumps(report.as_dict(), indent=2)))
    if report.failed:
        raise typer.Exit(1)
Engine = Annotated[str, typer.Option(help="local (this process) or ray (a Ray cluster; pip install 'spnrefine\\[ray]').")]
Address = Annotated[
    Optional[str], typer.Option(help="Ray cluster: 'auto' or HOST:PORT (default: start Ray on this machine).")
]
NumWorkers = Annotated[
    Optional[int], typer.Option(min=1, help="Ray workers, each holding the models once (default: fill the cluster).")
]
CpusPerWorker = Annotated[int, typer.Option(min=1, help="Ray: CPU cores (torch threads) per worker.")]
GpusPerWorker = Annotated[float, typer.Option(min=0, help="Ray: GPUs per worker (> 0: workers run on CUDA).")]


def engine_options(kind: str, address, num_workers, cpus_per_worker: int, gpus_per_worker: float, device: str):
    """EngineOptions and the device the models run on (a Ray worker's GPU is chosen by Ray)."""
    from ..errors import SpnrefineError
    from ..jobs.types import EngineOptions

    if kind not in ("local", "ray"):
        raise SpnrefineError(f"--engine must be local or ray, got {kind!r}")
    if kind == "local" and (address or num_workers or gpus_per_worker or cpus_per_worker != 1):
        raise SpnrefineError("--address, --num-workers, --cpus-per-worker and --gpus-per-worker need --engine ray")
    engine = EngineOptions(kind, address, num_workers, cpus_per_worker, gpus_per_worker)
    if kind == "ray":
        if device != "auto":
            raise SpnrefineError("--device is for --engine local; Ray workers use a GPU when --gpus-per-worker > 0")
        from ..jobs import ray_runner  # noqa: F401  (without the ray extra: a clear error before any work)

        return engine, resolve_device("cpu")  # the driver only checks that the models load
    return engine, resolve_device(device)



def palette_option(value: Optional[str]):
    """--palette: a preset name or a file of 'r g b' lines; None → None."""
    from ..errors import SpnrefineError
    from ..io.coarse import read_palette_file
    from ..labels import PRESETS

    if value is None:
        return None
    if value in PRESETS:
        return list(PRESETS[value].palette)
    if Path(value).is_file():
        return read_palette_file(Path(value))
    raise SpnrefineError(f"--palette {value!r}: neither a preset ({', '.join(PRESETS)}) nor a file")



def list_names(list_file: Optional[Path], folder: Path) -> list[str]:
    from ..errors import SpnrefineError

    if list_file is None:
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    if not list_file.is_file():
        raise SpnrefineError(f"{list_file}: no such list file")
    return [line.split()[0] for line in list_file.read_text().splitlines() if line.strip()]

