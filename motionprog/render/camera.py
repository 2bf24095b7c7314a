"""Where the camera stands: poses that keep one or several motions in view.

Poses are camera-to-world 4x4 matrices in OpenGL's convention (the camera looks down its -Z,
+Y up), metres, Y up. Renderer-agnostic numpy: the offscreen video uses them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import uniform_filter1d

from motionprog.numerics import unit_array


def motion_bounds(joints: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds (lo [3], hi [3], metres) of several [T, 22, 3] joint arrays, floor included."""
    points = np.concatenate([np.asarray(j, dtype=np.float64).reshape(-1, 3) for j in joints])
    lo, hi = points.min(0), points.max(0)
    lo[1] = min(lo[1], 0.0)
    return lo, hi


def look_at(eye: np.ndarray, target: np.ndarray, up: Sequence[float] = (0.0, 1.0, 0.0)) -> np.ndarray:
    """Camera-to-world poses (OpenGL: the camera looks down its -Z). eye, target: [..., 3] -> [..., 4, 4]."""
    eye = np.asarray(eye, dtype=np.float64)
    back = unit_array(eye - np.asarray(target, dtype=np.float64), (0.0, 0.0, 1.0))
    right = unit_array(np.cross(np.asarray(up, dtype=np.float64), back), (1.0, 0.0, 0.0))
    true_up = np.cross(back, right)
    pose = np.zeros(eye.shape[:-1] + (4, 4))
    pose[..., :3, 0], pose[..., :3, 1], pose[..., :3, 2], pose[..., :3, 3] = right, true_up, back, eye
    pose[..., 3, 3] = 1.0
    return pose


def _view_direction(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Unit vector from the subject to the camera: side-on to the longer horizontal extent, raised 20 deg."""
    extent = hi - lo
    side = np.array([0.0, 0.0, 1.0]) if extent[0] >= extent[2] else np.array([1.0, 0.0, 0.0])
    side = unit_array(side + 0.35 * np.array([1.0, 0.0, 1.0]) * (1 - side))
    return unit_array(side * np.cos(np.radians(20)) + np.array([0.0, np.sin(np.radians(20)), 0.0]))


def camera_poses(
    joints: Sequence[np.ndarray], mode: str = "frame", yfov: float = np.pi / 4, aspect: float = 4 / 3
) -> np.ndarray:
    """One camera pose per frame for the motions ``joints`` (each [T_i, 22, 3], metres).

    mode ``"frame"``: a fixed camera that keeps every frame of every motion in view.
    mode ``"follow"``: a camera 4 m away that tracks the first motion's pelvis, smoothed over 1 s.
    yfov: vertical field of view, radians; aspect: width / height. Returns [max T_i, 4, 4].
    """
    frames = max(len(j) for j in joints)
    lo, hi = motion_bounds(joints)
    direction = _view_direction(lo, hi)
    if mode == "frame":
        center = (lo + hi) / 2
        radius = 0.5 * float(np.linalg.norm(hi - lo)) + 0.2
        half_fov = min(yfov / 2, np.arctan(np.tan(yfov / 2) * aspect))
        eye = center + direction * radius / np.sin(half_fov)
        return np.broadcast_to(look_at(eye, center), (frames, 4, 4)).copy()
    if mode == "follow":
        pelvis = np.asarray(joints[0], dtype=np.float64)[:, 0]
        pelvis = np.concatenate([pelvis, np.repeat(pelvis[-1:], frames - len(pelvis), 0)])
        smooth = uniform_filter1d(pelvis, size=min(21, frames), axis=0, mode="nearest")
        target = smooth * np.array([1.0, 0.0, 1.0]) + np.array([0.0, 0.9, 0.0])
        return look_at(target + direction * 4.0, target)
    raise ValueError(f"unknown camera mode {mode!r} (use 'frame' or 'follow')")
