"""The Motion value and its `.npz` file.

NPZ keys (all written by :func:`save_npz`, read back by :func:`load_npz`):

| key        | dtype / shape      | meaning                                                      |
|------------|--------------------|--------------------------------------------------------------|
| `joints`   | float32 [T, 22, 3] | global joint positions, metres, Y up, HumanML3D joint order  |
| `fps`      | float32 scalar     | frames per second (20 for every model output)                |
| `text`     | str scalar         | the text prompt ("" when unknown)                            |
| `features` | float32 [T, 263]   | HumanML3D features, not normalised (only when known)         |
| `rotations`| float32 [T, 22, 4] | local rotations of the rig, quaternions (w, x, y, z) (only when known) |
| `metadata` | str scalar (JSON)  | free-form: the program's scene, the constraint report, ...   |

The rig is ``skeleton.RIG_OFFSETS`` (a T-pose); ``rotations[:, 0]`` is the pelvis's world
rotation, ``rotations[:, j]`` joint j's rotation relative to its parent, and the root
translation is ``joints[:, 0]``: ``kinematics.rig_joints(rotations, joints[:, 0])`` gives the
joints back (their nearest rig pose, checked to 1 mm when a Motion is made). Exports (BVH,
glTF) write these rotations rather than solving them again.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionprog.body.kinematics import project_to_skeleton, rig_joints, rig_rotations, rigid_frame
from motionprog.body.rotations import quat_slerp
from motionprog.body.skeleton import FPS, JOINT_NAMES, NUM_JOINTS, RIGID_GROUPS
from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path
from motionprog.io.limits import MAX_FPS, MAX_MOTION_FRAMES, MAX_TEXT_CHARS, check_file_size, check_frames, check_shape, read_npy_header

FEATURE_DIM = 263


ROTATION_TOLERANCE = 1e-3
"""Metres the rig posed by a Motion's rotations may be from (the rig pose nearest) its joints."""


def _check_rotations_pose(joints: np.ndarray, rotations: np.ndarray) -> None:
    """InputError unless ``rotations`` pose the rig within ``ROTATION_TOLERANCE`` of ``joints``'
    nearest rig pose (stale rotations kept after the joints changed would export another motion)."""
    pose = torch.as_tensor(joints, dtype=torch.float64)
    posed = rig_joints(torch.as_tensor(rotations, dtype=torch.float64), pose[:, 0])
    error = torch.linalg.vector_norm(posed - project_to_skeleton(pose), dim=-1).amax(-1)
    if error.max() > ROTATION_TOLERANCE:
        frame = int(error.argmax())
        raise InputError(f"rotations do not pose the joints (frame {frame} is {float(error[frame]) * 1000:.1f} mm "
                         "off); leave them out when the joints change")


@dataclass(frozen=True)
class Motion:
    """One motion on the 22-joint skeleton.

    joints:   float32 [T, 22, 3], metres, Y up.
    features: float32 [T, 263] HumanML3D features (not normalised), or None when unknown.
    fps:      frames per second.
    text:     the text prompt.
    metadata: JSON-serialisable extras (scene objects, constraint report, provenance).
    rotations: float32 [T, 22, 4] local rotations of the rig (see the module docstring) that
              pose ``joints``, or None when not known (:meth:`rig_rotations` fits them).
    """

    joints: np.ndarray
    fps: float = FPS
    text: str = ""
    features: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    rotations: np.ndarray | None = None

    def __post_init__(self) -> None:
        joints = np.asarray(self.joints, dtype=np.float32)
        if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3):
            raise InputError(f"joints must have shape [T, {NUM_JOINTS}, 3], got {list(joints.shape)}")
        if joints.shape[0] < 1:
            raise InputError("a motion needs at least one frame")
        if not np.isfinite(joints).all():
            raise InputError("joints contain NaN or infinite values")
        object.__setattr__(self, "joints", joints)
        if self.features is not None:
            features = np.asarray(self.features, dtype=np.float32)
            if features.shape != (joints.shape[0], FEATURE_DIM):
                raise InputError(
                    f"features must have shape [{joints.shape[0]}, {FEATURE_DIM}], got {list(features.shape)}"
                )
            object.__setattr__(self, "features", features)
        if not self.fps > 0:
            raise InputError(f"fps must be positive, got {self.fps}")
        if self.rotations is not None:
            rotations = np.asarray(self.rotations, dtype=np.float32)
            if rotations.shape != (joints.shape[0], NUM_JOINTS, 4) or not np.isfinite(rotations).all():
                raise InputError(f"rotations must be finite with shape [{joints.shape[0]}, {NUM_JOINTS}, 4], "
                                 f"got {list(rotations.shape)}")
            object.__setattr__(self, "rotations", rotations)
            _check_rotations_pose(joints, rotations)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_frames / self.fps

    def rig_rotations(self) -> np.ndarray:
        """Local rotations of the rig, float32 [T, 22, 4]: the stored ones, else fitted to the
        joints (:func:`motionprog.body.kinematics.rig_rotations`); InputError naming the first
        frame whose pelvis or chest cannot be fitted (coincident joints)."""
        if self.rotations is not None:
            return self.rotations
        joints = torch.as_tensor(self.joints, dtype=torch.float64)
        for group in RIGID_GROUPS:
            singular = torch.linalg.det(rigid_frame(joints, group)) < 0.5
            if singular.any():
                frame = int(singular.nonzero()[0, 0])
                raise InputError(f"cannot fit the skeleton at frame {frame}: {JOINT_NAMES[group[0]]}'s children "
                                 "coincide or lie on one line")
        return rig_rotations(joints).float().numpy()


