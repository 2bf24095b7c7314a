"""HumanML3D and MDM files: feature ``.npy``, joint ``.npy`` and MDM's ``results.npy``.

- features ``.npy``: float ``[T, 263]``, HumanML3D's ``new_joint_vecs`` (not normalised);
- joints ``.npy``: float ``[T, 22, 3]``, metres, Y up (HumanML3D's ``new_joints``);
- MDM ``results.npy``: a pickled dict with ``motion`` ``[N, 22, 3, T]``, ``text`` (N strings)
  and ``lengths`` ``[N]``. It is read with the restricted unpickler of
  :mod:`motionprog.io.pickles` (numpy arrays, dtypes and plain containers only), so a file
  cannot run code.
All motions are 20 fps. Every problem raises InputError naming the file.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionprog.body.features import FEATURE_DIM, features_to_joints
from motionprog.body.skeleton import FPS, NUM_JOINTS
from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path
from motionprog.io.limits import MAX_MOTION_FRAMES, check_file_size, check_frames, check_shape, read_npy_header
from motionprog.io.pickles import restricted_loads
from motionprog.motion import Motion


def load_npy(path: str | os.PathLike) -> np.ndarray | dict[str, Any]:
    """An array ``.npy``, or the dict inside a pickled one (``np.save`` of a dict), read safely."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        check_file_size(path)
        with open(path, "rb") as handle:
            shape, dtype = read_npy_header(handle)
            if not dtype.hasobject:
                check_shape(path, "the array", shape, MAX_MOTION_FRAMES * FEATURE_DIM)
                return np.load(path, allow_pickle=False)
            loaded = restricted_loads(handle.read())
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, TypeError, IndexError, KeyError,
            RecursionError) as exc:
        raise InputError(f"{path}: cannot read .npy file ({exc})") from exc
    if isinstance(loaded, np.ndarray) and loaded.shape == () and isinstance(loaded.item(), dict):
        return loaded.item()
    raise InputError(f"{path}: a pickled .npy must hold a dict (as MDM's results.npy does)")


def motion_from_vecs(features: np.ndarray, source: str | os.PathLike) -> Motion:
    """A Motion from HumanML3D features ``[T, 263]``; joints decoded, features kept."""
    if features.ndim != 2 or features.shape[1] != FEATURE_DIM or features.shape[0] < 1:
        raise InputError(f"{source}: expected HumanML3D features [T, {FEATURE_DIM}], got shape {list(features.shape)}")
    if not _is_real(features):
        raise InputError(f"{source}: expected HumanML3D features as numbers, got dtype {features.dtype}")
    check_frames(source, len(features), FPS)
    vecs = np.asarray(features, dtype=np.float32)
    if not np.isfinite(vecs).all():
        raise InputError(f"{source}: features contain NaN or infinite values")
    joints = features_to_joints(torch.from_numpy(vecs).double()).float().numpy()
    return _motion(source, joints=joints, features=vecs)


def motion_from_joints(joints: np.ndarray, source: str | os.PathLike) -> Motion:
    """A Motion from global joint positions ``[T, 22, 3]`` (metres, Y up)."""
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or joints.shape[0] < 1:
        raise InputError(f"{source}: expected joints [T, {NUM_JOINTS}, 3], got shape {list(joints.shape)}")
    return _motion(source, joints=joints)


def motions_from_results(results: dict[str, Any], source: str | os.PathLike) -> list[Motion]:
    """One Motion per sample of MDM's results dict, each trimmed to its length."""
    motion = results.get("motion")
    if not isinstance(motion, np.ndarray) or motion.ndim != 4 or motion.shape[1:3] != (NUM_JOINTS, 3):
        shape = list(motion.shape) if isinstance(motion, np.ndarray) else type(motion).__name__
        raise InputError(f"{source}: expected 'motion' of shape [N, {NUM_JOINTS}, 3, T], got {shape}")
    count, frames = motion.shape[0], motion.shape[3]
    lengths = np.asarray(results.get("lengths", np.full(count, frames))).reshape(-1)
    if (lengths.shape != (count,) or not _is_real(lengths) or not np.all(np.isin(lengths, np.arange(1, frames + 1)))):
        raise InputError(f"{source}: 'lengths' must hold {count} frame counts in [1, {frames}]")
    texts = results.get("text", [])
    texts = [str(text) for text in texts] if isinstance(texts, (list, tuple, np.ndarray)) and len(texts) == count else [""] * count
    joints = motion.transpose(0, 3, 1, 2)  # [N, T, 22, 3]
    return [
        _motion(source, joints=joints[i, : int(lengths[i])], text=texts[i], sample=i) for i in range(count)
    ]


def _is_real(array: np.ndarray) -> bool:
    """Whether ``array`` holds real numbers (not text, booleans, complex numbers or objects)."""
    return array.dtype.kind in "fiu"


def _motion(source: str | os.PathLike, **fields: Any) -> Motion:
    sample = fields.pop("sample", None)
    metadata = {"source": str(source)} | ({} if sample is None else {"sample": sample})
    arrays = [fields["joints"]] + ([fields["features"]] if "features" in fields else [])
    if not all(_is_real(np.asarray(a)) for a in arrays):
        raise InputError(f"{source}: expected numbers, got an array of dtype {np.asarray(arrays[0]).dtype}")
    check_frames(source, len(fields["joints"]), FPS)
    try:
        return Motion(fps=FPS, metadata=metadata, **fields)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc


def read_vecs(path: str | os.PathLike) -> Motion:
    """Read a HumanML3D features ``.npy`` ``[T, 263]``."""
    return motion_from_vecs(_array(path), path)


def read_joints(path: str | os.PathLike) -> Motion:
    """Read a joints ``.npy`` ``[T, 22, 3]``."""
    return motion_from_joints(_array(path), path)


def read_results(path: str | os.PathLike) -> list[Motion]:
    """Read MDM's ``results.npy``: one Motion per sample."""
    loaded = load_npy(path)
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: expected MDM results (a pickled dict), got an array of shape {list(loaded.shape)}")
    return motions_from_results(loaded, path)


def read_npy(path: str | os.PathLike) -> list[Motion]:
    """Read any of the three ``.npy`` kinds, told apart by content: ``[T, 263]`` features,
    ``[T, 22, 3]`` joints or a pickled results dict."""
    loaded = load_npy(path)
    if isinstance(loaded, dict):
        return motions_from_results(loaded, path)
    if loaded.ndim == 2 and loaded.shape[1] == FEATURE_DIM:
        return [motion_from_vecs(loaded, path)]
    if loaded.ndim == 3 and loaded.shape[1:] == (NUM_JOINTS, 3):
        return [motion_from_joints(loaded, path)]
    raise InputError(
        f"{path}: cannot tell the .npy kind from shape {list(loaded.shape)} "
        f"(expected [T, {FEATURE_DIM}] features, [T, {NUM_JOINTS}, 3] joints or an MDM results dict)"
    )


def write_joints(motion: Motion, path: str | os.PathLike) -> None:
    """Write the motion's joints as float32 ``[T, 22, 3]`` ``.npy``, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, motion.joints.astype(np.float32), allow_pickle=False)


def _array(path: str | os.PathLike) -> np.ndarray:
    loaded = load_npy(path)
    if isinstance(loaded, dict):
        raise InputError(f"{path}: holds a pickled dict, not an array (use --from mdm-results)")
    return loaded
