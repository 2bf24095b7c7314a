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
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from motionprog.body.skeleton import FPS, NUM_JOINTS
from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path
from motionprog.io.limits import MAX_FPS, MAX_MOTION_FRAMES, MAX_TEXT_CHARS, check_file_size, check_frames, check_shape, read_npy_header

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

    def with_metadata(self, **items: Any) -> Motion:
        """A copy whose metadata has ``items`` added (or replaced)."""
        return replace(self, metadata={**self.metadata, **items})


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


NPZ_KINDS = {"joints": "fiu", "features": "fiu", "fps": "fiu", "text": "U", "metadata": "U"}
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
        return Motion(joints=arrays["joints"], fps=fps, text=text, features=arrays.get("features"), metadata=metadata)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
