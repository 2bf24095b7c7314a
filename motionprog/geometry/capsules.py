"""The body as capsules along the bones, for collisions with scene objects.

A capsule is the set of points within ``radius`` of the segment a-b. The capsules, their
endpoints and radii are the collision segments of :mod:`motionprog.body.segments` (17 of them);
endpoints are fixed linear combinations of joints (most are joints; the head's and the hands'
far ends extend the neck and the forearm), so ``a = CAPSULE_START @ joints`` and
``b = CAPSULE_END @ joints``.

Distances to objects sample ``samples`` points along each capsule axis (endpoints included) and
take the least signed distance: exact for planes (linear along the axis), and since signed
distances are 1-Lipschitz, never more than half the sample spacing above the exact value.
Joints ``[..., 22, 3]``, metres, Y up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from motionprog.body.segments import CAPSULE_END, CAPSULE_RADII, CAPSULE_START
from motionprog.numerics import smooth_min


class SignedDistance(Protocol):
    """Anything with a signed distance: primitives, meshes."""

    def signed_distance(self, points: Tensor) -> Tensor: ...


def body_capsules(joints: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Capsule axes and radii of a body.

    joints: [..., 22, 3] metres -> (a [..., K, 3], b [..., K, 3], radius [K]) metres.
    """
    like = dict(dtype=joints.dtype, device=joints.device)
    return (torch.as_tensor(CAPSULE_START, **like) @ joints, torch.as_tensor(CAPSULE_END, **like) @ joints,
            torch.as_tensor(CAPSULE_RADII, **like))


def capsule_points(joints: Tensor, samples: int = 5) -> Tensor:
    """Points spaced evenly along each capsule axis, endpoints included.

    joints: [..., 22, 3] -> [..., K, samples, 3] metres.
    """
    a, b, _ = body_capsules(joints)
    t = torch.linspace(0.0, 1.0, samples, dtype=joints.dtype, device=joints.device)[:, None]
    return a.unsqueeze(-2) + t * (b - a).unsqueeze(-2)


def capsule_distances(joints: Tensor, obj: SignedDistance, samples: int = 5) -> Tensor:
    """Signed distance from each capsule's surface to an object (negative when they overlap).

    joints: [..., 22, 3]; obj: anything with ``signed_distance(points [..., 3]) -> [...]``
    -> [..., K] metres (sampled along the axis: see the module docstring for the bound).
    """
    axis_distance = obj.signed_distance(capsule_points(joints, samples)).amin(dim=-1)
    return axis_distance - torch.as_tensor(CAPSULE_RADII, dtype=joints.dtype, device=joints.device)


def capsules_of(joint_indices: Sequence[int]) -> tuple[int, ...]:
    """Indices of the capsules whose axis ends at (or is built from) any of the given joints.

    E.g. the left wrist (20) -> the left forearm and left hand capsules; all 22 joints -> all.
    """
    uses = (CAPSULE_START[:, list(joint_indices)] != 0) | (CAPSULE_END[:, list(joint_indices)] != 0)
    return tuple(int(k) for k in np.flatnonzero(uses.any(axis=1)))


def penetration_margin(
    joints: Tensor, obj: SignedDistance, joint_indices: Sequence[int] | None = None, samples: int = 5,
    temperature: float = 0.0,
) -> Tensor:
    """Margin of "no body capsule touches the object": the least capsule distance, metres.

    joints: [..., 22, 3] -> [...]; positive when the body is clear of the object.
    joint_indices: only the capsules of these joints (:func:`capsules_of`); None: the whole body.
    temperature: soft minimum over capsules (0: the exact minimum), see :mod:`motionprog.numerics`.
    """
    distances = capsule_distances(joints, obj, samples)
    if joint_indices is not None:
        distances = distances[..., list(capsules_of(joint_indices))]
    return smooth_min(distances, dim=-1, temperature=temperature)


def capsule_penetration(
    joints: Tensor, obj: SignedDistance, joint_indices: Sequence[int] | None = None, samples: int = 5,
    temperature: float = 0.0,
) -> Tensor:
    """Margin of "the body (or these joints' capsules) collides with the object": the deepest
    penetration, ``-penetration_margin``; positive when some capsule overlaps it. [..., 22, 3] -> [...]."""
    return -penetration_margin(joints, obj, joint_indices, samples, temperature)
