"""IR -> tensors: per-frame margins and their temporal aggregation, batched and differentiable.

Every value evaluates to ``[B|1, T|1, J|1, C]`` (seeds, frames, joints of a group, components;
SI units); every predicate to a per-frame margin ``[B, T]`` (a group's joints reduced by the
minimum). Logic and time use :mod:`motionprog.numerics`: ``temperature`` 0 gives the exact
min/max (reported margins), a positive temperature the log-sum-exp smooth versions (loss).
There is no Python loop over frames, joints or seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from motionprog.body import mass, quantities
from motionprog.body.skeleton import FPS
from motionprog.geometry import capsule_penetration
from motionprog.lang import ir
from motionprog.numerics import always, eventually, safe_atan2, safe_norm, safe_normalize, smooth_max, smooth_min


@dataclass(frozen=True)
class Context:
    """What evaluation needs: joints [B, T, 22, 3] (metres), scene objects by name, the
    statement's window as a bool mask [T], the smooth min/max temperature, and (editing) the
    input motion's joints [1, T, 22, 3] that ``input.x`` reads."""

    joints: Tensor
    objects: dict[str, object]
    window: Tensor
    temperature: float
    input: Tensor | None = None


def value(node: ir.Value, ctx: Context) -> Tensor:
    """Evaluate a value node to ``[B|1, T|1, J|1, C]``."""
    joints = ctx.joints
    if isinstance(node, ir.Const):
        return torch.tensor(node.values, dtype=joints.dtype, device=joints.device).view(1, 1, 1, -1)
    if isinstance(node, ir.Joints):
        return joints[:, :, list(node.indices), :]
    if isinstance(node, ir.Com):
        return mass.com(joints).unsqueeze(2)
    if isinstance(node, ir.Facing):
        return quantities.facing(joints).unsqueeze(2)
    if isinstance(node, ir.Component):
        return value(node.value, ctx)[..., list(node.axes)]
    if isinstance(node, ir.Arith):
        a, b = value(node.left, ctx), value(node.right, ctx)
        return {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div}[node.op](a, b)
    if isinstance(node, ir.Aggregate):
        return _aggregate(node.op, value(node.value, ctx), ctx)
    if isinstance(node, ir.Across):
        return _across(node.op, value(node.value, ctx), ctx.temperature)
    if isinstance(node, ir.At):
        x = value(node.value, ctx)
        return x if x.shape[1] == 1 else x[:, node.frame : node.frame + 1]
    if isinstance(node, ir.Input):
        return value(node.value, replace(ctx, joints=ctx.input.to(joints)))
    if isinstance(node, ir.SignedDistance):
        points = value(node.value, ctx)
        return ctx.objects[node.object].signed_distance(points).unsqueeze(-1)
    return _function(node.name, [value(a, ctx) for a in node.args], ctx.temperature)


def constant(node: ir.Value, objects: dict[str, object]) -> tuple[float, ...] | None:
    """The components of a value that does not depend on the motion (None when it does)."""
    if ir.uses_body(node) or ir.uses_input(node):
        return None
    still = torch.zeros(1, 1, 22, 3, dtype=torch.float64)
    ctx = Context(still, objects, torch.ones(1, dtype=torch.bool), 0.0)
    return tuple(value(node, ctx).reshape(-1).tolist())


