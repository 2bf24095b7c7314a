"""Foot-contact cleanup: planted feet stay where they were put down.

A network's feet slide while on the floor (foot skating). :func:`clean_feet` runs once on a
finished motion, as four steps:

1. :func:`foot_contacts`: a foot is planted in a frame when its ball (``left_foot`` /
   ``right_foot``, the joints the skating metric tests) is lower than ``CONTACT_HEIGHT`` and
   moves slower than ``CONTACT_SPEED`` horizontally;
2. each run of planted frames gets one horizontal position, the ball's mean over the run; the
   correction (pin minus position) runs smoothly from one run to the next when they are close,
   and to zero and back over ``BLEND_FRAMES`` frames otherwise (:func:`pin_offsets`);
3. the whole foot (ankle and ball) shifts horizontally by the ball's correction, and
   :func:`within_reach` keeps a nearly straight leg from being asked for a sharp knee turn;
4. :func:`two_bone_ik` bends hip -> knee -> ankle to reach the shifted ankle, the knee bending
   the way it did, so thigh, shank and foot keep their lengths and the pelvis does not move: a
   pose of the rig stays a pose of the rig.

Not one frame sees a jump: the correction and its rate of change are continuous, so cleanup
does not trade skating for acceleration spikes (the optimizer keeps cleaned feet only when no
naturalness metric, maximum acceleration included, gets worse).

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
BLEND_FRAMES = 5
"""Frames over which a foot eases into and out of its pinned position."""
KNEE_TURN = 0.05
"""Scale (radians) of the ease on a knee's turn. A correction may turn a knee freely by the
square of its bend (pi minus its angle, in radians): a crouching knee turns as asked. Beyond
that the extra turn is eased to at most about ``KNEE_TURN``. Near full extension the knee swings far for a small step of the ankle, so a
straight stance leg keeps nearly its length, and its ankle stops short of the goal (by up to
a few centimetres) rather than the knee popping forward."""
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


def contact_runs(contact: Tensor) -> list[tuple[int, int]]:
    """The runs of consecutive planted frames of one foot's contacts ``[T]``, as (start, end)."""
    flags = contact.tolist() + [False]
    starts = [t for t, flag in enumerate(flags) if flag and (t == 0 or not flags[t - 1])]
    return [(start, flags.index(False, start)) for start in starts]


def _hermite(fraction: Tensor, start: Tensor, start_slope: Tensor, end: Tensor, end_slope: Tensor) -> Tensor:
    """Cubic Hermite curve ``[N, 2]`` at ``fraction [N]`` from ``start`` to ``end`` with the given
    slopes (per unit of fraction): values and velocities both continuous where it joins."""
    u = fraction[:, None]
    return ((2 * u**3 - 3 * u**2 + 1) * start + (u**3 - 2 * u**2 + u) * start_slope
            + (3 * u**2 - 2 * u**3) * end + (u**3 - u**2) * end_slope)


