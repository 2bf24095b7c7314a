"""A better start: decode many candidate noises without gradients, keep the best few.

One batched pass of the distilled student costs about what one search iteration costs for a
handful of seeds, and a prior sample often satisfies part of a program (or all of it) already.
The kept candidates are named by their random seeds, so the search draws the very same noise
again (``MotionModel.latents``) and a run stays reproducible from its report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from motionprog.models.protocol import MotionModel
from motionprog.optimize import naturalness
from motionprog.optimize.decode import Decoder, place_joints
from motionprog.optimize.verdict import hard_mask, ranking, violations

if TYPE_CHECKING:
    from motionprog.lang.program import Program

CHUNK = 16
"""Candidates decoded per batch (bounds memory at long lengths)."""


def candidate_scores(program: Program, model: MotionModel, decoder: Decoder, seeds: list[int]
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(violated count [N], total violation [N], tie-break [N]: program loss plus naturalness
    score) of the unplaced, unoptimised samples of ``seeds``."""
    hard = hard_mask(program, model.device)
    counts, totals, ties = [], [], []
    with torch.no_grad():
        for first in range(0, len(seeds), CHUNK):
            z = decoder.latents(seeds[first:first + CHUNK], program.frames).to(model.device)
            _, joints = decoder(z)
            zeros = torch.zeros(z.shape[0], device=z.device, dtype=z.dtype)
            joints = place_joints(program, joints, zeros, torch.stack([zeros, zeros], -1))
            count, total = violations(program.margins(joints), hard)
            counts.append(count.cpu())
            totals.append(total.cpu())
            ties.append(program.loss(joints).cpu() + naturalness.score(naturalness.measure(joints)))
    return torch.cat(counts), torch.cat(totals), torch.cat(ties)


def best_seeds(program: Program, model: MotionModel, decoder: Decoder, first_seed: int, candidates: int,
               keep: int) -> tuple[int, ...]:
    """The ``keep`` best of the seeds ``first_seed .. first_seed + candidates - 1`` (verdict
    order: fewest violated hard constraints, least violation, then loss plus naturalness), in
    that order. With ``candidates <= keep`` the first ``keep`` seeds, unscored."""
    seeds = list(range(first_seed, first_seed + max(candidates, keep)))
    if candidates <= keep:
        return tuple(seeds[:keep])
    order = ranking(*candidate_scores(program, model, decoder, seeds))
    return tuple(seeds[i] for i in order[:keep])
