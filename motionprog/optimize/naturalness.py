"""Naturalness inside the optimizer: one weighting of the metrics of ``motionprog.metrics``,
used to rank seeds, to penalise the search and to guard the polish.

Every metric is converted to metres of constraint violation by dividing by its ``SCALE``:
100 m/s^2 of acceleration, 1 m of floor penetration, a bone-length drift of 1 (relative) and a
foot-skating ratio of 1 each cost as much as 1 m of violation. So the seed ranking, the in-loop
penalty and the polish guard agree on what "less natural" means.
"""

from __future__ import annotations

import torch
from torch import Tensor

from motionprog import metrics
from motionprog.body.quantities import acceleration
from motionprog.numerics import safe_norm

SCALE = {
    "foot_skating_ratio": 1.0,
    "max_acceleration": 100.0,
    "floor_penetration": 1.0,
    "bone_length_drift": 1.0,
}
"""Each metric's amount (its unit) that counts as 1 m of constraint violation."""

DIFFERENTIABLE = ("max_acceleration", "floor_penetration", "bone_length_drift")
"""Metrics with a useful gradient (foot skating counts frames: none)."""

ACCELERATION_LIMIT = 50.0
"""m/s^2: joint accelerations above this are penalised during the search (the prior's own
samples stay below it; jerks the search finds to satisfy a program do not)."""


def measure(joints: Tensor) -> dict[str, Tensor]:
    """Metrics per seed of joints [B, T, 22, 3] (metres, Y up, 20 fps), each [B] float on the CPU."""
    with torch.no_grad():
        return {name: value.detach().float().cpu() for name, value in metrics.naturalness(joints).items()}


def score(values: dict[str, Tensor]) -> Tensor:
    """[B] one number per seed, smaller is more natural: the sum of the metrics over their scales."""
    return sum(values[name] / scale for name, scale in SCALE.items())


def penalty(joints: Tensor, fps: float) -> Tensor:
    """[B] differentiable cost of leaving what the prior generates, summed over frames: each
    frame's largest joint acceleration beyond ``ACCELERATION_LIMIT`` plus the depth of its
    lowest joint below the floor, over their scales. joints [B, T, 22, 3] metres."""
    jerk = torch.relu(safe_norm(acceleration(joints, fps=fps)).amax(-1) - ACCELERATION_LIMIT)
    depth = torch.relu(-joints[..., 1].amin(-1))
    return (jerk / SCALE["max_acceleration"] + depth / SCALE["floor_penetration"]).sum(-1)


def guard(joints: Tensor, limits: dict[str, Tensor], fraction: float) -> Tensor:
    """[B] hinge on the differentiable metrics of joints [B, T, 22, 3] once they pass
    ``fraction`` of their ``limits`` (name -> [B], the metric's unit), over their scales."""
    values = metrics.naturalness(joints)
    return sum(torch.relu(values[name] - fraction * limits[name].to(joints)) / SCALE[name]
               for name in DIFFERENTIABLE)
