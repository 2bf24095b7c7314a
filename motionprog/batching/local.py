"""The local executor: a pool of worker processes on this machine, the model loaded once per worker.

Workers are spawned (not forked, so no torch or tokenizer thread pool is copied mid-flight);
each runs :func:`_start_worker` once, which loads the model and keeps it for every job that
worker takes, and exits as soon as the driver process is gone (even after ``kill -9``). Jobs are handed out by ``concurrent.futures``; results come back as they finish.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from motionprog.batching.jobs import Job, JobResult, ModelSpec, error_line, execute
from motionprog.errors import InputError, MotionprogError
from motionprog.optimize.config import OptimizeConfig

EXIT_ORPHANED = 3
"""Exit status of a worker whose driver died."""
_WORKER: dict[str, Any] = {}
"""This worker process's model, config and device (or the error that kept the model from loading)."""


def _exit_with_parent() -> None:
    """Block until the driver process is gone (killed outright included), then end this worker.

    A worker holds both ends of the pool's queues, so it would wait for a job forever after
    the driver dies; the parent's sentinel becomes ready exactly when the parent exits.
    """
    multiprocessing.connection.wait([multiprocessing.parent_process().sentinel])
    os._exit(EXIT_ORPHANED)


def _start_worker(model: ModelSpec, config: OptimizeConfig, threads: int) -> None:
    """Pool initializer: watch the driver, set torch's thread count and load the model once for this process."""
    import torch

    threading.Thread(target=_exit_with_parent, name="exit-with-driver", daemon=True).start()
    torch.set_num_threads(threads)
    try:
        _WORKER.update(model=model.load(config.device), config=config, device=config.device)
    except Exception as exc:  # noqa: BLE001 - reported by the first job this worker takes
        _WORKER["error"] = f"cannot load model '{model.spec}': {error_line(exc)}"


def _run(job: Job) -> JobResult:
    """Run one job on this worker's model; raises InputError when the model failed to load."""
    if "error" in _WORKER:
        raise InputError(_WORKER["error"])
    return execute(job, _WORKER["model"], _WORKER["config"], _WORKER["device"])


def default_threads(workers: int) -> int:
    """Torch threads per worker: this machine's cores shared evenly, at least one."""
    return max(1, (os.cpu_count() or 1) // workers)


def run_local(jobs: Sequence[Job], model: ModelSpec, config: OptimizeConfig, workers: int,
              threads: int | None = None) -> Iterator[JobResult]:
    """Run ``jobs`` on ``workers`` processes (each with ``threads`` torch threads); yields each
    JobResult as its job finishes. Every worker uses ``config.device``.

    Raises InputError when the model cannot be loaded and MotionprogError when a worker dies;
    results already yielded stay valid (the caller has recorded them), so a rerun resumes.
    """
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)) or 1, mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker, initargs=(model, config, threads or default_threads(workers)),
    )
    try:
        for future in as_completed([pool.submit(_run, job) for job in jobs]):
            try:
                yield future.result()
            except BrokenProcessPool as exc:
                raise MotionprogError("a local worker process died (out of memory?); "
                                      "finished jobs are kept, run the batch again to resume") from exc
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
