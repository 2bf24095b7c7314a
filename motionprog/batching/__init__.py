"""Batch generation: many programs at once on a local process pool or a Ray cluster.

``motionprog.batch(jobs, outdir, executor="local", address=None, workers=None,
gpus_per_job=0.0, callback=None, model="bundled", config=None) -> Summary`` is
:func:`motionprog.batching.run.batch`; jobs and their files are described in
:mod:`motionprog.batching.jobs`.
"""

from motionprog.batching.jobs import Job, JobOutcome, ModelSpec, load_jobs
from motionprog.batching.run import Summary, batch

__all__ = ["Job", "JobOutcome", "ModelSpec", "Summary", "batch", "load_jobs"]
