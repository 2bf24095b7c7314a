"""Rigid placement of a motion on the ground: a yaw about a vertical axis, then an XZ shift.

Relaxed goals solve a motion in a free frame and place it afterwards; encoding to HumanML3D
features drops the placement (:func:`motionprog.body.features.initial_placement`) and this
puts it back.
"""

from __future__ import annotations

import torch
from torch import Tensor

from motionprog.body.rotations import rotate_yaw


def place(joints: Tensor, yaw: Tensor, xz: Tensor, pivot: Tensor | tuple[float, float] = (0.0, 0.0)) -> Tensor:
    """Rotate each motion by its yaw about the vertical line through ``pivot``, then move it in XZ.

    joints: ``[B, T, 22, 3]`` metres, Y up (any leading dims before ``T`` work the same);
    yaw:    ``[B]`` radians, positive turns +Z towards +X;
    xz:     ``[B, 2]`` metres, added to X and Z;
    pivot:  ``(x, z)`` metres, or a tensor ``[2]`` / ``[B, 2]``: the point on the ground the turn
            keeps fixed (the origin by default; ``relax yaw about (x, z)`` names another).
    Returns ``[B, T, 22, 3]``; differentiable in yaw, xz and pivot.
    """
    centre = torch.as_tensor(pivot, dtype=joints.dtype, device=joints.device).expand_as(xz)
    centre = _ground(centre)[..., None, None, :]
    turned = rotate_yaw(joints - centre, yaw[..., None, None]) + centre
    return turned + _ground(xz)[..., None, None, :]


def _ground(xz: Tensor) -> Tensor:
    """``[..., 2]`` (x, z) -> ``[..., 3]`` (x, 0, z)."""
    return torch.stack([xz[..., 0], torch.zeros_like(xz[..., 0]), xz[..., 1]], dim=-1)
