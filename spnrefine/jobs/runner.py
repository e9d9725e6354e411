"""Run chunks of work here or on Ray and collect a :class:`BatchReport`.

The local engine runs the worker in this process; ``--engine ray`` (``ray_runner``, imported only then)
runs the same chunks through the same workers on a Ray cluster, so both write the same files.
"""

from __future__ import annotations

from .report import BatchReport, ProgressLog
from .types import EngineOptions, Setup, Worker


def run_chunks(setup: Setup, local_worker: Worker, chunks: list[list], engine: EngineOptions, report: BatchReport,
               progress: bool = True, verbose: bool = False) -> BatchReport:
    """Process every chunk, here with ``local_worker`` or on Ray with workers built from ``setup``; failures go
    to ``report``, never raised. (Callers build ``local_worker`` before any work, also for Ray, so that bad
    weights or classes fail first.)"""
    log = ProgressLog(report, sum(len(chunk) for chunk in chunks), progress, verbose)
    try:
        if engine.kind == "ray":
            from .ray_runner import run_on_ray

            run_on_ray(setup, chunks, engine, log)
        else:
            for chunk in chunks:
                log.record(local_worker.process(chunk))
    finally:
        log.close()
    return report
