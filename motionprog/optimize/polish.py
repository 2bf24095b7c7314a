"""The polish: a few Adam steps on one seed's decoded features that remove the residual
violation the latent search left, while keeping the correction smooth and small.

Objective over a feature correction ``delta`` [1, T, D] (normalised feature units):
``program.loss(joints(features + delta)) + smooth_weight * mean((second difference of delta
over time)^2) + prior_weight * mean(delta^2) + guard``. The first regulariser keeps the
correction smooth (the model's own high-frequency detail is kept), the second keeps it close to
what the prior produced, and the guard is a hinge on the acceptance rule itself: it grows as
soon as the maximum acceleration, floor penetration or bone drift comes within
``GUARD_FRACTION`` of what the rule allows. Every step is checked against the rule, and the
polish returns its best acceptable iterate (fewest violated hard constraints, then least
violation): it violates less than the latent search's result, and no naturalness metric
worsens by more than ``polish_tolerance`` of its value (plus a small absolute slack).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor

from motionprog import metrics
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

GUARD_SCALE = {"max_acceleration": 10.0, "floor_penetration": 0.1, "bone_length_drift": 0.1}
"""Differentiable metrics the guard watches, each with the excess (m/s^2, m, ratio) that costs
as much as 1 m of constraint violation. (Foot skating is a count of frames: no gradient.)"""

GUARD_FRACTION = 0.8
"""The guard starts at this fraction of each metric's allowance, so that steps stay acceptable."""


@dataclass(frozen=True)
class PolishOutcome:
    """features [1, T, D] normalised; joints [1, T, 22, 3] m; margins [1, K]; loss [1];
    iterations: the polish step whose iterate was kept (0: none was better and acceptable)."""

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


def allowance(before: dict[str, Tensor], tolerance: float) -> dict[str, Tensor]:
    """The most each metric may reach after the polish: ``before * (1 + tolerance) + slack``."""
    return {name: value * (1 + tolerance) + METRIC_SLACK.get(name, 0.0) for name, value in before.items()}


def acceptable(before: dict[str, Tensor], after: dict[str, Tensor], tolerance: float) -> bool:
    """True when no metric of ``after`` exceeds ``before * (1 + tolerance) + slack``."""
    limits = allowance(before, tolerance)
    return all(bool((after[name] <= limits[name]).all()) for name in before)


def guard(joints: Tensor, limits: dict[str, Tensor]) -> Tensor:
    """[B] hinge penalty, in metres of constraint violation, on metrics of joints [B, T, 22, 3]
    that pass ``GUARD_FRACTION`` of their limits (``limits``: name -> [B], the metric's unit)."""
    values = metrics.naturalness(joints)
    return sum(
        torch.relu(values[name] - GUARD_FRACTION * limits[name].to(joints)) / scale
        for name, scale in GUARD_SCALE.items()
    )


def polish(program: Any, model: Any, features: Tensor, yaw: Tensor, xz: Tensor,
           config: OptimizeConfig) -> PolishOutcome:
    """Polish one seed: features [1, T, D] (normalised), yaw [1] rad, xz [1, 2] m (placement)."""
    hard = hard_mask(program, features.device)
    base = features.detach()
    delta = torch.zeros_like(base, requires_grad=True)
    optimizer = torch.optim.Adam([delta], lr=config.polish_lr)
    best = start = {}
    for step in range(config.polish_iterations + 1):
        joints = place_joints(program, body_joints(model, base + delta, config.rigid), yaw, xz)
        margins = program.margins(joints).detach()
        loss = program.loss(joints)
        if not (torch.isfinite(loss).all() and torch.isfinite(margins).all()):
            break
        count, total = violations(margins, hard)
        current = {"delta": delta.detach().clone(), "joints": joints.detach(), "margins": margins,
                   "loss": loss.detach(), "count": count, "total": total, "step": step}
        if step == 0:
            before = naturalness(joints.detach())
            limits = allowance(before, config.polish_tolerance)
            best = start = current
        elif (bool(is_better(count, total, best["count"], best["total"]).all())
              and acceptable(before, naturalness(joints.detach()), config.polish_tolerance)):
            best = current
        if bool((best["count"] == 0).all()) or step == config.polish_iterations:
            break
        objective = (loss.sum() + guard(joints, limits).sum()
                     + config.polish_smooth_weight * second_difference(delta).pow(2).mean()
                     + config.polish_prior_weight * delta.pow(2).mean())
        (delta.grad,) = torch.autograd.grad(objective, [delta])
        optimizer.step()
    if not best:
        raise ValueError("polish: the starting motion's loss is not finite")
    return PolishOutcome((base + best["delta"]).detach(), best["joints"], best["margins"], best["loss"],
                         iterations=best["step"], accepted=best is not start)


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
