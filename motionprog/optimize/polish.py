"""The polish: a few Adam steps on one seed's decoded features that remove the residual
violation the latent search left, while keeping the correction smooth and small.

Objective over a feature correction ``delta`` [1, T, D] (normalised feature units):
``program.loss(joints(features + delta)) + smooth_weight * mean((second difference of delta
over time)^2) + prior_weight * mean(delta^2)``. The first regulariser keeps the correction
smooth (the model's own high-frequency detail is kept), the second keeps it close to what the
prior produced. The result is accepted only if it violates less and no naturalness metric
worsens by more than ``polish_tolerance`` of its value (plus a small absolute slack).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor

from motionprog.optimize.config import OptimizeConfig
from motionprog.optimize.latent import Solution, body_joints, hard_mask, is_better, place_joints, violations
from motionprog.optimize.selection import naturalness

METRIC_SLACK = {
    "foot_skating_ratio": 0.02,
    "max_acceleration": 1.0,
    "floor_penetration": 0.005,
    "bone_length_drift": 0.005,
}
"""Absolute worsening each naturalness metric may always show (ratio, m/s^2, m, m)."""


@dataclass(frozen=True)
class PolishOutcome:
    """features [1, T, D] normalised; joints [1, T, 22, 3] m; margins [1, K]; loss [1]."""

    features: Tensor
    joints: Tensor
    margins: Tensor
    loss: Tensor
    iterations: int
    accepted: bool

    def summary(self) -> dict[str, Any]:
        return {"applied": True, "accepted": self.accepted, "iterations": self.iterations}


def second_difference(x: Tensor) -> Tensor:
    """x [B, T, ...] -> [B, T-2, ...]: x[t+1] - 2 x[t] + x[t-1] (per frame^2)."""
    return x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]


def acceptable(before: dict[str, Tensor], after: dict[str, Tensor], tolerance: float) -> bool:
    """True when no metric of ``after`` exceeds ``before * (1 + tolerance) + slack``."""
    return all(
        bool((after[name] <= before[name] * (1 + tolerance) + METRIC_SLACK.get(name, 0.0)).all())
        for name in before
    )


def polish(program: Any, model: Any, features: Tensor, yaw: Tensor, xz: Tensor,
           config: OptimizeConfig) -> PolishOutcome:
    """Polish one seed: features [1, T, D] (normalised), yaw [1] rad, xz [1, 2] m (placement)."""
    hard = hard_mask(program, features.device)
    base = features.detach()
    delta = torch.zeros_like(base, requires_grad=True)
    optimizer = torch.optim.Adam([delta], lr=config.polish_lr)
    steps = 0
    for step in range(config.polish_iterations + 1):
        joints = place_joints(program, body_joints(model, base + delta, config.rigid), yaw, xz)
        margins = program.margins(joints)
        loss = program.loss(joints)
        if step == 0:
            start = (joints.detach(), margins.detach(), loss.detach())
        count, _ = violations(margins.detach(), hard)
        if bool((count == 0).all()) or step == config.polish_iterations or not torch.isfinite(loss).all():
            break
        objective = (loss.sum()
                     + config.polish_smooth_weight * second_difference(delta).pow(2).mean()
                     + config.polish_prior_weight * delta.pow(2).mean())
        (delta.grad,) = torch.autograd.grad(objective, [delta])
        optimizer.step()
        steps += 1
    improved = bool(torch.isfinite(margins).all()) and bool(
        is_better(*violations(margins.detach(), hard), *violations(start[1], hard)).all()
    )
    accepted = improved and acceptable(naturalness(start[0]), naturalness(joints.detach()), config.polish_tolerance)
    if not accepted:
        return PolishOutcome(base, *start, iterations=steps, accepted=False)
    return PolishOutcome((base + delta).detach(), joints.detach(), margins.detach(), loss.detach(),
                         iterations=steps, accepted=True)


def with_polished_seed(solution: Solution, index: int, outcome: PolishOutcome) -> Solution:
    """``solution`` with seed ``index``'s features, joints, margins and loss taken from ``outcome``."""

    def put(old: Tensor, new: Tensor) -> Tensor:
        updated = old.clone()
        updated[index] = new[0]
        return updated

    return replace(
        solution, features=put(solution.features, outcome.features), joints=put(solution.joints, outcome.joints),
        margins=put(solution.margins, outcome.margins), loss=put(solution.loss, outcome.loss),
    )
