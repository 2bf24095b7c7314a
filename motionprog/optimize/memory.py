"""Peak memory of a block of work: the CUDA allocator's peak, or the process RSS peak on CPU."""

from __future__ import annotations

import contextlib
import resource
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

_STATM = Path("/proc/self/statm")
_PAGE_MB = resource.getpagesize() / 2**20


@dataclass
class PeakMemory:
    """Filled in when the ``peak_memory`` block ends: ``mb`` is the peak increase in MiB."""

    mb: float = 0.0


def _rss_mb() -> float:
    """Resident set size of this process in MiB (Linux /proc; ru_maxrss elsewhere)."""
    if _STATM.exists():
        return int(_STATM.read_text().split()[1]) * _PAGE_MB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def peak_memory(device: torch.device, interval_s: float = 0.005) -> Iterator[PeakMemory]:
    """Measure the peak memory used by the block above what was in use when it began.

    CUDA: ``torch.cuda.max_memory_allocated`` (the allocator's own peak). CPU: the resident
    set size, sampled every ``interval_s`` seconds by a background thread, minus the RSS at the
    start, so it counts tensors, the autograd graph and anything else the block allocates.
    """
    result = PeakMemory()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        start = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        yield result
        torch.cuda.synchronize(device)
        result.mb = (torch.cuda.max_memory_allocated(device) - start) / 2**20
        return
    start = _rss_mb()
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval_s):
            peak[0] = max(peak[0], _rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        done.set()
        thread.join()
        peak[0] = max(peak[0], _rss_mb())
        result.mb = max(peak[0] - start, 0.0)
