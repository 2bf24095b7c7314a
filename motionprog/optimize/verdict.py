"""The verdict rules: which constraints must hold, how far a seed is from holding them, and
which of two iterates or seeds is better. Every choice the optimizer makes goes through here.

Order of preference, everywhere: fewer violated hard constraints, then a smaller total
violation (to ``VIOLATION_RESOLUTION``), then the tie-breaker the caller gives (program loss
inside the search, naturalness when choosing the seed to keep).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from motionprog.lang.program import Program

VIOLATION_RESOLUTION = 1e-3
"""Total violations closer than this (1 mm for metre-valued margins) count as equal, so that
the tie-breaker decides between seeds that are equally close to satisfying the program."""


def hard_mask(program: Program, device: torch.device | None = None) -> Tensor:
    """[K] bool: which constraints must hold (hard constraints, not objectives)."""
    return torch.tensor(
        [c.hard and c.kind == "constraint" for c in program.constraints], dtype=torch.bool, device=device
    )


def violations(margins: Tensor, hard: Tensor) -> tuple[Tensor, Tensor]:
    """Violated hard constraints per seed: (count [B] int, total violation [B]).

    margins: [B, K]; hard: [K] bool. The total is the sum of ``-margin`` over violated hard
    constraints, in their units (metres for most).
    """
    deficit = torch.relu(-margins) * hard
    return (deficit > 0).sum(-1), deficit.sum(-1)


def is_better(count: Tensor, total: Tensor, best_count: Tensor, best_total: Tensor,
              loss: Tensor | None = None, best_loss: Tensor | None = None) -> Tensor:
    """[B] bool: (count, total[, loss]) is lexicographically smaller than the best so far."""
    better = (count < best_count) | ((count == best_count) & (total < best_total))
    if loss is None:
        return better
    return better | ((count == best_count) & (total == best_total) & (loss < best_loss))


def finished(margins: Tensor, program: Program) -> Tensor:
    """[B] bool: nothing left to improve for a seed: every margin reaches ``program.finish_line``
    (0 for constraints, hard and soft; ``T`` for a goal with ``until T``; +inf for an open-ended
    goal, which could always be pushed further). margins: [B, K]."""
    return (margins >= program.finish_line.to(margins)).all(-1)


STALL_TOLERANCE = 1e-3
"""Loss units (metres of violation at weight 1): an objective that gains less than this over
``patience`` iterations has stopped improving."""


def stalled(best_loss: list[float], patience: int) -> bool:
    """True when the lowest loss among satisfying seeds (one value per evaluation so far, inf
    while no seed satisfies the program) improved by less than ``STALL_TOLERANCE`` over the
    last ``patience`` evaluations (``patience`` 0: never)."""
    if patience <= 0 or len(best_loss) <= patience or best_loss[-1] == float("inf"):
        return False
    return best_loss[-1 - patience] - best_loss[-1] < STALL_TOLERANCE


def ranking(count: Tensor, total: Tensor, tie_break: Tensor) -> list[int]:
    """Seed indices from best to worst: fewest violated hard constraints, then the smallest
    total violation (to ``VIOLATION_RESOLUTION``), then the smallest ``tie_break``; ties go to
    the lowest index. count, total, tie_break: [B]."""
    keys = (tie_break.double().cpu().numpy(),
            np.round(total.double().cpu().numpy() / VIOLATION_RESOLUTION),
            count.cpu().numpy())
    return [int(i) for i in np.lexsort(keys)]


def choose_best(count: Tensor, total: Tensor, score: Tensor) -> int:
    """Index of the best seed by :func:`ranking` (``score``: naturalness, smaller is better)."""
    return ranking(count, total, score)[0]
