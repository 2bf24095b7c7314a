"""The final decode: the optimised noise decoded again by the teacher (K DDIM steps).

The search may run through the distilled student; its noise is also the teacher's DDIM start
noise, so the teacher can decode it. Per seed the teacher's decode is kept only where it is at
least as close to satisfying the program (same violated count, total violation within the
verdict's resolution) and more natural, or where it violates strictly less.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import torch

from motionprog.models.protocol import MotionModel
from motionprog.optimize import naturalness
from motionprog.optimize.decode import Decoder, place_joints
from motionprog.optimize.solution import Iterate, Solution
from motionprog.optimize.verdict import VIOLATION_RESOLUTION, hard_mask, is_better, violations

if TYPE_CHECKING:
    from motionprog.lang.program import Program


def decode_again(program: Program, decoder: Decoder, seeds: Iterate) -> Iterate:
    """``seeds`` with features, joints, margins and loss of their z decoded by ``decoder``."""
    with torch.no_grad():
        features, joints = decoder(seeds.z)
        joints = place_joints(program, joints, seeds.yaw, seeds.xz)
        margins, loss = program.margins(joints), program.loss(joints)
    steps = torch.full_like(seeds.steps, decoder.steps)
    return replace(seeds, features=features, joints=joints, margins=margins, loss=loss, steps=steps)


def preferred(program: Program, new: Iterate, old: Iterate) -> torch.Tensor:
    """[B] bool: take ``new`` over ``old`` (module doc)."""
    hard = hard_mask(program, new.margins.device)
    (new_count, new_total), (old_count, old_total) = violations(new.margins, hard), violations(old.margins, hard)
    as_close = (new_count == old_count) & (new_total <= old_total + VIOLATION_RESOLUTION)
    more_natural = naturalness.score(naturalness.measure(new.joints)) < naturalness.score(naturalness.measure(old.joints))
    return is_better(new_count, new_total, old_count, old_total) | (as_close & more_natural.to(as_close.device))


def redecode(program: Program, model: MotionModel, solution: Solution, steps: int, guidance: float | None,
             rigid: bool = True) -> Solution:
    """``solution`` with each seed's decode replaced by ``steps`` teacher DDIM steps where preferred."""
    again = decode_again(program, Decoder.of(program, model, steps, guidance, rigid), solution.best)
    if not torch.isfinite(again.margins).all():
        return solution
    return solution.with_best(again.where(preferred(program, again, solution.best), solution.best))
