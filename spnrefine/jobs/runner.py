"""Run chunks of work here or on Ray and collect a :class:`BatchReport`.

The local engine runs the worker in this process; ``--engine ray`` (``ray_runner``, imported only then)
runs the same chunks through the same workers on a Ray cluster, so both write the same files.
"""

from __future__ import annotations

import torch

from .report import BatchReport, ProgressLog
from .types import EngineOptions, Setup


def run_chunks(setup: Setup, chunks: list[list], engine: EngineOptions, report: BatchReport, device: torch.device,
               progress: bool = True, verbose: bool = False) -> BatchReport:
    """Process every chunk; failures go to ``report``, never raised. The models are built here first
    (``setup.build``), also for Ray, so that bad weights or classes fail before any work."""
    worker = setup.build(device)
    log = ProgressLog(report, sum(len(chunk) for chunk in chunks), progress, verbose)
    try:
        if engine.kind == "ray":
            from .ray_runner import run_on_ray

            worker = None  # each Ray worker builds its own
            run_on_ray(setup, chunks, engine, log)
        else:
            for chunk in chunks:
                log.record(worker.process(chunk))
    finally:
        log.close()
    return report
