"""The Motion value and its `.npz` file.

NPZ keys (all written by :func:`save_npz`, read back by :func:`load_npz`):

| key        | dtype / shape      | meaning                                                      |
|------------|--------------------|--------------------------------------------------------------|
| `joints`   | float32 [T, 22, 3] | global joint positions, metres, Y up, HumanML3D joint order  |
| `fps`      | float32 scalar     | frames per second (20 for every model output)                |
| `text`     | str scalar         | the text prompt ("" when unknown)                            |
| `features` | float32 [T, 263]   | HumanML3D features, not normalised (only when known)         |
| `metadata` | str scalar (JSON)  | free-form: the program's scene, the constraint report, ...   |
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motionprog.body.skeleton import FPS, NUM_JOINTS
from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path

FEATURE_DIM = 263


@dataclass(frozen=True)
class Motion:
    """One motion on the 22-joint skeleton.

    joints:   float32 [T, 22, 3], metres, Y up.
    features: float32 [T, 263] HumanML3D features (not normalised), or None when unknown.
    fps:      frames per second.
    text:     the text prompt.
    metadata: JSON-serialisable extras (scene objects, constraint report, provenance).
    """

    joints: np.ndarray
    fps: float = FPS
    text: str = ""
    features: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

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

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_frames / self.fps



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
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def load_npz(path: str | os.PathLike) -> Motion:
    """Read a Motion written by :func:`save_npz`; raises InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "joints" not in data:
                raise InputError(f"{path}: not a motion file (no 'joints' array)")
            joints = data["joints"]
            fps = float(data["fps"]) if "fps" in data else FPS
            text = str(data["text"]) if "text" in data else ""
            features = data["features"] if "features" in data else None
            metadata = json.loads(str(data["metadata"])) if "metadata" in data else {}
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read motion file ({exc})") from exc
    try:
        return Motion(joints=joints, fps=fps, text=text, features=features, metadata=metadata)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
