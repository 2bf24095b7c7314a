"""Batch generation: many programs at once on a local process pool or a Ray cluster.

``motionprog.batch(jobs, outdir, executor="local", address=None, workers=None,
gpus_per_job=0.0, callback=None, model="bundled", config=None) -> Summary``; jobs and their
files are described in :mod:`motionprog.batch.jobs`.

``motionprog.batch`` names both this package and the function: the package is callable and
calls :func:`motionprog.batch.run.batch`, so ``motionprog.batch(...)`` works whether or not
a submodule was imported first.
"""

import sys
import types

from motionprog.batch.jobs import Job, JobOutcome, ModelSpec, load_jobs
from motionprog.batch.run import Summary, batch


class _CallablePackage(types.ModuleType):
    """This package's module type: calling it runs :func:`batch`."""

    def __call__(self, *args, **kwargs) -> Summary:
        return batch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

__all__ = ["Job", "JobOutcome", "ModelSpec", "Summary", "batch", "load_jobs"]
