"""Forward and inverse kinematics on the 22-joint skeleton, HumanML3D's bone convention.

Rotations are unit quaternions ``[..., 4]`` (w first, see :mod:`motionprog.body.rotations`).
Positions are metres, Y up; the rest pose (``skeleton.REST_OFFSETS``) is a T-pose facing +Z.

The convention is HumanML3D's (its ``Skeleton.forward_kinematics``): the rotation stored
at joint ``j > 0`` turns the *bone that ends at j* (from its parent to j), so a joint with
several children (pelvis, spine3) gives each child bone its own rotation and inverse
kinematics is exact for every bone direction. Each kinematic chain starts from the root
rotation (index 0): the bones that leave the pelvis *and* the collar bones that leave spine3
are relative to the root, every other bone to the bone before it in its chain.

    global[0] = local[0]                      (the root's heading)
    global[j] = global[rotation_parent[j]] * local[j]
    joint[j]  = joint[parent[j]] + rotate(global[j], offset[j])

Exporters that need one rotation per joint (BVH, glTF) read ``global[j]`` as the rotation
of the bone parent(j) -> j.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from motionprog.body import skeleton
from motionprog.body.quantities import heading
from motionprog.body.rotations import (
    matrix_to_quat, quat_between, quat_identity_like, quat_inverse, quat_multiply, quat_rotate, yaw_quat,
)
from motionprog.numerics import safe_normalize


def _rotation_parents() -> tuple[int, ...]:
    parents = [0] * skeleton.NUM_JOINTS
    for chain in skeleton.CHAINS:
        for previous, joint in zip(chain[1:-1], chain[2:]):
            parents[joint] = previous
    return tuple(parents)


ROTATION_PARENTS: tuple[int, ...] = _rotation_parents()
"""For each joint, the joint whose global rotation its local rotation is relative to
(0 for the first bone of each chain, as in HumanML3D)."""


def _depths(parents: tuple[int, ...]) -> tuple[int, ...]:
    depths = [0] * len(parents)
    for joint in range(1, len(parents)):
        depths[joint] = depths[parents[joint]] + 1
    return tuple(depths)


_ROTATION_DEPTH = _depths(ROTATION_PARENTS)
_LEVELS: tuple[tuple[int, ...], ...] = tuple(
    tuple(j for j in range(1, skeleton.NUM_JOINTS) if _ROTATION_DEPTH[j] == depth)
    for depth in range(1, max(_ROTATION_DEPTH) + 1)
)
"""Joints grouped by depth in the rotation tree, so composition loops over 4 levels."""


def _ancestor_matrix() -> np.ndarray:
    """``A[j, k] = 1`` when the bone ending at k lies on the path from the root to joint j."""
    matrix = np.zeros((skeleton.NUM_JOINTS, skeleton.NUM_JOINTS), dtype=np.float64)
    for joint in range(1, skeleton.NUM_JOINTS):
        k = joint
        while k > 0:
            matrix[joint, k] = 1.0
            k = skeleton.PARENTS[k]
    return matrix


_ANCESTORS = _ancestor_matrix()


def bone_rotations(joints: Tensor) -> Tensor:
    """Shortest-arc rotation of each bone from its rest direction to its direction in ``joints``.

    joints: ``[..., 22, 3]`` metres. Returns ``[..., 22, 4]``; index 0 (no bone) is identity.
    A zero-length bone gets the identity.
    """
    rest = torch.as_tensor(skeleton.RAW_OFFSETS[1:], dtype=joints.dtype, device=joints.device)
    bones = joints[..., 1:, :] - joints[..., list(skeleton.PARENTS[1:]), :]
    rotations = quat_between(rest, safe_normalize(bones))
    return torch.cat([quat_identity_like(rotations[..., :1, :]), rotations], dim=-2)


def local_from_global(global_quats: Tensor) -> Tensor:
    """Local rotations ``[..., 22, 4]`` from global bone rotations ``[..., 22, 4]``.

    ``local[j] = inverse(global[rotation_parent[j]]) * global[j]``; ``local[0] = global[0]``.
    """
    parents = global_quats[..., list(ROTATION_PARENTS[1:]), :]
    local = quat_multiply(quat_inverse(parents), global_quats[..., 1:, :])
    return torch.cat([global_quats[..., :1, :], local], dim=-2)


def global_from_local(local_quats: Tensor) -> Tensor:
    """Global bone rotations ``[..., 22, 4]`` from local rotations ``[..., 22, 4]``.

    Composes one level of the rotation tree at a time (4 levels), all joints of a level at once.
    """
    global_quats = local_quats
    for level in _LEVELS:
        index = torch.tensor(level, device=local_quats.device)
        parents = global_quats[..., [ROTATION_PARENTS[j] for j in level], :]
        composed = quat_multiply(parents, local_quats[..., level, :])
        global_quats = global_quats.index_copy(-2, index, composed)
    return global_quats


def forward_kinematics(local_quats: Tensor, root_pos: Tensor, offsets: Tensor | None = None) -> Tensor:
    """Joint positions from local rotations.

    local_quats: ``[..., 22, 4]`` (HumanML3D bone convention, see the module docstring).
    root_pos:    ``[..., 3]`` pelvis position, metres.
    offsets:     ``[..., 22, 3]`` or ``[22, 3]`` rest offsets (default ``skeleton.REST_OFFSETS``).
    Returns joints ``[..., 22, 3]``, metres, Y up.
    """
    if offsets is None:
        offsets = torch.as_tensor(skeleton.REST_OFFSETS, dtype=local_quats.dtype, device=local_quats.device)
    bones = quat_rotate(global_from_local(local_quats), offsets)
    ancestors = torch.as_tensor(_ANCESTORS, dtype=bones.dtype, device=bones.device)
    return root_pos[..., None, :] + torch.einsum("jk,...kc->...jc", ancestors, bones)


def inverse_kinematics(joints: Tensor) -> tuple[Tensor, Tensor]:
    """Local rotations and root positions that reproduce ``joints`` on the rest skeleton.

    joints: ``[..., 22, 3]`` metres (any leading dims, e.g. ``[B, T]``).
    Returns ``(local_quats [..., 22, 4], root_pos [..., 3])``. The root rotation is the yaw
    that turns +Z to the pose's facing direction (:func:`motionprog.body.quantities.heading`;
    the identity when the pose has none); each bone gets
    the shortest-arc rotation from its rest direction. ``forward_kinematics(*inverse_kinematics(j))``
    reproduces every bone direction of ``j`` exactly, and ``j`` itself when its bone lengths
    are ``skeleton.BONE_LENGTHS``.
    """
    root = yaw_quat(heading(joints))
    global_quats = torch.cat([root[..., None, :], bone_rotations(joints)[..., 1:, :]], dim=-2)
    return local_from_global(global_quats), joints[..., 0, :]


def rigid_frame(joints: Tensor, group: tuple[int, int, int, int]) -> Tensor:
    """Orientation of a joint with several children, from where its children are.

    joints: ``[..., 22, 3]``; group: (origin, left child, right child, upper child) as in
    ``skeleton.RIGID_GROUPS``. Returns rotation matrices ``[..., 3, 3]`` whose columns are the
    body's left (right child -> left child), up (origin -> upper child, made orthogonal to
    left) and forward (left x up). Coincident children give a degenerate (singular) frame with
    finite gradients.
    """
    origin, left, right, upper = group
    x = safe_normalize(joints[..., left, :] - joints[..., right, :])
    y = joints[..., upper, :] - joints[..., origin, :]
    y = safe_normalize(y - (y * x).sum(-1, keepdim=True) * x)
    return torch.stack([x, y, torch.linalg.cross(x, y, dim=-1)], dim=-1)


_RIGID_CHILDREN = tuple(child for group in skeleton.RIGID_GROUPS for child in group[1:])
_CHAIN_BONES = [j for j in range(1, skeleton.NUM_JOINTS) if j not in _RIGID_CHILDREN]


def project_to_skeleton(joints: Tensor) -> Tensor:
    """The nearest pose of the rig (``skeleton.RIG_OFFSETS``) with the same root.

    joints: ``[..., 22, 3]`` metres, Y up, any bone lengths and any pelvis or chest shape
    (e.g. a network's output). Pelvis and spine3 are rigid bodies: their children (hips and
    spine1; collars and neck) sit at their rig offsets in the :func:`rigid_frame` of the input's
    children. Every other bone keeps its direction and gets its rig length. The pelvis stays
    where it was. The result is exactly ``rig_joints(rig_rotations(result), result[..., 0, :])``.
    Returns ``[..., 22, 3]``; differentiable, finite gradients for zero-length bones.
    """
    offsets = torch.as_tensor(skeleton.RIG_OFFSETS, dtype=joints.dtype, device=joints.device)
    lengths = torch.as_tensor(skeleton.BONE_LENGTHS[_CHAIN_BONES], dtype=joints.dtype, device=joints.device)
    parents = [skeleton.PARENTS[j] for j in _CHAIN_BONES]
    bones = torch.zeros_like(joints)
    directions = safe_normalize(joints[..., _CHAIN_BONES, :] - joints[..., parents, :])
    bones[..., _CHAIN_BONES, :] = lengths[:, None] * directions
    for group in skeleton.RIGID_GROUPS:
        frame = rigid_frame(joints, group)  # [..., 3, 3]
        bones[..., group[1:], :] = torch.einsum("...ab,kb->...ka", frame, offsets[list(group[1:])])
    ancestors = torch.as_tensor(_ANCESTORS, dtype=joints.dtype, device=joints.device)
    return joints[..., :1, :] + torch.einsum("jk,...kc->...jc", ancestors, bones)


def project_keeping_contacts(joints: Tensor) -> Tensor:
    """:func:`project_to_skeleton`, then each frame lifted or lowered so its lowest joint keeps
    the height it had: joints ``[..., T, 22, 3]`` (metres, Y up) -> the same shape.

    A plain projection hangs the legs from the pelvis, so rest-length legs longer than a
    network's would push through the floor; keeping the lowest joint's height keeps the
    contacts with the floor where the network put them. Differentiable.
    """
    rigid = project_to_skeleton(joints)
    lift = joints[..., 1].amin(-1) - rigid[..., 1].amin(-1)  # [..., T] metres
    return rigid + torch.stack([torch.zeros_like(lift), lift, torch.zeros_like(lift)], -1)[..., None, :]


def rig_world_rotations(joints: Tensor) -> Tensor:
    """World rotation of each rig node posed as ``joints [..., 22, 3]``; ``[..., 22, 4]``.

    A rig node turns its children's offsets (as a BVH joint or a glTF node does). Pelvis and
    spine3 take their :func:`rigid_frame`; a node with one child takes the least rotation
    (shortest arc in its parent's frame) that aims its bone at the child, so twist is inherited
    from the parent; a leaf keeps its parent's rotation. A zero-length bone gets no turn.
    """
    rest = torch.as_tensor(skeleton.RIG_DIRECTIONS, dtype=joints.dtype, device=joints.device)
    frames = {group[0]: matrix_to_quat(rigid_frame(joints, group)) for group in skeleton.RIGID_GROUPS}
    world: list[Tensor] = []
    for joint in range(skeleton.NUM_JOINTS):
        child = skeleton.CHAIN_CHILD[joint]
        if joint in frames:
            world.append(frames[joint])
        elif child < 0:
            world.append(world[skeleton.PARENTS[joint]])
        else:
            parent = world[skeleton.PARENTS[joint]]
            bone = quat_rotate(quat_inverse(parent), joints[..., child, :] - joints[..., joint, :])
            swing = quat_between(rest[child].expand_as(bone), bone)
            still = torch.linalg.vector_norm(bone, dim=-1, keepdim=True) < 1e-9
            world.append(quat_multiply(parent, torch.where(still, quat_identity_like(swing), swing)))
    return torch.stack(world, dim=-2)


def rig_rotations(joints: Tensor) -> Tensor:
    """Local rotations ``[..., T, 22, 4]`` of the rig posed as ``joints [..., T, 22, 3]``.

    ``local[0]`` is the pelvis's world rotation, ``local[j] = inverse(world[parent(j)]) *
    world[j]`` (:func:`rig_world_rotations`). Signs are chosen so each joint's quaternion stays
    in one hemisphere from frame to frame, so component-wise interpolation is safe. Together
    with the root position ``joints[..., 0, :]`` they give back the rig pose nearest ``joints``
    (:func:`rig_joints`), and ``joints`` itself when it is a rig pose.
    """
    world = rig_world_rotations(joints)
    parents = world[..., list(skeleton.PARENTS[1:]), :]
    local = torch.cat([world[..., :1, :], quat_multiply(quat_inverse(parents), world[..., 1:, :])], dim=-2)
    flips = (local[..., 1:, :, :] * local[..., :-1, :, :]).sum(-1, keepdim=True) < 0
    sign = 1.0 - 2.0 * (torch.cumsum(flips.to(local.dtype), dim=-3) % 2)
    return torch.cat([local[..., :1, :, :], local[..., 1:, :, :] * sign], dim=-3)


def rig_joints(local_quats: Tensor, root_pos: Tensor) -> Tensor:
    """Forward kinematics of the rig: joints ``[..., 22, 3]`` (metres) from local rotations
    ``[..., 22, 4]`` (:func:`rig_rotations`) and the pelvis position ``[..., 3]``.

    ``world[j] = world[parent(j)] * local[j]`` and ``joint[j] = joint[parent(j)] +
    rotate(world[parent(j)], RIG_OFFSETS[j])``.
    """
    offsets = torch.as_tensor(skeleton.RIG_OFFSETS, dtype=local_quats.dtype, device=local_quats.device)
    world = [local_quats[..., 0, :]]
    positions = [root_pos]
    for joint in range(1, skeleton.NUM_JOINTS):
        parent = skeleton.PARENTS[joint]
        positions.append(positions[parent] + quat_rotate(world[parent], offsets[joint]))
        world.append(quat_multiply(world[parent], local_quats[..., joint, :]))
    return torch.stack(positions, dim=-2)
