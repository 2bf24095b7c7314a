"""Foot-contact cleanup: planted feet stay where they were put down.

A network's feet slide while on the floor (foot skating). :func:`clean_feet` runs once on a
finished motion, as four steps:

1. :func:`foot_contacts`: a foot is planted in a frame when its ball (``left_foot`` /
   ``right_foot``, the joints the skating metric tests) is lower than ``CONTACT_HEIGHT`` and
   moves slower than ``CONTACT_SPEED`` horizontally;
2. each run of planted frames gets one horizontal position, the ball's mean over the run, and
   the ``BLEND_FRAMES`` frames either side ease towards it and back (:func:`pin_targets`);
3. the whole foot (ankle and ball) shifts horizontally by the ball's correction;
4. :func:`two_bone_ik` bends hip -> knee -> ankle to reach the shifted ankle, the knee in the
   plane of the original leg, so thigh, shank and foot keep their lengths and the pelvis does
   not move: a pose of the rig stays a pose of the rig.

Joints ``[..., T, 22, 3]``, metres, Y up, y = 0 the floor.
"""

from __future__ import annotations

import torch
from torch import Tensor

from motionprog.body.skeleton import FPS, JOINT_INDEX
from motionprog.numerics import safe_normalize

CONTACT_HEIGHT = 0.05
"""A foot's ball lower than this (metres) may be planted (the skating metric's contact height)."""
CONTACT_SPEED = 1.0
"""...and is planted when it moves slower than this horizontally (m/s): twice the speed above
which the skating metric counts a low foot as skating, so slides are caught and steps are not."""
BLEND_FRAMES = 3
"""Frames over which a foot eases into and out of its pinned position."""
LEGS = tuple(tuple(JOINT_INDEX[f"{side}_{j}"] for j in ("hip", "knee", "ankle", "foot")) for side in ("left", "right"))
"""(hip, knee, ankle, ball of the foot) of each leg."""


def foot_contacts(joints: Tensor, fps: float = FPS) -> Tensor:
    """Planted feet ``[..., T, 2]`` (bool; left, right) of joints ``[..., T, 22, 3]``.

    A ball's speed at frame t is the mean of its horizontal steps into and out of t (one step at
    the ends), times ``fps``.
    """
    balls = joints[..., [leg[3] for leg in LEGS], :]  # [..., T, 2, 3]
    step = torch.linalg.vector_norm((balls[..., 1:, :, :] - balls[..., :-1, :, :])[..., [0, 2]], dim=-1) * fps
    speed = torch.cat([step[..., :1, :], 0.5 * (step[..., 1:, :] + step[..., :-1, :]), step[..., -1:, :]], dim=-2)
    return (balls[..., 1] < CONTACT_HEIGHT) & (speed < CONTACT_SPEED)


def pin_targets(contact: Tensor, position: Tensor, blend: int = BLEND_FRAMES) -> tuple[Tensor, Tensor]:
    """Where one foot should be and how firmly, from its contacts ``[T]`` and positions ``[T, 2]``.

    Each run of contacts pins to its mean position with weight 1; the ``blend`` frames either
    side take that pin with weight falling linearly to 0 (the nearer run wins where two meet).
    Returns (weight ``[T]`` in [0, 1], target ``[T, 2]``; the position itself where weight is 0).
    """
    frames = contact.shape[0]
    weight = torch.zeros(frames, dtype=position.dtype, device=position.device)
    target = position.clone()
    flags = contact.tolist()
    start = 0
    while start < frames:
        if not flags[start]:
            start += 1
            continue
        end = start
        while end < frames and flags[end]:
            end += 1
        pin = position[start:end].mean(0)
        for t in range(max(0, start - blend), min(frames, end + blend)):
            distance = max(start - t, t - end + 1, 0)
            w = 1.0 - distance / (blend + 1)
            if w > weight[t]:
                weight[t], target[t] = w, pin
        start = end
    return weight, target


def two_bone_ik(hip: Tensor, knee: Tensor, ankle: Tensor, goal: Tensor) -> tuple[Tensor, Tensor]:
    """Knee and ankle ``[..., 3]`` of the leg hip-knee-ankle (lengths kept) bent to reach ``goal``.

    The knee stays in the plane of hip, goal and the original knee (on the original knee's
    side); a goal out of reach (or too near the hip) is approached along the hip -> goal line.
    """
    thigh = torch.linalg.vector_norm(knee - hip, dim=-1, keepdim=True)
    shank = torch.linalg.vector_norm(ankle - knee, dim=-1, keepdim=True)
    reach = goal - hip
    axis = safe_normalize(reach)
    distance = torch.linalg.vector_norm(reach, dim=-1, keepdim=True)
    distance = torch.minimum(torch.maximum(distance, (thigh - shank).abs() + 1e-6), thigh + shank - 1e-6)
    along = (thigh**2 - shank**2 + distance**2) / (2 * distance)
    bend = knee - hip
    pole = safe_normalize(bend - (bend * axis).sum(-1, keepdim=True) * axis)
    new_knee = hip + along * axis + torch.sqrt((thigh**2 - along**2).clamp_min(0.0)) * pole
    return new_knee, hip + distance * axis


def clean_feet(joints: Tensor, fps: float = FPS) -> Tensor:
    """``joints [..., T, 22, 3]`` with planted feet pinned (see the module docstring).

    Only knees, ankles and balls of planted (and blending) feet move; bone lengths, the pelvis
    and the upper body are unchanged. Not differentiable through the contact detection; run it
    once on a finished motion.
    """
    flat = joints.reshape(-1, *joints.shape[-3:]).clone()
    contacts = foot_contacts(flat, fps)
    for motion, contact in zip(flat, contacts):
        for side, (hip, knee, ankle, ball) in enumerate(LEGS):
            weight, target = pin_targets(contact[:, side], motion[:, ball, [0, 2]])
            moved = weight > 0  # frames away from any contact keep their legs exactly
            shift = torch.zeros_like(motion[moved, ball])
            shift[:, [0, 2]] = weight[moved, None] * (target[moved] - motion[moved, ball][:, [0, 2]])
            foot = motion[moved, ball] - motion[moved, ankle]
            new_knee, new_ankle = two_bone_ik(motion[moved, hip], motion[moved, knee], motion[moved, ankle],
                                              motion[moved, ankle] + shift)
            motion[moved, knee], motion[moved, ankle], motion[moved, ball] = new_knee, new_ankle, new_ankle + foot
    return flat.reshape(joints.shape)
