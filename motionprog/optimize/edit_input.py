"""The input motion of an edit in the prior's terms: its features, where it stands in the
world, and the checks that refuse a motion the edit cannot use.

The bundled prior's 67 features hold no world placement (the first frame's pelvis at XZ = 0
facing +Z, on the floor: ``body.features.canonicalize``). An edit keeps the input where it
was, so the placement taken away on the way in (:class:`Placement`) is put back on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from motionprog.body.features import RIC_DIM, features_to_joints, initial_placement, joints_to_features
from motionprog.body.rotations import rotate_yaw
from motionprog.body.skeleton import FPS
from motionprog.errors import InputError
from motionprog.motion import Motion, retime

MIN_EDIT_FRAMES = FPS
"""Shortest input an edit accepts (1 s): the prior and the velocities need some context."""


@dataclass(frozen=True)
class Placement:
    """Where a motion stands: yaw [1] (rad, from +Z), xz [1, 2] (m) of its first pelvis, and the
    height of its lowest joint, floor [1] (m)."""

    yaw: Tensor
    xz: Tensor
    floor: Tensor

    @classmethod
    def of(cls, joints: Tensor) -> Placement:
        return cls(*initial_placement(joints))

    def world(self, canonical: Tensor) -> Tensor:
        """Canonical joints [B, T, 22, 3] -> the same motion placed where the input stood."""
        shift = torch.stack([self.xz[..., 0], self.floor, self.xz[..., 1]], dim=-1).to(canonical)
        return rotate_yaw(canonical, self.yaw.to(canonical)[:, None, None]) + shift[:, None, None, :]


def edit_input(motion: Motion) -> Motion:
    """The input at 20 fps, or InputError when it is too short (a Motion never holds NaN joints)."""
    motion = retime(motion, FPS) if motion.fps != FPS else motion
    source = motion.metadata.get("source", "the input motion")
    if motion.num_frames < MIN_EDIT_FRAMES:
        raise InputError(f"{source}: the motion has {motion.num_frames} frames ({motion.duration:.2f} s); "
                         f"an edit needs at least {MIN_EDIT_FRAMES} ({MIN_EDIT_FRAMES / FPS:g} s)")
    return motion


def input_features(joints: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Joints [1, T, 22, 3] -> the prior's normalised features [1, T, 67] (placement dropped)."""
    return (joints_to_features(joints)[..., :RIC_DIM] - mean.to(joints)) / std.to(joints)


def feature_joints(features: Tensor, mean: Tensor, std: Tensor, placement: Placement) -> Tensor:
    """Normalised features [B, T, 67] -> joints [B, T, 22, 3] placed where the input stood."""
    return placement.world(features_to_joints(features * std.to(features) + mean.to(features)))
