"""Rigid placement of a motion on the ground: a yaw about +Y through the origin, then an XZ shift.

Relaxed goals solve a motion in a free frame and place it afterwards; encoding to HumanML3D
features drops the placement (:func:`motionprog.body.features.initial_placement`) and this
puts it back.
"""

from __future__ import annotations

import torch
from torch import Tensor

from motionprog.body.rotations import rotate_yaw


def place(joints: Tensor, yaw: Tensor, xz: Tensor) -> Tensor:
    """Rotate each motion by its yaw about +Y (through the origin), then move it in XZ.

    joints: ``[B, T, 22, 3]`` metres, Y up (any leading dims before ``T`` work the same);
    yaw:    ``[B]`` radians, positive turns +Z towards +X;
    xz:     ``[B, 2]`` metres, added to X and Z.
    Returns ``[B, T, 22, 3]``; differentiable in all three.
    """
    turned = rotate_yaw(joints, yaw[..., None, None])
    shift = torch.stack([xz[..., 0], torch.zeros_like(xz[..., 0]), xz[..., 1]], dim=-1)
    return turned + shift[..., None, None, :]