def retime(motion: Motion, fps: float) -> Motion:
    """``motion`` resampled to ``fps`` frames per second, as a pose of the rig at each new frame.

    New frame k is at time k / fps (the first frame stays, the last is at or before the
    original end). The rig's local rotations (:meth:`Motion.rig_rotations`) are interpolated by
    slerp and the pelvis position linearly between the two nearest original frames; features
    (defined at 20 fps) are dropped, text and metadata kept.
    """
    if fps == motion.fps:
        return motion
    count = int(np.floor((motion.num_frames - 1) * fps / motion.fps + 1e-9)) + 1
    source = torch.arange(count, dtype=torch.float64) * (motion.fps / fps)
    before = source.floor().long().clamp(max=motion.num_frames - 1)
    after = (before + 1).clamp(max=motion.num_frames - 1)
    weight = source - before
    local = torch.as_tensor(motion.rig_rotations(), dtype=torch.float64)
    rotations = quat_slerp(local[before], local[after], weight[:, None].expand(count, NUM_JOINTS))
    root = torch.as_tensor(motion.joints[:, 0], dtype=torch.float64)
    root = torch.lerp(root[before], root[after], weight[:, None])
    joints = rig_joints(rotations, root)
    return Motion(joints=joints.numpy(), fps=fps, text=motion.text, metadata=motion.metadata,
                  rotations=rotations.numpy())


def save_npz(motion: Motion, path: str | os.PathLike) -> None:
    """Write ``motion`` to ``path`` (``.npz``) atomically."""
    arrays: dict[str, np.ndarray] = {
        "joints": motion.joints.astype(np.float32),
        "fps": np.float32(motion.fps),
        "text": np.array(motion.text),
        "metadata": np.array(json.dumps(motion.metadata)),
    }
    if motion.features is not None:
        arrays["features"] = motion.features.astype(np.float32)
    if motion.rotations is not None:
        arrays["rotations"] = motion.rotations
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


NPZ_KINDS = {"joints": "fiu", "features": "fiu", "rotations": "fiu", "fps": "fiu", "text": "U", "metadata": "U"}
"""The dtype kinds each key of a motion ``.npz`` may have (numbers or text); other keys are ignored."""


def _npz_member(data: Any, key: str, path: Path) -> np.ndarray:
    """One array of an open npz, its header checked (dtype kind, size) before it is read."""
    with data.zip.open(f"{key}.npy") as member:
        shape, dtype = read_npy_header(member)
    if dtype.kind not in NPZ_KINDS[key]:
        raise InputError(f"{path}: '{key}' has dtype {dtype}, expected {'text' if NPZ_KINDS[key] == 'U' else 'numbers'}")
    if dtype.kind == "U":
        check_shape(path, key, (*shape, dtype.itemsize // 4), MAX_TEXT_CHARS)
    else:
        check_shape(path, key, shape, MAX_MOTION_FRAMES * FEATURE_DIM)
    return data[key]


def _scalar(array: np.ndarray, key: str, path: Path) -> Any:
    if array.size != 1:
        raise InputError(f"{path}: '{key}' must hold one value, got shape {list(array.shape)}")
    return array.reshape(()).item()


def _metadata(text: str, path: Path) -> dict[str, Any]:
    """The metadata JSON: an object whose ``scene`` (if any) is a list and ``report`` an object."""
    metadata = json.loads(text)
    if not isinstance(metadata, dict):
        raise InputError(f"{path}: 'metadata' must be a JSON object, got {type(metadata).__name__}")
    for key, kind in (("scene", list), ("report", dict)):
        if key in metadata and not isinstance(metadata[key], kind):
            raise InputError(f"{path}: metadata '{key}' must be a JSON {'list' if kind is list else 'object'}")
    return metadata


def load_npz(path: str | os.PathLike) -> Motion:
    """Read a Motion written by :func:`save_npz`; raises InputError naming the file.

    Every array's header is checked before it is read (numbers where numbers belong, at most
    :data:`motionprog.io.limits.MAX_MOTION_FRAMES` frames), so a small file cannot inflate.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        check_file_size(path)
        with np.load(path, allow_pickle=False) as data:
            if "joints" not in data:
                raise InputError(f"{path}: not a motion file (no 'joints' array)")
            arrays = {key: _npz_member(data, key, path) for key in NPZ_KINDS if key in data}
        fps = float(_scalar(arrays["fps"], "fps", path)) if "fps" in arrays else FPS
        text = str(_scalar(arrays["text"], "text", path)) if "text" in arrays else ""
        metadata = _metadata(str(_scalar(arrays["metadata"], "metadata", path)), path) if "metadata" in arrays else {}
    except InputError:
        raise
    except (OSError, ValueError, KeyError, NotImplementedError, zipfile.BadZipFile, zlib.error, EOFError,
            json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read motion file ({type(exc).__name__}: {exc})") from exc
    if not (np.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise InputError(f"{path}: fps must be a number in (0, {MAX_FPS:g}], got {fps}")
    check_frames(path, len(arrays["joints"]) if np.ndim(arrays["joints"]) else 0, fps)
    try:
        return Motion(joints=arrays["joints"], fps=fps, text=text, features=arrays.get("features"), metadata=metadata,
                      rotations=arrays.get("rotations"))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
