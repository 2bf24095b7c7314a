"""The last stage: planted feet pinned (``motionprog.body.feet.clean_feet``) on the kept seed,
kept only when no hard constraint gets worse and naturalness passes the polish's acceptance
rule (no metric beyond 120 % of its value before plus the slack)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch

from motionprog.body.feet import clean_feet
from motionprog.optimize import naturalness
from motionprog.optimize.polish import acceptable, allowance
from motionprog.optimize.solution import Iterate
from motionprog.optimize.verdict import hard_mask

if TYPE_CHECKING:
    from motionprog.lang.program import Program


def with_clean_feet(program: Program, seed: Iterate, fps: float, tolerance: float) -> tuple[Iterate, dict[str, Any]]:
    """(the seed with cleaned feet where accepted, else as it was; a JSON summary with the
    foot-skating ratio before and after). ``seed``: an Iterate of one."""
    with torch.no_grad():
        joints = clean_feet(seed.joints, fps)
        margins, loss = program.margins(joints), program.loss(joints)
    hard = hard_mask(program, margins.device)
    kept_hard = bool(((margins >= 0) | (margins >= seed.margins))[:, hard].all())
    before, after = naturalness.measure(seed.joints), naturalness.measure(joints)
    accepted = kept_hard and bool(torch.isfinite(margins).all()) and acceptable(allowance(before, tolerance), after)
    summary = {"applied": True, "accepted": accepted,
               "foot_skating_before": float(before["foot_skating_ratio"][0]),
               "foot_skating_after": float(after["foot_skating_ratio"][0])}
    return (replace(seed, joints=joints, margins=margins, loss=loss) if accepted else seed), summary
