"""``batch``: run many jobs on the local pool or on Ray, skipping those already done, and sum up.

Python: ``motionprog.batch("jobs.jsonl", "out", workers=4)``; the CLI is `motionprog batch`.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from motionprog.batching.jobs import Job, JobOutcome, ModelSpec, check_unique, is_done, load_jobs, outputs, record
from motionprog.errors import InputError
from motionprog.io.outputs import check_output_folder
from motionprog.optimize.config import OptimizeConfig

Executor = Literal["local", "ray"]
Callback = Callable[[JobOutcome, int, int], None]
"""Called after each job that ran, with (its outcome, jobs finished so far, jobs to run)."""


@dataclass(frozen=True)
class Summary:
    """A batch run: every job's outcome (skipped ones first), the wall time of the run in seconds."""

    outcomes: tuple[JobOutcome, ...]
    time_s: float

    def count(self, status: str) -> int:
        """How many jobs ended with ``status`` (done, failed or skipped)."""
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def satisfied(self) -> int:
        """Jobs run now whose every hard constraint holds."""
        return sum(bool(outcome.satisfied) for outcome in self.outcomes)

    @property
    def throughput(self) -> float:
        """Jobs run now (done or failed) per second of wall time."""
        return (self.done + self.failed) / self.time_s if self.time_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The counts, time and throughput as JSON data."""
        return {"done": self.done, "failed": self.failed, "skipped": self.skipped, "satisfied": self.satisfied,
                "time_s": self.time_s, "jobs_per_s": self.throughput}


def batch(
    jobs: str | os.PathLike | Sequence[Job],
    outdir: str | os.PathLike,
    executor: Executor = "local",
    address: str | None = None,
    workers: int | None = None,
    gpus_per_job: float = 0.0,
    callback: Callback | None = None,
    model: ModelSpec | str = "bundled",
    config: OptimizeConfig | None = None,
    threads: int | None = None,
    allow_paths: Sequence[str | os.PathLike] = (),
) -> Summary:
    """Run every job of ``jobs`` (a directory of .mprog files, a JSONL manifest, or Job values)
    not yet done in ``outdir``; each writes ``outdir/<job>.npz`` and ``outdir/<job>.json``.

    executor:     "local" (a process pool on this machine) or "ray".
    address:      Ray cluster address (ray only; None joins a running instance or starts one).
    workers:      worker processes or actors (local default: this machine's cores; ray default:
                  as many as the cluster's GPUs / ``gpus_per_job``, or its CPUs).
    gpus_per_job: GPUs each Ray actor reserves (fractions share a GPU); 0 runs on CPUs.
    model:        a ModelSpec or model spec string ('bundled', 'mdm:DIR', a .safetensors file).
    config:       the optimizer settings every job starts from (its overrides apply on top).
    threads:      torch threads per worker (local default: cores / workers; ray: CPUs each
                  actor reserves, default 1).
    allow_paths:  directories outside each program's own that its imports and meshes may read.
    A failed job writes ``<job>.error.json`` and the batch goes on. Raises InputError for bad
    JOBS or settings, MotionprogError when a worker dies (a rerun resumes).
    """
    if executor not in ("local", "ray"):
        raise InputError(f"executor must be 'local' or 'ray', got {executor!r}")
    if executor == "local" and (address is not None or gpus_per_job):
        raise InputError("--address and --gpus-per-job apply to the ray executor")
    todo = load_jobs(jobs) if isinstance(jobs, (str, os.PathLike)) else check_unique(tuple(jobs), "jobs")
    if allow_paths:
        todo = tuple(replace(job, allow_paths=job.allow_paths + tuple(map(str, allow_paths))) for job in todo)
    spec = ModelSpec(model) if isinstance(model, str) else model
    config = config or OptimizeConfig()
    sources = [jobs] if isinstance(jobs, (str, os.PathLike)) else []
    check_output_folder(outdir, [*sources, *(job.filename for job in todo if job.filename)],
                        [path for job in todo for path in outputs(outdir, job.name)])
    Path(outdir).mkdir(parents=True, exist_ok=True)
    skipped = tuple(JobOutcome(job.name, "skipped", None, None, 0.0) for job in todo if is_done(outdir, job.name))
    pending = [job for job in todo if not is_done(outdir, job.name)]
    start = time.perf_counter()
    outcomes: list[JobOutcome] = []
    if pending:
        if executor == "local":
            from motionprog.batching.local import run_local

            results = run_local(pending, spec, config, workers or os.cpu_count() or 1, threads)
        else:
            from motionprog.batching.ray_executor import run_ray

            results = run_ray(pending, spec, config, address=address, workers=workers, gpus_per_job=gpus_per_job,
                              cpus_per_job=threads or 1)
        for result in results:
            outcomes.append(record(result, outdir))
            if callback is not None:
                callback(outcomes[-1], len(outcomes), len(pending))
    return Summary(outcomes=skipped + tuple(outcomes), time_s=time.perf_counter() - start)


def throughput_bench(jobs: str | os.PathLike | Sequence[Job], model: ModelSpec | str = "bundled",
                     config: OptimizeConfig | None = None, worker_counts: Sequence[int] = (1, 2),
                     threads: int | None = None,
                     callback: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Batch throughput on this machine: every job run afresh (in a temporary folder) with the
    local executor once per entry of ``worker_counts`` (``threads`` torch threads per worker);
    ``callback(workers)`` before each run.
    Returns one row per count: workers, jobs, done, failed, satisfied, time_s, jobs_per_s
    (the time includes starting the workers and loading their models)."""
    rows = []
    for workers in worker_counts:
        if callback is not None:
            callback(workers)
        with tempfile.TemporaryDirectory(prefix="motionprog-batch-bench-") as outdir:
            summary = batch(jobs, outdir, workers=workers, model=model, config=config, threads=threads)
        rows.append({"workers": workers, "jobs": len(summary.outcomes), **summary.to_dict()})
    return rows


def throughput_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of :func:`throughput_bench` rows, with the speed-up over the first row."""
    lines = ["| workers | jobs | done | failed | satisfied | time (s) | jobs/s | speed-up |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = rows[0]["jobs_per_s"] if rows else 0.0
    for row in rows:
        speedup = row["jobs_per_s"] / base if base > 0 else float("nan")
        lines.append(f"| {row['workers']} | {row['jobs']} | {row['done']} | {row['failed']} | {row['satisfied']} "
                     f"| {row['time_s']:.2f} | {row['jobs_per_s']:.3f} | {speedup:.2f}x |")
    return "\n".join(lines) + "\n"