def _function(name: str, args: list[Tensor], temperature: float) -> Tensor:
    """Pointwise built-ins on ``[B|1, T|1, J|1, C]`` tensors (see ``ir.Fn``)."""
    if name == "neg":
        return -args[0]
    if name == "abs":
        return args[0].abs()
    if name == "norm":
        return safe_norm(args[0], dim=-1, keepdim=True)
    if name == "distance":
        return safe_norm(args[0] - args[1], dim=-1, keepdim=True)
    if name == "midpoint":
        return (args[0] + args[1]) / 2
    if name == "direction":
        return safe_normalize(args[1] - args[0])
    if name == "angle":
        u, v = torch.broadcast_tensors(*args)
        cross = (u[..., :1] * v[..., 1:] - u[..., 1:] * v[..., :1]) if u.shape[-1] == 2 else torch.linalg.cross(u, v)
        return safe_atan2(safe_norm(cross, dim=-1, keepdim=True), (u * v).sum(-1, keepdim=True))
    if name in ("velocity", "acceleration", "speed"):
        x = args[0]
        derivative = quantities.acceleration if name == "acceleration" else quantities.velocity
        rate = derivative(x, fps=FPS, dim=1) if x.shape[1] > 1 else torch.zeros_like(x)
        return safe_norm(rate, dim=-1, keepdim=True) if name == "speed" else rate
    if name == "stack":
        return torch.cat(torch.broadcast_tensors(*args), dim=-1)
    if name == "min_components":
        return smooth_min(args[0], dim=-1, temperature=temperature).unsqueeze(-1)
    stacked = torch.stack(torch.broadcast_tensors(*args), dim=-1)
    extremum = smooth_min if name == "min" else smooth_max
    return extremum(stacked, dim=-1, temperature=temperature)


def _aggregate(op: str, x: Tensor, ctx: Context) -> Tensor:
    """min/max/mean of ``x`` [B, T, J, C] over the window's frames -> [B, 1, J, C]."""
    if x.shape[1] == 1:
        return x
    mask = ctx.window.view(1, -1, 1, 1)
    if op == "mean":
        weights = mask.to(x.dtype)
        return (x * weights).sum(1, keepdim=True) / weights.sum().clamp(min=1)
    extremum = smooth_min if op == "min" else smooth_max
    return extremum(x, dim=1, temperature=ctx.temperature, mask=mask).unsqueeze(1)


def _across(op: str, x: Tensor, temperature: float) -> Tensor:
    """max/min/mean of ``x`` [B, T, J, C] over its joints -> [B, T, 1, C]."""
    if op == "mean":
        return x.mean(dim=2, keepdim=True)
    extremum = smooth_min if op == "min" else smooth_max
    return extremum(x, dim=2, temperature=temperature).unsqueeze(2)


def predicate(node: ir.Predicate, ctx: Context) -> Tensor:
    """Per-frame margin ``[B, T]`` of a predicate, positive where it holds."""
    batch, frames = ctx.joints.shape[:2]
    if isinstance(node, ir.Atom):
        margin = value(node.margin, ctx).squeeze(-1)
        return smooth_min(margin, dim=2, temperature=ctx.temperature).expand(batch, frames)
    if isinstance(node, ir.Not):
        return -predicate(node.operand, ctx)
    if isinstance(node, ir.Logic):
        stacked = torch.stack([predicate(p, ctx) for p in node.operands], dim=-1)
        extremum = smooth_min if node.op == "and" else smooth_max
        return extremum(stacked, dim=-1, temperature=ctx.temperature)
    return capsule_penetration(ctx.joints, ctx.objects[node.object], node.indices, temperature=ctx.temperature)


def per_frame(constraint: ir.Constraint, ctx: Context) -> Tensor:
    """The constraint's per-frame margin (objectives: per-frame value) ``[B, T]``."""
    if constraint.kind == "objective":
        frame_values = value(constraint.body, ctx).squeeze(-1).mean(dim=2)
        margin = frame_values.expand(*ctx.joints.shape[:2])
    else:
        margin = predicate(constraint.body, ctx)
    if constraint.when is not None:
        condition = predicate(constraint.when, ctx)
        margin = smooth_max(torch.stack([-condition, margin], dim=-1), dim=-1, temperature=ctx.temperature)
    return margin


def margin(constraint: ir.Constraint, ctx: Context) -> tuple[Tensor, Tensor]:
    """(margin [B], per-frame margin [B, T]) of one constraint over its window ``ctx.window``."""
    frames = per_frame(constraint, ctx)
    if constraint.quantifier == "mean":
        weights = ctx.window.to(frames.dtype)
        total = (frames * weights).sum(-1) / weights.sum().clamp(min=1)
    elif constraint.quantifier == "eventually":
        total = eventually(frames, ctx.window, ctx.temperature)
    else:
        total = always(frames, ctx.window, ctx.temperature)
    return total, frames
