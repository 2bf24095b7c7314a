"""The polish: a few Adam steps on one seed's decoded features that remove the residual
violation the latent search left, while keeping the correction smooth and small.

Objective over a feature correction ``delta`` [1, T, D] (normalised feature units):
``program.loss(joints(features + delta)) + smooth_weight * mean((second difference of delta
over time)^2) + prior_weight * mean(delta^2) + guard``. The first regulariser keeps the
correction smooth (the model's own high-frequency detail is kept), the second keeps it close to
what the prior produced, and the guard (``naturalness.guard``) is a hinge on the acceptance rule
itself: it grows as soon as the maximum acceleration, floor penetration or bone drift comes
within ``GUARD_FRACTION`` of what the rule allows. Every step is checked against the rule, and
the polish returns its best acceptable iterate (fewest violated hard constraints, then least
violation): it violates less than the latent search's result, and no naturalness metric
worsens by more than ``polish_tolerance`` of its value (plus a small absolute slack).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from motionprog.models.protocol import MotionModel
from motionprog.optimize import naturalness
from motionprog.optimize.config import OptimizeConfig
from motionprog.optimize.decode import Decoder, place_joints
from motionprog.optimize.solution import Iterate
from motionprog.optimize.verdict import hard_mask, is_better, violations

if TYPE_CHECKING:
    from motionprog.lang.program import Program

METRIC_SLACK = {
    "foot_skating_ratio": 0.02,
    "max_acceleration": 1.0,
    "floor_penetration": 0.005,
    "bone_length_drift": 0.005,
}
"""Absolute worsening each naturalness metric may always show (ratio, m/s^2, m, m)."""

GUARD_FRACTION = 0.8
"""The guard starts at this fraction of each metric's allowance, so that steps stay acceptable."""


@dataclass(frozen=True)
class PolishOutcome:
    """seed: the polished seed (a batch of one); iterations: the polish step whose iterate was
    kept (0: none was better and acceptable); accepted: whether it differs from the input."""

    seed: Iterate
    iterations: int
    accepted: bool

    def summary(self) -> dict[str, Any]:
        return {"applied": True, "accepted": self.accepted, "iterations": self.iterations}


def second_difference(x: Tensor) -> Tensor:
    """x [B, T, ...] -> [B, T-2, ...]: x[t+1] - 2 x[t] + x[t-1] (per frame^2)."""
    return x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]


def allowance(before: dict[str, Tensor], tolerance: float) -> dict[str, Tensor]:
    """The most each metric may reach after the polish: ``before * (1 + tolerance) + slack``."""
    return {name: value * (1 + tolerance) + METRIC_SLACK.get(name, 0.0) for name, value in before.items()}


def acceptable(limits: dict[str, Tensor], after: dict[str, Tensor]) -> bool:
    """True when no metric of ``after`` exceeds its limit (see :func:`allowance`)."""
    return all(bool((after[name] <= limits[name]).all()) for name in limits)


def polish(program: Program, model: MotionModel, seed: Iterate, config: OptimizeConfig) -> PolishOutcome:
    """Polish one seed (an Iterate of one: its features and placement are used)."""
    hard = hard_mask(program, seed.features.device)
    body = Decoder(model, program.text, 0, config.guidance, config.rigid)
    delta = torch.zeros_like(seed.features, requires_grad=True)
    optimizer = torch.optim.Adam([delta], lr=config.polish_lr)
    limits = allowance(naturalness.measure(seed.joints), config.polish_tolerance)
    best, best_step = seed, 0
    for step in range(config.polish_iterations + 1):
        joints = place_joints(program, body.joints(seed.features + delta), seed.yaw, seed.xz)
        loss = program.loss(joints)
        if step > 0:
            with torch.no_grad():
                current = replace(seed, features=(seed.features + delta).detach(), joints=joints.detach(),
                                  margins=program.margins(joints), loss=loss.detach())
            if not (torch.isfinite(current.loss).all() and torch.isfinite(current.margins).all()):
                break
            if bool(is_better(*violations(current.margins, hard), *violations(best.margins, hard)).all()) \
                    and acceptable(limits, naturalness.measure(current.joints)):
                best, best_step = current, step
        if bool((violations(best.margins, hard)[0] == 0).all()) or step == config.polish_iterations:
            break
        objective = (loss.sum() + naturalness.guard(joints, limits, GUARD_FRACTION).sum()
                     + config.polish_smooth_weight * second_difference(delta).pow(2).mean()
                     + config.polish_prior_weight * delta.pow(2).mean())
        (delta.grad,) = torch.autograd.grad(objective, [delta])
        optimizer.step()
    return PolishOutcome(best, iterations=best_step, accepted=best is not seed)