def _ends(offset: Tensor, start: int, end: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """A run's first and last correction and their slopes per frame (zero for a one-frame run)."""
    if end - start < 2:
        return offset[start], torch.zeros_like(offset[start]), offset[end - 1], torch.zeros_like(offset[start])
    return offset[start], offset[start + 1] - offset[start], offset[end - 1], offset[end - 1] - offset[end - 2]


def pin_offsets(contact: Tensor, position: Tensor, blend: int = BLEND_FRAMES) -> Tensor:
    """The horizontal correction ``[T, 2]`` that pins one foot, from its contacts ``[T]`` and
    positions ``[T, 2]``.

    Each run of contacts pins to its mean position: the correction is the pin minus the
    position. Between two runs at most ``2 * blend`` frames apart the correction runs from the
    one run's to the next's; otherwise (and before the first run, after the last) it runs to
    zero and back over ``blend`` frames either side. Each stretch is a cubic Hermite curve that
    meets the runs with their own slope, so the foot's position and velocity stay continuous:
    no neighbouring pins jump, no foot stops or starts in one frame.
    """
    frames = contact.shape[0]
    offset = torch.zeros_like(position)
    runs = contact_runs(contact)
    for start, end in runs:
        offset[start:end] = position[start:end].mean(0) - position[start:end]
    zero = torch.zeros_like(position[0])
    stretches = []  # (first frame, end frame, value and slope before, value and slope after)
    for (start, end), after in zip(runs, runs[1:] + [None]):
        _, _, last, last_slope = _ends(offset, start, end)
        if after is not None and after[0] - end <= 2 * blend:
            first, first_slope, _, _ = _ends(offset, *after)
            stretches.append((end - 1, after[0], last, last_slope, first, first_slope))
            continue
        stretches.append((end - 1, end + blend, last, last_slope, zero, zero))  # may run past the end
        if after is not None:
            first, first_slope, _, _ = _ends(offset, *after)
            stretches.append((after[0] - blend - 1, after[0], zero, zero, first, first_slope))
    if runs and runs[0][0] > 0:
        first, first_slope, _, _ = _ends(offset, *runs[0])
        stretches.append((runs[0][0] - blend - 1, runs[0][0], zero, zero, first, first_slope))
    for before, after, start_value, start_slope, end_value, end_slope in stretches:
        span = after - before
        inside = torch.arange(max(before + 1, 0), min(after, frames), device=position.device)
        fraction = (inside - before).to(position.dtype) / span
        offset[inside] = _hermite(fraction, start_value, start_slope * span, end_value, end_slope * span)
    return offset


def two_bone_ik(hip: Tensor, knee: Tensor, ankle: Tensor, goal: Tensor, toe: Tensor) -> tuple[Tensor, Tensor]:
    """Knee and ankle ``[..., 3]`` of the leg hip-knee-ankle (lengths kept) bent to reach ``goal``.

    The knee bends towards the side it stood out from the original hip -> ankle line, plus a
    millimetre towards the ``toe`` (the ball of the foot) so that a straight leg bends forward
    (that direction made perpendicular to hip -> goal). Measured against the original line, not
    the new one, a nearly straight leg cannot flip its knee backwards when the ankle moves a
    little. A goal out of reach (or too near the hip) is approached along the hip -> goal line.
    """
    thigh = torch.linalg.vector_norm(knee - hip, dim=-1, keepdim=True)
    shank = torch.linalg.vector_norm(ankle - knee, dim=-1, keepdim=True)
    reach = goal - hip
    axis = safe_normalize(reach)
    distance = torch.linalg.vector_norm(reach, dim=-1, keepdim=True)
    distance = torch.minimum(torch.maximum(distance, (thigh - shank).abs() + 1e-6), thigh + shank - 1e-6)
    along = (thigh**2 - shank**2 + distance**2) / (2 * distance)
    leg = safe_normalize(ankle - hip)
    bend = knee - hip
    bend = bend - (bend * leg).sum(-1, keepdim=True) * leg + 1e-3 * safe_normalize(toe - ankle)
    pole = safe_normalize(bend - (bend * axis).sum(-1, keepdim=True) * axis)
    new_knee = hip + along * axis + torch.sqrt((thigh**2 - along**2).clamp_min(0.0)) * pole
    return new_knee, hip + distance * axis


def _knee_angle(thigh: Tensor, shank: Tensor, reach: Tensor) -> Tensor:
    """Interior knee angle (pi: straight) of a leg whose hip and ankle are ``reach`` apart."""
    cosine = (thigh**2 + shank**2 - reach**2) / (2 * thigh * shank)
    return torch.arccos(cosine.clamp(-1.0, 1.0))


def within_reach(hip: Tensor, knee: Tensor, ankle: Tensor, goal: Tensor) -> Tensor:
    """``goal [..., 3]`` for the ankle, moved along the hip -> goal line so that the knee turns
    by at most the square of its bend plus about ``KNEE_TURN`` (eased, continuous in slope; see
    there); goals out of reach come within it."""
    thigh = torch.linalg.vector_norm(knee - hip, dim=-1)
    shank = torch.linalg.vector_norm(ankle - knee, dim=-1)
    before = _knee_angle(thigh, shank, torch.linalg.vector_norm(ankle - hip, dim=-1))
    wanted = _knee_angle(thigh, shank, torch.linalg.vector_norm(goal - hip, dim=-1))
    free = (torch.pi - before) ** 2
    excess = ((wanted - before).abs() - free).clamp_min(0.0)
    turn = torch.sign(wanted - before) * (torch.minimum((wanted - before).abs(), free)
                                          + KNEE_TURN * torch.tanh(excess / KNEE_TURN))
    angle = before + turn
    reach = torch.sqrt((thigh**2 + shank**2 - 2 * thigh * shank * torch.cos(angle)).clamp_min(0.0))
    return hip + safe_normalize(goal - hip) * reach[..., None]


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
            offset = pin_offsets(contact[:, side], motion[:, ball, [0, 2]])
            moved = (offset != 0).any(-1)  # frames away from any contact keep their legs exactly
            shift = torch.zeros_like(motion[moved, ball])
            shift[:, [0, 2]] = offset[moved]
            foot = motion[moved, ball] - motion[moved, ankle]
            goal = within_reach(motion[moved, hip], motion[moved, knee], motion[moved, ankle], motion[moved, ankle] + shift)
            new_knee, new_ankle = two_bone_ik(motion[moved, hip], motion[moved, knee], motion[moved, ankle], goal,
                                              motion[moved, ball])
            motion[moved, knee], motion[moved, ankle], motion[moved, ball] = new_knee, new_ankle, new_ankle + foot
    return flat.reshape(joints.shape)
