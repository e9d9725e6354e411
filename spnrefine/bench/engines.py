"""Local vs Ray engine on the same images, one run: seconds, images/s, and whether the files agree."""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from ..errors import SpnrefineError
from ..jobs.files import find_files
from ..jobs.segment import SegmentSetup, run_segment
from ..jobs.types import EngineOptions


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def compare_engines(setup: SegmentSetup, images: Path, limit: int, ray_engine: EngineOptions,
                    batch_size: int = 4) -> list[str]:
    """Segment the first ``limit`` images of ``images`` with each engine into a temporary folder."""
    from ..jobs import ray_runner as ray_support

    sources = find_files(images)[:limit]
    if not sources:
        raise SpnrefineError(f"{images}: no images found")
    with tempfile.TemporaryDirectory(prefix="spnrefine-engines-") as scratch:
        scratch = Path(scratch)
        (scratch / "images").mkdir()
        for source in sources:
            link = scratch / "images" / (source.relative_to(images) if images.is_dir() else source.name)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source.resolve())
        started = time.perf_counter()
        connected_here = ray_support.connect(ray_engine)
        startup = time.perf_counter() - started
        try:
            seconds = {}
            for name, engine in (("local", EngineOptions()), ("ray", ray_engine)):
                run_setup = replace(setup, out=scratch / name)
                started = time.perf_counter()
                report = run_segment(run_setup, scratch / "images", torch.device("cpu"), engine, batch_size,
                                     progress=False)
                seconds[name] = time.perf_counter() - started
                if report.failed:
                    raise SpnrefineError(f"the {name} engine failed on {report.failed[0][0]}: {report.failed[0][1]}")
            workers = ray_support.pool_size(ray_engine, -(-len(sources) // batch_size))
        finally:
            if connected_here:
                import ray

                ray.shutdown()
        local_files, ray_files = _tree(scratch / "local"), _tree(scratch / "ray")
    count = len(sources)
    rate = {name: count / s for name, s in seconds.items()}
    return [
        f"{count} images from {images}, batch {batch_size}; models loaded inside each timed run",
        f"{'engine':<8} {'workers':<24} {'seconds':>8} {'images/s':>9} {'vs local':>9}",
        f"{'local':<8} {f'1 ({torch.get_num_threads()} torch threads)':<24} {seconds['local']:8.2f} "
        f"{rate['local']:9.2f} {1.0:8.2f}x",
        f"{'ray':<8} {f'{workers} x {ray_engine.cpus_per_worker} CPU':<24} {seconds['ray']:8.2f} "
        f"{rate['ray']:9.2f} {rate['ray'] / rate['local']:8.2f}x",
        f"ray startup (not in the times above): {startup:.2f} s",
        f"outputs identical: {'yes' if local_files == ray_files else 'NO'} ({len(ray_files)} files)",
    ]
