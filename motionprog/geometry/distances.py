"""Signed distances of primitives as tensor functions (torch): the parameters are tensors that
broadcast with the points, so objects that move with the body use them directly, and scene
objects (:mod:`motionprog.geometry.primitives`) call them when a distance is asked for.

Conventions as in :mod:`motionprog.geometry.primitives`: metres, Y up, negative inside a solid,
finite gradients everywhere.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from motionprog.numerics import kink_clamp, kink_max, kink_min, safe_norm


def like(values: Any, points: Tensor) -> Tensor:
    """``values`` as a tensor of the dtype and device of ``points``."""
    return torch.as_tensor(values, dtype=points.dtype, device=points.device)


def _to_local(points: Tensor, center: Tensor, rotation: Tensor) -> Tensor:
    """World points [..., 3] to the frame of an object at ``center`` [..., 3] with ``rotation`` [..., 3, 3]."""
    return ((points - center).unsqueeze(-2) @ rotation).squeeze(-2)


def _to_world(local: Tensor, center: Tensor, rotation: Tensor) -> Tensor:
    return (rotation @ local.unsqueeze(-1)).squeeze(-1) + center


def point_distance(points: Tensor, center: Tensor) -> Tensor:
    """Distance from points [..., 3] to a point ``center`` [..., 3], metres -> [...] (>= 0)."""
    return safe_norm(points - center)


def line_closest_point(points: Tensor, a: Tensor, b: Tensor, segment: bool = True) -> Tensor:
    """Closest point to ``points`` [..., 3] on the segment a-b (or the infinite line through a, b).

    a, b: [..., 3] metres, broadcast with points -> [..., 3]. A degenerate segment (a == b)
    gives a (a point).
    """
    direction = b - a
    length2 = (direction * direction).sum(-1, keepdim=True)
    nonzero = length2 > 0
    t = torch.where(nonzero, ((points - a) * direction).sum(-1, keepdim=True) / torch.where(nonzero, length2, 1.0), 0.0)
    if segment:
        t = kink_clamp(t, 0.0, 1.0)
    return a + t * direction


def line_distance(points: Tensor, a: Tensor, b: Tensor, segment: bool = True) -> Tensor:
    """Distance from points [..., 3] to the segment a-b (or its infinite line), metres -> [...]."""
    return safe_norm(points - line_closest_point(points, a, b, segment))


def plane_signed_distance(points: Tensor, origin: Tensor, normal: Tensor) -> Tensor:
    """Height of points [..., 3] above the plane through ``origin`` with unit ``normal`` -> [...] metres."""
    return ((points - origin) * normal).sum(-1)


def sphere_signed_distance(points: Tensor, center: Tensor, radius: Tensor | float) -> Tensor:
    """Signed distance to a ball: ``|p - c| - r`` -> [...] metres (negative inside)."""
    return safe_norm(points - center) - radius


def _excess_distance(excess: Tensor) -> Tensor:
    """Signed distance from per-axis excesses [..., N] over a convex solid's half extents -> [...].

    Outside: the length of the positive excesses; inside: the largest (least negative) one. On a
    face (one excess exactly 0) the gradient is that face's normal, from :func:`kink_clamp`.
    """
    return safe_norm(kink_max(excess, 0.0)) + kink_min(excess.amax(dim=-1), 0.0)


def box_signed_distance(points: Tensor, center: Tensor, half_size: Tensor, rotation: Tensor) -> Tensor:
    """Exact signed distance to an oriented box (faces, edges and corners), metres.

    points [..., 3]; center [..., 3]; half_size [..., 3] (half the edge lengths); rotation
    [..., 3, 3] (columns: the box axes in the world) -> [...]. Outside: the length of the
    excess over the half sizes; inside: minus the distance to the nearest face.
    """
    excess = _to_local(points, center, rotation).abs() - half_size
    return _excess_distance(excess)


def box_closest_point(points: Tensor, center: Tensor, half_size: Tensor, rotation: Tensor) -> Tensor:
    """Closest point of the solid box to points [..., 3] (a point inside is its own) -> [..., 3]."""
    local = _to_local(points, center, rotation)
    return _to_world(kink_clamp(local, -half_size, half_size), center, rotation)


def cylinder_signed_distance(
    points: Tensor, center: Tensor, radius: Tensor | float, half_height: Tensor | float, rotation: Tensor
) -> Tensor:
    """Exact signed distance to a capped cylinder whose axis is the rotated +Y, metres.

    points [..., 3]; center [..., 3] (the middle of the axis); radius, half_height: metres;
    rotation [..., 3, 3] -> [...]. Finite gradients on the axis and on the rims.
    """
    local = _to_local(points, center, rotation)
    radial = safe_norm(local[..., [0, 2]]) - radius
    axial = local[..., 1].abs() - half_height
    return _excess_distance(torch.stack([radial, axial], dim=-1))


def sphere_closest_point(points: Tensor, center: Tensor, radius: float) -> Tensor:
    """Closest point of the solid ball to points [..., 3] (a point inside is its own) -> [..., 3]."""
    offset = points - center
    return center + offset * (radius / kink_max(safe_norm(offset, keepdim=True), radius))
