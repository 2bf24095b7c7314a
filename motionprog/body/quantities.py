"""Body quantities derived from joint positions: velocity, acceleration, midpoints, facing.

Conventions (see :mod:`motionprog.body.skeleton`): joints ``[..., T, 22, 3]`` or ``[..., 22, 3]``,
metres, Y up, HumanML3D joint order, ``skeleton.FPS`` (20) frames per second. Time derivatives
take the time axis as an argument (``dim``, default -3 for joint tensors), so they also apply to
a centre of mass ``[..., T, 3]`` (``dim=-2``) or a scalar signal ``[..., T]`` (``dim=-1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from motionprog.body.skeleton import FACE_JOINTS, FPS
from motionprog.numerics import safe_atan2, safe_norm, safe_normalize

def velocity(x: Tensor, fps: float = FPS, dim: int = -3) -> Tensor:
    """Time derivative of ``x`` along ``dim`` in units per second (m/s for positions).

    Central differences ``(x[t+1] - x[t-1]) * fps / 2`` inside, one-sided first differences at
    the two ends; the output has the same shape as ``x`` (zeros when there is a single frame).
    x: [..., T, ...] (e.g. joints [..., T, 22, 3], metres) -> same shape.
    """
    length = x.shape[dim]
    if length < 2:
        return torch.zeros_like(x)
    first = x.narrow(dim, 1, 1) - x.narrow(dim, 0, 1)
    last = x.narrow(dim, length - 1, 1) - x.narrow(dim, length - 2, 1)
    inner = (x.narrow(dim, 2, length - 2) - x.narrow(dim, 0, length - 2)) / 2
    return torch.cat([first, inner, last], dim=dim) * fps


def acceleration(x: Tensor, fps: float = FPS, dim: int = -3) -> Tensor:
    """Second time derivative of ``x`` along ``dim`` in units per second^2 (m/s^2 for positions).

    The three-point stencil ``(x[t+1] - 2 x[t] + x[t-1]) * fps^2`` inside; each end repeats its
    neighbour's one-sided stencil, so constant acceleration is recovered exactly at every frame.
    x: [..., T, ...] -> same shape (zeros with fewer than 3 frames).
    """
    length = x.shape[dim]
    if length < 3:
        return torch.zeros_like(x)
    inner = x.narrow(dim, 2, length - 2) - 2 * x.narrow(dim, 1, length - 2) + x.narrow(dim, 0, length - 2)
    ends_padded = torch.cat([inner.narrow(dim, 0, 1), inner, inner.narrow(dim, length - 3, 1)], dim=dim)
    return ends_padded * fps**2


def speed(x: Tensor, fps: float = FPS, dim: int = -3) -> Tensor:
    """Speed ``|velocity|`` in units per second.

    x: [..., T, ..., 3] (positions, metres) -> [..., T, ...] (m/s); the last axis is xyz.
    """
    return safe_norm(velocity(x, fps=fps, dim=dim), dim=-1)


def midpoint(joints: Tensor, indices: Sequence[int]) -> Tensor:
    """Mean position of the given joints.

    joints: [..., 22, 3] metres; indices: joint indices (repeats count twice) -> [..., 3] metres.
    """
    return joints[..., list(indices), :].mean(dim=-2)


def up_cross(v: Tensor) -> Tensor:
    """``+Y x v`` for ``v [..., 3]``: ``(v_z, 0, -v_x)``, horizontal, 90 degrees left of ``v``
    seen from above (not normalised)."""
    return torch.stack([v[..., 2], torch.zeros_like(v[..., 0]), -v[..., 0]], dim=-1)


def facing(joints: Tensor) -> Tensor:
    """Horizontal unit facing direction of the body, as HumanML3D computes its heading: the one
    facing function of the package (the language, kinematics, features and importers use it).

    ``across = (right_hip - left_hip) + (right_shoulder - left_shoulder)`` points to the body's
    right and ``forward = normalize(+Y x across)``: the rest pose faces +Z.
    joints: [..., 22, 3] metres -> [..., 3] unit vector with y = 0 (zero when the pose has none).
    """
    right_hip, left_hip, right_shoulder, left_shoulder = (joints[..., i, :] for i in FACE_JOINTS)
    return safe_normalize(up_cross(right_hip - left_hip + right_shoulder - left_shoulder))


def heading(joints: Tensor) -> Tensor:
    """Yaw of the facing direction about +Y in radians, (-pi, pi]: 0 facing +Z, pi/2 facing +X.

    joints: [..., 22, 3] metres -> [...] radians (0 when the facing direction is undefined).
    """
    forward = facing(joints)
    return safe_atan2(forward[..., 0], forward[..., 2])
