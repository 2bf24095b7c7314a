"""Naturalness metrics of generated motion, reported for every result.

Joints ``[B, T, 22, 3]`` (or one motion ``[T, 22, 3]``), metres, Y up, 20 fps
(:mod:`motionprog.body.skeleton`). Each metric returns one value per seed; smaller is better.

- ``foot_skating_ratio``: the definition ProgMoGen reports, inherited from Guided Motion
  Diffusion's evaluation code. Foot joints: ``left_foot`` (10) and ``right_foot`` (11), the
  balls of the feet. Between consecutive frames t and t+1, a foot skates when its height is
  below 5 cm in both frames, its horizontal (XZ) speed ``|p[t+1] - p[t]|_xz * fps`` exceeds
  0.5 m/s, and so does that speed averaged over a centred 5-frame window (zero-padded at the
  ends, as ``scipy.ndimage.uniform_filter1d(mode="constant")``). The ratio is the fraction of
  the T-1 frame pairs in which either foot skates. Heights are absolute (y = 0 is the floor).
- ``max_acceleration``: the largest joint acceleration magnitude, m/s^2 (three-point stencil).
- ``floor_penetration``: the deepest any joint goes below y = 0, metres (0 when none does).
- ``bone_length_drift``: the largest relative deviation of a bone's length from its mean
  over the motion, ``max_t,bone |L - mean_t L| / mean_t L`` (0 for a rigid skeleton).
"""

from __future__ import annotations

import torch
from torch import Tensor

from motionprog.body.quantities import acceleration
from motionprog.body.skeleton import FPS, PARENTS
from motionprog.numerics import safe_norm

SKATING_FEET = (10, 11)
"""left_foot, right_foot: the joints ProgMoGen / GMD test for skating."""
SKATING_HEIGHT = 0.05
"""A foot lower than this (metres) in two consecutive frames is in contact."""
SKATING_SPEED = 0.5
"""A foot in contact that moves faster than this horizontally (m/s) skates."""
SKATING_WINDOW = 5
"""Frames of the centred moving average the speed must also exceed."""

METRIC_NAMES = ("foot_skating_ratio", "max_acceleration", "floor_penetration", "bone_length_drift")


def _batched(joints: Tensor) -> Tensor:
    if joints.dim() == 3:
        joints = joints.unsqueeze(0)
    if joints.dim() != 4 or joints.shape[-2:] != (len(PARENTS), 3):
        raise ValueError(f"joints must have shape [B, T, 22, 3] or [T, 22, 3], got {list(joints.shape)}")
    return joints


def foot_skating_ratio(joints: Tensor, fps: float = FPS) -> Tensor:
    """Fraction of frame pairs in which a foot skates (see the module docstring).

    joints: [B, T, 22, 3] metres (T >= 2) -> [B] in [0, 1].
    """
    joints = _batched(joints)
    feet = joints[:, :, list(SKATING_FEET), :].transpose(1, 2)  # [B, 2, T, 3]
    step = feet[:, :, 1:, :] - feet[:, :, :-1, :]
    speed = safe_norm(step[..., [0, 2]]) * fps  # [B, 2, T-1]
    kernel = torch.full((1, 1, SKATING_WINDOW), 1.0 / SKATING_WINDOW, dtype=speed.dtype, device=speed.device)
    averaged = torch.nn.functional.conv1d(
        speed.reshape(-1, 1, speed.shape[-1]), kernel, padding=SKATING_WINDOW // 2
    ).reshape(speed.shape)
    low = feet[..., 1] < SKATING_HEIGHT
    contact = low[:, :, 1:] & low[:, :, :-1]
    skating = contact & (speed > SKATING_SPEED) & (averaged > SKATING_SPEED)
    return skating.any(dim=1).to(joints.dtype).mean(dim=-1)


def max_acceleration(joints: Tensor, fps: float = FPS) -> Tensor:
    """Largest acceleration magnitude of any joint at any frame. [B, T, 22, 3] -> [B] m/s^2."""
    joints = _batched(joints)
    return safe_norm(acceleration(joints, fps=fps)).flatten(1).amax(dim=1)


def floor_penetration(joints: Tensor) -> Tensor:
    """Depth of the lowest joint below the floor y = 0. [B, T, 22, 3] -> [B] metres (>= 0)."""
    joints = _batched(joints)
    return (-joints[..., 1].flatten(1).amin(dim=1)).clamp(min=0.0)


def bone_length_drift(joints: Tensor) -> Tensor:
    """Largest relative deviation of a bone length from its mean over time. [B, T, 22, 3] -> [B]."""
    joints = _batched(joints)
    children = [j for j, parent in enumerate(PARENTS) if parent >= 0]
    parents = [PARENTS[j] for j in children]
    lengths = safe_norm(joints[:, :, children, :] - joints[:, :, parents, :])  # [B, T, 21]
    mean = lengths.mean(dim=1, keepdim=True)
    relative = (lengths - mean).abs() / mean.clamp(min=1e-9)
    return relative.flatten(1).amax(dim=1)


def naturalness(joints: Tensor, fps: float = FPS) -> dict[str, Tensor]:
    """All four metrics per seed: {name: [B]} for joints [B, T, 22, 3] or [T, 22, 3]."""
    return {
        "foot_skating_ratio": foot_skating_ratio(joints, fps),
        "max_acceleration": max_acceleration(joints, fps),
        "floor_penetration": floor_penetration(joints),
        "bone_length_drift": bone_length_drift(joints),
    }


def per_seed(joints: Tensor, fps: float = FPS) -> list[dict[str, float]]:
    """The metrics as one plain dict of floats per seed (JSON-ready), in seed order."""
    values = {name: tensor.detach().cpu().tolist() for name, tensor in naturalness(joints, fps).items()}
    return [{name: values[name][seed] for name in METRIC_NAMES} for seed in range(len(values[METRIC_NAMES[0]]))]


def summary(joints: Tensor, fps: float = FPS) -> dict[str, float]:
    """Each metric averaged over seeds (a single motion gives its own values), as floats."""
    return {name: float(tensor.detach().mean()) for name, tensor in naturalness(joints, fps).items()}
