"""HumanML3D's 263-dim motion features <-> global joint positions, batched and differentiable.

Per frame (``FEATURE_SLICES``): root angular velocity about Y (the *half* angle per frame,
radians, as the dataset stores it), root XZ velocity in the root's heading frame (metres per
frame), root height, 21x3 root-relative positions with the heading removed, 21x6 local joint
rotations (continuous 6D, :mod:`motionprog.body.kinematics` convention), 22x3 joint
velocities in the heading frame, and 4 foot contacts (left heel, left toe, right heel,
right toe). Joints are ``[..., T, 22, 3]``, metres, Y up, 20 fps.

Decoding (:func:`features_to_joints`) is the dataset's recover-from-ric and uses only the
first 67 dims. Encoding (:func:`joints_to_features`) is the dataset's ``process_file``
without its retargeting step: the motion is put on the floor, moved so the pelvis starts
at the XZ origin and turned to face +Z at its first frame; that placement is dropped from
the features and returned by :func:`initial_placement`, so

    joints == place(features_to_joints(joints_to_features(joints)), *initial_placement(joints))

(``motionprog.body.placement.place``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from motionprog.body import quantities, skeleton
from motionprog.body.kinematics import bone_rotations, local_from_global
from motionprog.body.rotations import (
    quat_between,
    quat_canonical,
    quat_identity_like,
    quat_inverse,
    quat_multiply,
    quat_rotate,
    quat_to_cont6d,
    rotate_yaw,
)
from motionprog.errors import InputError
from motionprog.numerics import safe_normalize

FEATURE_DIM = 263
RIC_DIM = 67
"""Dims a decoder needs: root (4) and root-relative positions (63)."""

FEATURE_SLICES: dict[str, slice] = {
    "root_rot_vel": slice(0, 1),
    "root_lin_vel": slice(1, 3),
    "root_y": slice(3, 4),
    "ric": slice(4, 67),
    "rot6d": slice(67, 193),
    "local_vel": slice(193, 259),
    "contacts": slice(259, 263),
}
"""The feature groups, in order, by name."""

HEADING_SIGMA = 20.0
"""Std of the Gaussian (frames) that smooths the per-frame facing before the heading is taken."""
HEADING_TRUNCATE = 4.0
"""The smoothing kernel reaches ``HEADING_TRUNCATE * HEADING_SIGMA`` frames each way."""
CONTACT_THRESHOLD = 0.002
"""A foot joint is in contact when its squared displacement to the next frame is below this (m^2)."""


def features_to_joints(features: Tensor) -> Tensor:
    """Global joint positions from HumanML3D features (the dataset's recover-from-ric).

    features: ``[..., T, D]`` with ``D >= 67`` (not normalised); only ``[..., :67]`` is read.
    Returns ``[..., T, 22, 3]``, metres, Y up; the first frame's pelvis is at XZ = 0 and its
    heading is +Z. The root's yaw is the running sum of the per-frame angular velocity; its
    XZ position is the running sum of the velocities turned into the world by that yaw.
    """
    if features.shape[-1] < RIC_DIM:
        raise ValueError(f"features need at least {RIC_DIM} dims, got shape {tuple(features.shape)}")
    half_angle_velocity = features[..., :-1, 0]
    zero = torch.zeros_like(features[..., :1, 0])
    # Yaw that turns heading-frame vectors into the world (the inverse of the stored heading).
    yaw = -2.0 * torch.cumsum(torch.cat([zero, half_angle_velocity], dim=-1), dim=-1)
    velocity = features[..., :-1, 1:3]
    velocity = torch.stack([velocity[..., 0], torch.zeros_like(velocity[..., 0]), velocity[..., 1]], dim=-1)
    world_velocity = rotate_yaw(velocity, yaw[..., 1:])
    root_xz = torch.cumsum(torch.cat([torch.zeros_like(world_velocity[..., :1, :]), world_velocity], dim=-2), dim=-2)
    root = torch.stack([root_xz[..., 0], features[..., 3], root_xz[..., 2]], dim=-1)
    ric = features[..., 4:RIC_DIM].unflatten(-1, (skeleton.NUM_JOINTS - 1, 3))
    others = rotate_yaw(ric, yaw[..., None]) + _on_ground(root)[..., None, :]
    return torch.cat([root[..., None, :], others], dim=-2)


def _on_ground(points: Tensor) -> Tensor:
    """``points [..., 3]`` with Y set to 0."""
    return points * torch.tensor([1.0, 0.0, 1.0], dtype=points.dtype, device=points.device)


def initial_placement(joints: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Where a motion starts in the world: what :func:`joints_to_features` takes away.

    joints: ``[..., T, 22, 3]`` metres. Returns ``(yaw [...], xz [..., 2], floor [...])``:
    the first frame's facing as a yaw from +Z (radians), its pelvis XZ position, and the
    lowest joint height over the whole motion (the floor), metres.
    """
    yaw = quantities.heading(joints[..., 0, :, :])
    floor = joints[..., 1].flatten(-2).amin(dim=-1)
    return yaw, joints[..., 0, 0, [0, 2]], floor


def canonicalize(joints: Tensor) -> Tensor:
    """The motion on the floor, pelvis starting at XZ = 0 and facing +Z: ``[..., T, 22, 3]``."""
    yaw, xz, floor = initial_placement(joints)
    shift = torch.stack([xz[..., 0], floor, xz[..., 1]], dim=-1)
    return rotate_yaw(joints - shift[..., None, None, :], -yaw[..., None, None])


def smooth_frames(values: Tensor, sigma: float = HEADING_SIGMA, truncate: float = HEADING_TRUNCATE) -> Tensor:
    """Gaussian smoothing along time of ``values [..., T, C]``, edges repeating the end frames.

    The same kernel as ``scipy.ndimage.gaussian_filter1d(values, sigma, axis=-2, mode="nearest",
    truncate=truncate)``. Returns ``[..., T, C]``.
    """
    radius = int(truncate * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=values.dtype, device=values.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    frames = values.shape[-2]
    index = (torch.arange(frames + 2 * radius, device=values.device) - radius).clamp(0, frames - 1)
    windows = values[..., index, :].unfold(-2, 2 * radius + 1, 1)  # [..., T, C, 2r+1]
    return (windows * kernel).sum(dim=-1)


def dataset_heading(joints: Tensor) -> Tensor:
    """The per-frame root rotation HumanML3D encodes with: ``[..., T, 4]`` (world -> heading frame).

    As in the dataset's inverse kinematics: ``across = (left hip - right hip) + (right shoulder
    - left shoulder)`` (the hip pair in this order, as the dataset unpacks it), facing
    ``+Y x across`` smoothed over time (:func:`smooth_frames`), and the rotation taking that
    facing to +Z; the first frame's rotation is the identity.
    """
    r_hip, l_hip, r_shoulder, l_shoulder = skeleton.FACE_JOINTS
    across = joints[..., l_hip, :] - joints[..., r_hip, :] + joints[..., r_shoulder, :] - joints[..., l_shoulder, :]
    facing = safe_normalize(smooth_frames(quantities.up_cross(safe_normalize(across))))
    z_axis = torch.tensor([0.0, 0.0, 1.0], dtype=joints.dtype, device=joints.device)
    heading = quat_between(facing, z_axis)
    return torch.cat([quat_identity_like(heading[..., :1, :]), heading[..., 1:, :]], dim=-2)


def joints_to_features(joints: Tensor) -> Tensor:
    """HumanML3D features of a motion: ``[..., T, 22, 3]`` (metres, Y up) -> ``[..., T, 263]``.

    The dataset's encoding, applied after :func:`canonicalize` (so the world placement is
    dropped; see :func:`initial_placement`). The dataset yields T-1 frames, each pairing frame
    t with t+1; here frame t < T-1 is exactly that, and the last frame keeps its own pose
    dims (root height, positions, rotations) while its velocity dims (root angular and
    linear velocity, joint velocities, contacts) repeat frame T-2's. A one-frame motion gets
    zero velocities and all contacts on. Contacts are 0/1 (no gradient).
    """
    positions = canonicalize(joints)
    frames = positions.shape[-3]
    current = torch.arange(frames, device=joints.device).clamp(max=frames - 2).clamp(min=0)
    following = (current + 1).clamp(max=frames - 1)
    heading = dataset_heading(positions)  # [..., T, 4]
    root = positions[..., 0, :]

    relative = quat_multiply(heading[..., following, :], quat_inverse(heading[..., current, :]))
    relative = quat_canonical(relative)
    root_rot_vel = torch.atan2(relative[..., 2], relative[..., 0])[..., None]
    root_step = quat_rotate(heading[..., following, :], root[..., following, :] - root[..., current, :])
    root_y = root[..., 1:2]

    ric = quat_rotate(heading[..., None, :], positions[..., 1:, :] - _on_ground(root)[..., None, :])

    global_quats = torch.cat([heading[..., None, :], bone_rotations(positions)[..., 1:, :]], dim=-2)
    rot6d = quat_to_cont6d(local_from_global(global_quats)[..., 1:, :])

    step = positions[..., following, :, :] - positions[..., current, :, :]
    local_vel = quat_rotate(heading[..., current, None, :], step)
    foot_step = step[..., list(skeleton.FOOT_JOINTS), :]
    contacts = ((foot_step**2).sum(dim=-1) < CONTACT_THRESHOLD).to(joints.dtype)

    return torch.cat(
        [
            root_rot_vel,
            root_step[..., [0, 2]],
            root_y,
            ric.flatten(-2),
            rot6d.flatten(-2),
            local_vel.flatten(-2),
            contacts,
        ],
        dim=-1,
    )


@dataclass(frozen=True)
class Normalizer:
    """The dataset's per-dimension statistics: ``normalize(x) = (x - mean) / std``.

    mean, std: ``[263]`` (or ``[D]``), broadcast over leading dims of the features.
    """

    mean: Tensor
    std: Tensor

    def normalize(self, features: Tensor) -> Tensor:
        """Raw features ``[..., D]`` -> normalised ``[..., D]``."""
        return (features - self.mean.to(features)) / self.std.to(features)

    def denormalize(self, normalized: Tensor) -> Tensor:
        """Normalised features ``[..., D]`` -> raw ``[..., D]``."""
        return normalized * self.std.to(normalized) + self.mean.to(normalized)

    @classmethod
    def from_directory(cls, directory: str | os.PathLike) -> Normalizer:
        """Load HumanML3D's ``Mean.npy`` and ``Std.npy`` (float ``[263]``) from ``directory``."""
        arrays = [_load_statistic(Path(directory) / name) for name in ("Mean.npy", "Std.npy")]
        if np.any(arrays[1] <= 0):
            raise InputError(f"{Path(directory) / 'Std.npy'}: standard deviations must be positive")
        return cls(mean=torch.from_numpy(arrays[0]), std=torch.from_numpy(arrays[1]))


def _load_statistic(path: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(f"{path}: no such file (HumanML3D statistics need Mean.npy and Std.npy)")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    if array.shape != (FEATURE_DIM,):
        raise InputError(f"{path}: expected shape [{FEATURE_DIM}], got {list(array.shape)}")
    return array.astype(np.float32)
