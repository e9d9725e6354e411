"""Engines: run chunks of work through a worker and collect a :class:`BatchReport`.

A *setup* is a picklable recipe (``setup.build(device)`` → worker) and a *worker* turns one chunk
(a list of inputs) into :class:`Outcome` s, writing every output atomically. The local engine runs the
worker here; ``--engine ray`` (module ``ray_engine``, imported only then) runs the same chunks through
the same workers on a Ray cluster, so both write the same files.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from tqdm import tqdm

from .batch import BatchReport
from .errors import SpnrefineError


@dataclass(frozen=True)
class Outcome:
    """One input: its label PNG was written (``error`` is None), or why it failed."""

    source: Path
    written: Path | None
    error: str | None = None


class Worker(Protocol):
    def process(self, chunk: Sequence) -> list[Outcome]: ...


class Setup(Protocol):
    def build(self, device: torch.device) -> Worker: ...


@dataclass(frozen=True)
class EngineOptions:
    """Where the work runs: ``local`` (this process) or ``ray`` (a Ray cluster)."""

    kind: str = "local"
    address: str | None = None  # ray: None starts a Ray instance on this machine
    num_workers: int | None = None  # ray: None = the cluster's CPUs (GPUs) / per-worker share
    cpus_per_worker: int = 1
    gpus_per_worker: float = 0.0

    def __post_init__(self):
        if self.kind not in ("local", "ray"):
            raise SpnrefineError(f"--engine must be local or ray, got {self.kind!r}")
        if self.kind == "local" and (self.address or self.num_workers or self.gpus_per_worker
                                     or self.cpus_per_worker != 1):
            raise SpnrefineError("--address, --num-workers, --cpus-per-worker and --gpus-per-worker need --engine ray")


def chunked(items: Sequence, size: int) -> list[list]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class ProgressLog:
    """Progress bar, ``-v`` lines and the report, fed with outcomes as they arrive (any order)."""

    def __init__(self, report: BatchReport, total: int, progress: bool, verbose: bool):
        self.report, self.verbose, self.progress = report, verbose, progress
        self.bar = tqdm(total=total, unit="img", disable=not progress, dynamic_ncols=True)

    def note(self, message: str) -> None:
        """A line above the bar (not with --quiet)."""
        if self.progress:
            tqdm.write(message, file=sys.stderr)

    def record(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.error is None:
                self.report.done += 1
                if self.verbose:
                    tqdm.write(f"{outcome.source} → {outcome.written}")
            else:
                self.report.fail(outcome.source, outcome.error)
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
        self.report.failed.sort(key=lambda failure: str(failure[0]))  # the same order from every engine


def run_chunks(setup: Setup, worker: Worker, chunks: list[list], engine: EngineOptions, report: BatchReport,
               progress: bool = True, verbose: bool = False) -> BatchReport:
    """Process every chunk: locally with ``worker`` (``setup.build``, also made for the Ray engine so that
    bad weights or classes fail before any work), or on Ray; failures go to ``report``, never raised."""
    log = ProgressLog(report, sum(len(chunk) for chunk in chunks), progress, verbose)
    try:
        if engine.kind == "ray":
            from .ray_engine import run_on_ray

            del worker
            run_on_ray(setup, chunks, engine, log)
        else:
            for chunk in chunks:
                log.record(worker.process(chunk))
    finally:
        log.close()
    return report
