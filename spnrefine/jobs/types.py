"""What every job runner shares: a chunk's outcomes, the setup/worker protocol, where the work runs.

A *setup* is a picklable recipe (``setup.build(device)`` → worker) and a *worker* turns one chunk
(a list of inputs) into :class:`Outcome` s, writing every output atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from ..errors import SpnrefineError


@dataclass(frozen=True)
class Outcome:
    """One input: its label PNG was written (``error`` is None), or why it failed."""

    source: Path
    written: Path | None
    error: str | None = None
    then_crf: str | None = None  # the dense CRF that followed the refiner (--then-crf): "always" (weak), "strong"


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
            raise SpnrefineError(f"the engine must be local or ray, got {self.kind!r}")
        if self.kind == "local" and (self.address or self.num_workers or self.gpus_per_worker
                                     or self.cpus_per_worker != 1):
            raise SpnrefineError("a cluster address, worker count and per-worker CPUs/GPUs are for the ray engine")


def chunked(items: Sequence, size: int) -> list[list]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
