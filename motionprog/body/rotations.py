"""Rotations in torch: unit quaternions, rotation matrices, the continuous 6D form, axis-angle, yaw.

Conventions (every function here):
- quaternions are ``[..., 4]`` with the real part first, ``(w, x, y, z)``, unit length;
- rotation matrices are ``[..., 3, 3]`` and act on column vectors (``v' = R v``);
- the continuous 6D form (Zhou et al., CVPR 2019) is the first two *columns* of the
  matrix, concatenated: ``[..., 6] = (R[:, 0], R[:, 1])``, as HumanML3D stores it;
- angles are radians; a yaw is a rotation about +Y (Y up), positive from +Z towards +X.

All functions are pure, batched over any leading dimensions (which broadcast) and
differentiable, with finite gradients at their singular points (zero-length vectors,
opposite vectors, the identity).
"""

from __future__ import annotations

import torch
from torch import Tensor

from motionprog.numerics import safe_normalize


def quat_identity_like(q: Tensor) -> Tensor:
    """Identity rotations ``(1, 0, 0, 0)`` with the shape, dtype and device of ``q [..., 4]``."""
    return torch.zeros_like(q) + torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=q.dtype, device=q.device)


def quat_multiply(a: Tensor, b: Tensor) -> Tensor:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``); ``[..., 4]`` each."""
    aw, av = a[..., :1], a[..., 1:]
    bw, bv = b[..., :1], b[..., 1:]
    w = aw * bw - (av * bv).sum(dim=-1, keepdim=True)
    v = aw * bv + bw * av + torch.linalg.cross(*torch.broadcast_tensors(av, bv), dim=-1)
    return torch.cat([w, v], dim=-1)


def quat_inverse(q: Tensor) -> Tensor:
    """Inverse of a unit quaternion (its conjugate); ``[..., 4]``."""
    return torch.cat([q[..., :1], -q[..., 1:]], dim=-1)


def quat_rotate(q: Tensor, v: Tensor) -> Tensor:
    """Rotate vectors ``v [..., 3]`` by unit quaternions ``q [..., 4]``; returns ``[..., 3]``.

    Uses ``v' = v + 2w (u x v) + 2 u x (u x v)`` with ``q = (w, u)``.
    """
    w, u = q[..., :1], q[..., 1:]
    u, v = torch.broadcast_tensors(u, v)
    uv = torch.linalg.cross(u, v, dim=-1)
    return v + 2.0 * (w * uv + torch.linalg.cross(u, uv, dim=-1))


def quat_canonical(q: Tensor) -> Tensor:
    """The same rotation with a non-negative real part; ``[..., 4]``."""
    return torch.where(q[..., :1] < 0, -q, q)


def quat_between(u: Tensor, v: Tensor) -> Tensor:
    """The shortest-arc rotation taking direction ``u [..., 3]`` to direction ``v [..., 3]``.

    ``q = normalize(|u||v| + u.v, u x v)``. For opposite vectors, where that is 0/0, the
    result is a half turn about an axis perpendicular to ``u``. Returns ``[..., 4]``, w >= 0.
    """
    u, v = torch.broadcast_tensors(u, v)
    lengths = torch.linalg.vector_norm(u, dim=-1, keepdim=True) * torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    w = lengths + (u * v).sum(dim=-1, keepdim=True)
    q = torch.cat([w, torch.linalg.cross(u, v, dim=-1)], dim=-1)
    # Half turn: the axis is u crossed with the basis vector least aligned with u.
    basis = torch.eye(3, dtype=u.dtype, device=u.device)[u.abs().argmin(dim=-1)]
    half_turn = torch.cat([torch.zeros_like(w), safe_normalize(torch.linalg.cross(u, basis, dim=-1))], dim=-1)
    opposite = w <= 1e-6 * lengths
    return safe_normalize(torch.where(opposite, half_turn, q))


def quat_to_matrix(q: Tensor) -> Tensor:
    """Rotation matrices ``[..., 3, 3]`` of unit quaternions ``[..., 4]``."""
    w, x, y, z = q.unbind(dim=-1)
    rows = (
        (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
        (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
        (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
    )
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def matrix_to_quat(m: Tensor) -> Tensor:
    """Unit quaternions ``[..., 4]`` (w >= 0) of rotation matrices ``[..., 3, 3]``.

    Shepperd's method: ``K = 4 q q^T`` is written from the matrix entries; the row of ``K``
    with the largest diagonal entry is proportional to ``q`` and well conditioned.
    """
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    k = torch.stack(
        [
            torch.stack([1 + m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01], dim=-1),
            torch.stack([m21 - m12, 1 + m00 - m11 - m22, m01 + m10, m02 + m20], dim=-1),
            torch.stack([m02 - m20, m01 + m10, 1 - m00 + m11 - m22, m12 + m21], dim=-1),
            torch.stack([m10 - m01, m02 + m20, m12 + m21, 1 - m00 - m11 + m22], dim=-1),
        ],
        dim=-2,
    )
    best = k.diagonal(dim1=-2, dim2=-1).argmax(dim=-1)
    row = torch.take_along_dim(k, best[..., None, None].expand(*best.shape, 1, 4), dim=-2)[..., 0, :]
    return quat_canonical(safe_normalize(row))


def matrix_to_cont6d(m: Tensor) -> Tensor:
    """Continuous 6D form ``[..., 6]``: the first two columns of ``m [..., 3, 3]``."""
    return torch.cat([m[..., :, 0], m[..., :, 1]], dim=-1)


def quat_to_cont6d(q: Tensor) -> Tensor:
    """Continuous 6D form ``[..., 6]`` of unit quaternions ``[..., 4]``."""
    return matrix_to_cont6d(quat_to_matrix(q))


def quat_to_axis_angle(q: Tensor) -> Tensor:
    """Axis-angle vectors ``[..., 3]`` (axis times angle in radians, angle in [0, pi]) of unit
    quaternions ``[..., 4]``; the identity gives 0, with the limit ``2 * (x, y, z)`` near it."""
    q = quat_canonical(q)
    sin_half = torch.linalg.vector_norm(q[..., 1:], dim=-1, keepdim=True)
    angle = 2 * torch.atan2(sin_half, q[..., :1])
    turned = sin_half > 1e-12
    return q[..., 1:] * torch.where(turned, angle / torch.where(turned, sin_half, 1.0), 2.0)


def yaw_quat(angle: Tensor) -> Tensor:
    """Rotation by ``angle [...]`` radians about +Y; returns ``[..., 4]``."""
    half = 0.5 * angle
    zero = torch.zeros_like(half)
    return torch.stack([torch.cos(half), zero, torch.sin(half), zero], dim=-1)


def rotate_yaw(v: Tensor, angle: Tensor) -> Tensor:
    """Rotate vectors ``v [..., 3]`` by ``angle [...]`` radians about +Y (+Z turns to +X)."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    x, y, z = v.unbind(dim=-1)
    x_new, z_new = x * cos + z * sin, z * cos - x * sin
    return torch.stack([x_new, y.expand_as(x_new), z_new], dim=-1)


def quat_slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical linear interpolation between unit quaternions ``a`` and ``b [..., 4]`` at
    fractions ``t [...]`` (0 gives ``a``, 1 gives ``b``), along the shorter arc; ``[..., 4]``.

    Nearly equal rotations (angle below 1e-6 rad) fall back to normalised linear interpolation.
    """
    dot = (a * b).sum(dim=-1, keepdim=True)
    b = torch.where(dot < 0, -b, b)
    angle = torch.acos(dot.abs().clamp(max=1.0))
    sin = torch.sin(angle)
    t = t[..., None]
    close = sin < 1e-6
    safe = sin.clamp_min(1e-6)
    weight_a = torch.where(close, 1.0 - t, torch.sin((1.0 - t) * angle) / safe)
    weight_b = torch.where(close, t, torch.sin(t * angle) / safe)
    return safe_normalize(weight_a * a + weight_b * b)
