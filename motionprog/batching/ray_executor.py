"""The Ray executor: one actor per worker, each holding its own model on its own device.

Ray places the actors (``num_gpus=gpus_per_job`` each, so 0.5 puts two on a GPU) and
``ray.util.ActorPool`` hands them jobs as they free up; results come back to the driver, which
writes every file. Works on a local instance or a running cluster (``address``, e.g. "auto" or
"ray://head:10001"). Ray is the optional extra ``motionprog[ray]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from motionprog.batching.jobs import Job, JobResult, ModelSpec, execute
from motionprog.errors import InputError, MotionprogError
from motionprog.optimize.config import OptimizeConfig


class JobActor:
    """A Ray actor's state: the model, loaded once on ``device`` with ``threads`` torch threads."""

    def __init__(self, model: ModelSpec, config: OptimizeConfig, device: str, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.model = model.load(device)
        self.config = config
        self.device = device

    def run(self, job: Job) -> JobResult:
        """Run one job on this actor's model."""
        return execute(job, self.model, self.config, self.device)


def import_ray() -> Any:
    """The ``ray`` module; raises InputError saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise InputError("the ray executor needs Ray: pip install 'motionprog[ray]'") from exc
    return ray


def actor_count(resources: dict[str, float], gpus_per_job: float, jobs: int, workers: int | None) -> int:
    """How many actors to start: ``workers`` if given, else as many as the cluster's GPUs
    (``gpus_per_job`` > 0) or CPUs hold; never more than ``jobs``."""
    if workers is None:
        workers = int(resources.get("GPU", 0) // gpus_per_job) if gpus_per_job > 0 else int(resources.get("CPU", 1))
    if workers < 1:
        raise InputError(f"the Ray cluster has no room for one actor with {gpus_per_job} GPUs "
                         f"(resources: {resources})")
    return min(workers, jobs)


def run_ray(jobs: Sequence[Job], model: ModelSpec, config: OptimizeConfig, address: str | None = None,
            workers: int | None = None, gpus_per_job: float = 0.0, cpus_per_job: int = 1) -> Iterator[JobResult]:
    """Run ``jobs`` on Ray actors; yields each JobResult as its job finishes.

    Joins the running Ray instance when there is one, else ``ray.init(address=address)``
    (a new local instance when ``address`` is None), and shuts down only what it started.
    Each actor reserves ``gpus_per_job`` GPUs (device "cuda") or none (device "cpu") and
    ``cpus_per_job`` CPUs (its torch threads). Raises MotionprogError when an actor dies.
    """
    if gpus_per_job < 0:
        raise InputError(f"gpus_per_job must be >= 0, got {gpus_per_job}")
    ray = import_ray()
    from ray.util import ActorPool

    started = not ray.is_initialized()
    if started:
        ray.init(address=address)
    device = "cuda" if gpus_per_job > 0 else "cpu"
    remote = ray.remote(num_gpus=gpus_per_job, num_cpus=cpus_per_job)(JobActor)
    count = actor_count(ray.cluster_resources(), gpus_per_job, len(jobs), workers)
    actors = [remote.remote(model, config, device, cpus_per_job) for _ in range(count)]
    try:
        pool = ActorPool(actors)
        yield from pool.map_unordered(lambda actor, job: actor.run.remote(job), list(jobs))
    except ray.exceptions.RayError as exc:
        raise MotionprogError(f"a Ray worker failed: {str(exc).strip().splitlines()[-1]}; "
                              "finished jobs are kept, run the batch again to resume") from exc
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()
