"""The body as capsules along the bones, for collisions with scene objects and with itself.

A capsule is the set of points within ``radius`` of the segment a-b. Endpoints are fixed linear
combinations of joints (most are joints; the head's and the hands' far ends extend the neck and
the forearm), so ``a = A @ joints`` and ``b = B @ joints`` for constant [K, 22] matrices.

Radii (metres) for HumanML3D's reference body, chosen to cover an average adult while pairs
more than two bones apart stay clear of each other in a T-pose and over the whole recorded
sample 012314 (least clearance 4 mm, an upper arm by the chest):

| capsule            | from - to                                   | radius |
|--------------------|---------------------------------------------|--------|
| pelvis             | left_hip - right_hip                        | 0.09   |
| abdomen            | pelvis - spine2                             | 0.11   |
| chest              | spine2 - neck                               | 0.09   |
| neck               | neck - head                                 | 0.05   |
| head               | head - head + (head - neck)                 | 0.09   |
| upper arms         | shoulder - elbow                            | 0.05   |
| forearms           | elbow - wrist                               | 0.04   |
| hands              | wrist - wrist + 0.35 (wrist - elbow)        | 0.04   |
| thighs             | hip - knee                                  | 0.06   |
| shanks             | knee - ankle                                | 0.05   |
| feet               | ankle - foot                                | 0.04   |

Distances to objects sample ``samples`` points along each capsule axis (endpoints included) and
take the least signed distance: exact for planes (linear along the axis), and since signed
distances are 1-Lipschitz, never more than half the sample spacing above the exact value.
Joints ``[..., 22, 3]``, metres, Y up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from motionprog.body.mass import landmark_matrix
from motionprog.body.skeleton import NUM_JOINTS, PARENTS
from motionprog.geometry.primitives import line_distance
from motionprog.numerics import smooth_min


class SignedDistance(Protocol):
    """Anything with a signed distance: primitives, meshes."""

    def signed_distance(self, points: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class Capsule:
    """A body capsule: endpoints as {joint name: coefficient} (each summing to 1), radius in metres."""

    name: str
    a: Mapping[str, float]
    b: Mapping[str, float]
    radius: float


def _limbs(side: str) -> tuple[Capsule, ...]:
    s = side
    return (
        Capsule(f"{s}_upper_arm", {f"{s}_shoulder": 1.0}, {f"{s}_elbow": 1.0}, 0.05),
        Capsule(f"{s}_forearm", {f"{s}_elbow": 1.0}, {f"{s}_wrist": 1.0}, 0.04),
        Capsule(f"{s}_hand", {f"{s}_wrist": 1.0}, {f"{s}_wrist": 1.35, f"{s}_elbow": -0.35}, 0.04),
        Capsule(f"{s}_thigh", {f"{s}_hip": 1.0}, {f"{s}_knee": 1.0}, 0.06),
        Capsule(f"{s}_shank", {f"{s}_knee": 1.0}, {f"{s}_ankle": 1.0}, 0.05),
        Capsule(f"{s}_foot", {f"{s}_ankle": 1.0}, {f"{s}_foot": 1.0}, 0.04),
    )


CAPSULES: tuple[Capsule, ...] = (
    Capsule("pelvis", {"left_hip": 1.0}, {"right_hip": 1.0}, 0.09),
    Capsule("abdomen", {"pelvis": 1.0}, {"spine2": 1.0}, 0.11),
    Capsule("chest", {"spine2": 1.0}, {"neck": 1.0}, 0.09),
    Capsule("neck", {"neck": 1.0}, {"head": 1.0}, 0.05),
    Capsule("head", {"head": 1.0}, {"head": 2.0, "neck": -1.0}, 0.09),
    *_limbs("left"),
    *_limbs("right"),
)
"""The 17 body capsules."""

CAPSULE_NAMES: tuple[str, ...] = tuple(c.name for c in CAPSULES)


START_MATRIX = landmark_matrix([c.a for c in CAPSULES])
"""[K, 22]: capsule start points = START_MATRIX @ joints."""
END_MATRIX = landmark_matrix([c.b for c in CAPSULES])
"""[K, 22]: capsule end points = END_MATRIX @ joints."""
RADII = np.array([c.radius for c in CAPSULES])
"""[K] capsule radii, metres."""


def _self_pairs() -> np.ndarray:
    """Capsule pairs [P, 2] whose joints are more than two bones apart (closer ones touch by design:
    a thigh and its shank, the two thighs at the hips, the chest and the neck)."""
    adjacent = np.eye(NUM_JOINTS, dtype=int)
    for joint, parent in enumerate(PARENTS):
        if parent >= 0:
            adjacent[joint, parent] = adjacent[parent, joint] = 1
    within_two = adjacent @ adjacent
    uses = ((START_MATRIX != 0) | (END_MATRIX != 0)).astype(int)  # [K, 22]
    near = (uses @ within_two @ uses.T) > 0
    i, j = np.triu_indices(len(CAPSULES), k=1)
    keep = ~near[i, j]
    return np.stack([i[keep], j[keep]], axis=1)


SELF_PAIRS = _self_pairs()
"""[P, 2] capsule index pairs checked by :func:`self_distance`."""


def body_capsules(joints: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Capsule axes and radii of a body.

    joints: [..., 22, 3] metres -> (a [..., K, 3], b [..., K, 3], radius [K]) metres.
    """
    like = dict(dtype=joints.dtype, device=joints.device)
    return (torch.as_tensor(START_MATRIX, **like) @ joints, torch.as_tensor(END_MATRIX, **like) @ joints,
            torch.as_tensor(RADII, **like))


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
    return axis_distance - torch.as_tensor(RADII, dtype=joints.dtype, device=joints.device)


def capsules_of(joint_indices: Sequence[int]) -> tuple[int, ...]:
    """Indices of the capsules whose axis ends at (or is built from) any of the given joints.

    E.g. the left wrist (20) -> the left forearm and left hand capsules; all 22 joints -> all.
    """
    uses = (START_MATRIX[:, list(joint_indices)] != 0) | (END_MATRIX[:, list(joint_indices)] != 0)
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


def self_distance(joints: Tensor, samples: int = 5) -> Tensor:
    """Clearance between capsule pairs that are not neighbours (``SELF_PAIRS``), metres.

    Sampled points on the first capsule's axis against the exact segment of the second, minus
    both radii. joints: [..., 22, 3] -> [..., P]; negative when two body parts interpenetrate.
    """
    a, b, radius = body_capsules(joints)
    first, second = torch.as_tensor(SELF_PAIRS[:, 0]), torch.as_tensor(SELF_PAIRS[:, 1])
    points = capsule_points(joints, samples)[..., first, :, :]  # [..., P, S, 3]
    gaps = line_distance(points, a[..., second, None, :], b[..., second, None, :]).amin(dim=-1)
    return gaps - radius[first] - radius[second]


def self_penetration_margin(joints: Tensor, samples: int = 5, temperature: float = 0.0) -> Tensor:
    """Margin of "the body does not pass through itself": least :func:`self_distance`, metres.

    joints: [..., 22, 3] -> [...].
    """
    return smooth_min(self_distance(joints, samples), dim=-1, temperature=temperature)
