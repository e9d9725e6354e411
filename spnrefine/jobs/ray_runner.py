"""``--engine ray``: the local runner's chunks and workers, spread over a Ray cluster with Ray Data.

Each Ray worker is an actor that builds the models once (``setup.build``) and then processes chunks
(``map_batches`` over an actor pool); outcomes stream back to this process for the progress bar and
the report. Workers read inputs and write outputs themselves, atomically, so every node must see the
same files at the same paths (one machine, or a shared filesystem). Imported only for ``--engine ray``.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import socket

import numpy as np

from ..errors import SpnrefineError
from .report import ProgressLog
from .types import EngineOptions, Setup

try:
    import ray
    import ray.data
except ImportError as error:  # the optional extra is missing
    raise SpnrefineError(f"--engine ray needs Ray: pip install 'spnrefine[ray]' ({error})") from None

MAX_BLOCKS = 10_000  # outcomes arrive a block at a time: one chunk per block keeps the progress bar moving


class ChunkActor:
    """One Ray worker: the models, built once, and the driver's working directory (relative paths)."""

    def __init__(self, setup: Setup, working_directory: str, threads: int, gpus: float):
        import numba
        import torch

        try:
            os.chdir(working_directory)
        except OSError as error:
            raise SpnrefineError(f"this Ray node lacks the driver's working directory {working_directory} "
                                 "(inputs and outputs must be at the same paths on every node)") from error
        torch.set_num_threads(threads)
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        self.worker = setup.build(torch.device("cuda" if gpus > 0 else "cpu"))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outcomes = [o for blob in batch["chunk"] for o in self.worker.process(pickle.loads(blob))]
        return {"outcome": np.array([pickle.dumps(o) for o in outcomes], dtype=object)}


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """HOST:PORT must accept a connection: ``ray.init`` would otherwise retry for minutes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return  # 'auto', 'ray://…' and other forms are Ray's to check
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise SpnrefineError(f"cannot reach a Ray cluster at {address}: {error} (is `ray start --head` running "
                             "there, and is this its GCS port, 6379 by default?)") from None


def connect(engine: EngineOptions) -> bool:
    """Join the cluster at ``engine.address`` or start Ray here; True when this call started it."""
    if engine.address:
        check_reachable(engine.address)
    if ray.is_initialized():  # the caller (a notebook, a test) connected already
        return False
    quiet = dict(logging_level=logging.ERROR, log_to_driver=True)
    try:
        if engine.address:
            ray.init(address=engine.address, **quiet)
        else:
            ray.init(include_dashboard=False, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = engine.address or "this machine"
        raise SpnrefineError(f"cannot start or reach a Ray cluster at {where}: {error}") from None
    return True


def pool_size(engine: EngineOptions, chunks: int) -> int:
    """--num-workers, else as many workers as the cluster's CPUs (or GPUs) hold; never more than chunks."""
    if engine.num_workers:
        return min(engine.num_workers, chunks)
    resources = ray.cluster_resources()
    if engine.gpus_per_worker > 0:
        fits = math.floor(resources.get("GPU", 0) / engine.gpus_per_worker)
    else:
        fits = math.floor(resources.get("CPU", 1) / engine.cpus_per_worker)
    return max(1, min(fits, chunks))


def run_on_ray(setup: Setup, chunks: list[list], engine: EngineOptions, log: ProgressLog):
    """Process ``chunks`` on Ray; ``log`` records the outcomes as they arrive."""
    if not chunks:
        return
    started = connect(engine)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # ours counts images
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        workers = pool_size(engine, len(chunks))
        cluster = "a Ray instance started here" if started else f"Ray at {ray.get_runtime_context().gcs_address}"
        gpus = f" + {engine.gpus_per_worker:g} GPU" if engine.gpus_per_worker else ""
        log.note(f"ray: {workers} workers x {engine.cpus_per_worker} CPU{gpus} on {cluster}; "
                 "each loads the models before its first images")
        blocks = min(len(chunks), MAX_BLOCKS)
        rows = [{"chunk": pickle.dumps(chunk)} for chunk in chunks]
        outcomes = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            ChunkActor,
            fn_constructor_args=(setup, os.getcwd(), engine.cpus_per_worker, engine.gpus_per_worker),
            batch_size=1,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=engine.cpus_per_worker,
            num_gpus=engine.gpus_per_worker,
        )
        for batch in outcomes.iter_batches(batch_size=None, batch_format="numpy"):
            log.record([pickle.loads(blob) for blob in batch["outcome"]])
    except ray.exceptions.RayError as error:
        raise SpnrefineError(f"the Ray run failed: {error}") from None
    finally:
        if started:
            ray.shutdown()
