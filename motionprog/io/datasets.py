"""Free motion data for training, as Motions on the 22 joints at 20 fps (metres, Y up).

Sources:
- the two CMU clips vendored in ``motionprog/data`` (:func:`bundled_cmu_motions`; attribution
  in ``motionprog/data/CMU_ATTRIBUTION.txt``);
- the DeepMimic clips inside an installed ``pybullet`` (:func:`deepmimic_motions`);
- the MDM samples file of ``../shared/data/mdm_samples`` (:func:`mdm_sample_motions`);
- BVH files, HumanML3D joint ``.npy`` files and Motion ``.npz`` files (:func:`load_training_motions`).

:func:`mirror` gives the left-right mirrored motion for augmentation.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from motionprog.body import skeleton
from motionprog.body.rotations import quat_to_matrix
from motionprog.errors import InputError
from motionprog.io import humanml3d
from motionprog.io.bvh import forward_kinematics, read_bvh
from motionprog.io.retarget import retarget
from motionprog.motion import Motion, load_npz

BUNDLED_CMU = ("cmu_01_01.npz", "cmu_01_03.npz")
"""The vendored CMU clips in ``motionprog/data`` (written by ``scripts/vendor_cmu.py``)."""

DEEPMIMIC_TEXT: dict[str, str] = {
    "backflip": "a person does a backflip",
    "cartwheel": "a person does a cartwheel",
    "crawl": "a person crawls forward on hands and knees",
    "dance_a": "a person dances, swaying and stepping from side to side",
    "dance_b": "a person dances energetically, swinging the arms",
    "getup_facedown": "a person lying face down gets up to standing",
    "getup_faceup": "a person lying on the back gets up to standing",
    "jump": "a person jumps forward with both feet",
    "kick": "a person kicks forward with the right leg",
    "punch": "a person punches forward with the right fist",
    "roll": "a person does a forward roll on the ground and stands up",
    "run": "a person runs forward",
    "spin": "a person spins around, swinging the legs up high",
    "spinkick": "a person does a spinning kick",
    "walk": "a person walks forward",
}
"""Text label of each DeepMimic clip, by the name in ``humanoid3d_<name>.txt``."""

DEEPMIMIC_SCALE = 0.25
"""Metres per unit of pybullet's ``humanoid/humanoid.urdf`` (DeepMimic loads it with
``globalScaling=0.25``); the clips' root positions are in metres."""


def bundled_cmu_motions() -> list[Motion]:
    """The vendored CMU clips (subject 1, playground), retargeted, 20 fps, with text labels."""
    folder = resources.files("motionprog") / "data"
    motions = []
    for name in BUNDLED_CMU:
        with resources.as_file(folder / name) as path:
            motions.append(load_npz(path))
    return motions


def _pybullet_data() -> Path:
    try:
        import pybullet_data
    except ImportError as exc:
        raise InputError(
            "the DeepMimic clips need pybullet: pip install 'motionprog[deepmimic]' (or pip install pybullet)"
        ) from exc
    return Path(pybullet_data.getDataPath())


def _floats(text: str | None) -> np.ndarray:
    return np.array([float(v) for v in (text or "0 0 0").split()])


Humanoid = tuple[tuple[str, ...], tuple[int, ...], np.ndarray, tuple[str, ...], np.ndarray]
"""(names, parents, offsets [J, 3], kinds, axes [J, 3]) of :func:`read_humanoid`."""


def read_humanoid(path: str | os.PathLike) -> Humanoid:
    """The DeepMimic humanoid's joints from pybullet's ``humanoid.urdf``, plus three points
    for the 22-joint map: ``head`` (centre of the neck link's sphere) and ``left_toe`` /
    ``right_toe`` (ball of the foot: the foot box's bottom, a quarter of its length ahead of
    its centre).

    Returns (names, parents, offsets [J, 3] in URDF units, kinds ("root", "spherical",
    "revolute", "fixed"), axes [J, 3] of revolute joints).
    """
    try:  # pybullet's copy ends with a NUL byte, which XML parsers refuse
        robot = ET.fromstring(Path(path).read_bytes().replace(b"\x00", b""))
    except (OSError, ET.ParseError) as exc:
        raise InputError(f"{path}: cannot read the humanoid model ({exc})") from exc
    links = {link.get("name"): link for link in robot.iter("link")}
    names, parents, offsets, kinds, axes = ["root"], [-1], [np.zeros(3)], ["root"], [np.zeros(3)]
    for joint in robot.iter("joint"):
        child, parent = joint.find("child").get("link"), joint.find("parent").get("link")
        if child == "root":
            continue
        names.append(child)
        parents.append(names.index(parent))
        offsets.append(_floats(joint.find("origin").get("xyz")))
        kinds.append(joint.get("type"))
        axis = joint.find("axis")
        axes.append(_floats(axis.get("xyz")) if axis is not None else np.zeros(3))
    head = links["neck"].find("collision/origin")
    extra = [("head", "neck", _floats(head.get("xyz")))]
    for side in ("left", "right"):
        box = links[f"{side}_ankle"].find("collision")
        centre, size = _floats(box.find("origin").get("xyz")), _floats(box.find("geometry/box").get("size"))
        extra.append((f"{side}_toe", f"{side}_ankle", centre + np.array([size[0] / 4, -size[1] / 2, 0.0])))
    for name, parent, offset in extra:
        names.append(name)
        parents.append(names.index(parent))
        offsets.append(offset)
        kinds.append("fixed")
        axes.append(np.zeros(3))
    return tuple(names), tuple(parents), np.array(offsets), tuple(kinds), np.array(axes)


def _deepmimic_motion(path: Path, humanoid: Humanoid) -> Motion:
    """One ``humanoid3d_*.txt`` clip retargeted onto the 22 joints at 20 fps."""
    names, parents, offsets, kinds, axes = humanoid
    try:
        frames = np.array(json.loads(path.read_text())["Frames"], dtype=np.float64)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not a DeepMimic motion file ({exc})") from exc
    widths = {"root": 7, "spherical": 4, "revolute": 1, "fixed": 0}
    if frames.ndim != 2 or frames.shape[1] != 1 + sum(widths[k] for k in kinds):
        raise InputError(f"{path}: expected {1 + sum(widths[k] for k in kinds)} values per frame")
    count = frames.shape[0]
    rotations = np.broadcast_to(np.eye(3), (count, len(names), 3, 3)).copy()
    translations = np.broadcast_to(offsets, (count, len(names), 3)).copy()
    translations[:, 0] = frames[:, 1:4] / DEEPMIMIC_SCALE
    column = 1
    for joint, kind in enumerate(kinds):
        if kind in ("root", "spherical"):  # quaternion w, x, y, z (after x, y, z for the root)
            start = column + 3 if kind == "root" else column
            quats = torch.as_tensor(frames[:, start:start + 4])
            rotations[:, joint] = quat_to_matrix(quats / quats.norm(dim=-1, keepdim=True)).numpy()
        elif kind == "revolute":  # angle in radians about the joint's axis
            rotations[:, joint] = Rotation.from_rotvec(frames[:, column:column + 1] * axes[joint]).as_matrix()
        column += widths[kind]
    times = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])
    rest = forward_kinematics(parents, np.broadcast_to(np.eye(3), (1, len(names), 3, 3)), offsets[None])[0]
    joints = retarget(names, parents, rest, forward_kinematics(parents, rotations, translations), times, str(path))
    clip = path.stem.removeprefix("humanoid3d_")
    return Motion(joints=joints, text=DEEPMIMIC_TEXT.get(clip, f"a person performs a {clip.replace('_', ' ')}"),
                  metadata={"source": f"deepmimic/{path.name}"})


def deepmimic_motions() -> list[Motion]:
    """The DeepMimic humanoid clips shipped with pybullet, retargeted (about 34 s in all).

    Joint offsets come from pybullet's ``humanoid/humanoid.urdf``; its 13 joints map onto the
    22 with spine1, spine2 and the collars interpolated (:mod:`motionprog.io.retarget`).
    Raises InputError with an install hint when pybullet is absent.
    """
    data = _pybullet_data()
    humanoid = read_humanoid(data / "humanoid" / "humanoid.urdf")
    return [_deepmimic_motion(path, humanoid) for path in sorted((data / "data" / "motions").glob("humanoid3d_*.txt"))]


def _on_floor(joints: np.ndarray) -> np.ndarray:
    """Joints [T, 22, 3] moved up or down so the lowest foot joint touches y = 0."""
    return joints - np.array([0.0, joints[:, list(skeleton.FOOT_JOINTS), 1].min(), 0.0], dtype=joints.dtype)


def mdm_sample_motions(path: str | os.PathLike) -> list[Motion]:
    """The motions of an MDM samples file (``joints`` [N, T, 22, 3], ``lengths`` [N], ``text``
    [N]), each trimmed to its length, with its prompt, feet moved onto the floor."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            joints, lengths, texts = data["joints"], data["lengths"], data["text"]
    except KeyError as exc:
        raise InputError(f"{path}: not an MDM samples file (needs joints, lengths and text; missing {exc})") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    if joints.ndim != 4:
        raise InputError(f"{path}: joints must be [N, T, 22, 3], got {list(joints.shape)}")
    results = {"motion": joints.transpose(0, 2, 3, 1), "lengths": lengths, "text": texts}
    return [replace(m, joints=_on_floor(m.joints)) for m in humanml3d.motions_from_results(results, path)]


_SIDES = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}


def mirror_text(text: str) -> str:
    """``text`` with the words left and right swapped (case kept)."""
    return re.sub(r"\b(left|right)\b", lambda m: _SIDES[m.group(0)], text, flags=re.IGNORECASE)


def mirror(motion: Motion) -> Motion:
    """The left-right mirror image of ``motion``: x negated, left and right joints swapped
    (``skeleton.MIRROR_PERMUTATION``), the words left/right swapped in its text. Features
    are dropped (they would need re-encoding); ``metadata["mirrored"]`` toggles."""
    joints = motion.joints[:, list(skeleton.MIRROR_PERMUTATION)] * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
    metadata = {k: v for k, v in motion.metadata.items() if k != "mirrored"}
    if not motion.metadata.get("mirrored", False):
        metadata["mirrored"] = True
    return Motion(joints=joints, fps=motion.fps, text=mirror_text(motion.text), metadata=metadata)


def _humanml3d_text(path: Path) -> str:
    """The first caption of a HumanML3D joints file (``<root>/texts/<id>.txt`` beside
    ``<root>/new_joints/<id>.npy``), or "" when there is none."""
    captions = path.parent.parent / "texts" / f"{path.stem}.txt"
    if not captions.is_file():
        return ""
    first = captions.read_text(encoding="utf-8", errors="replace").strip().splitlines()[:1]
    return first[0].split("#")[0].strip() if first else ""


def _read_file(path: Path) -> list[Motion]:
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return [read_bvh(path)]
    if suffix == ".npy":
        text = _humanml3d_text(path)
        return [m if m.text or not text else replace(m, text=text) for m in humanml3d.read_npy(path)]
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            is_samples = "lengths" in data and "joints" in data
        return mdm_sample_motions(path) if is_samples else [load_npz(path)]
    raise InputError(f"{path}: not a training motion file (expected .bvh, .npy or .npz)")


TRAINING_SOURCES = ("cmu", "deepmimic")
"""The built-in sources :func:`load_training_motions` accepts by name."""


def load_training_motions(paths: Iterable[str | os.PathLike]) -> list[Motion]:
    """Motions from each source in ``paths``, in order: ``"cmu"`` (the vendored clips),
    ``"deepmimic"`` (pybullet's clips), a BVH file, a HumanML3D joints or features ``.npy``,
    a Motion ``.npz``, the MDM samples ``.npz``, or a folder of such files (searched
    recursively, sorted by path). Raises InputError naming a source that gives nothing."""
    motions: list[Motion] = []
    for item in paths:
        if str(item) == "cmu":
            motions.extend(bundled_cmu_motions())
        elif str(item) == "deepmimic":
            motions.extend(deepmimic_motions())
        elif Path(item).is_dir():
            files = sorted(p for p in Path(item).rglob("*") if p.suffix.lower() in (".bvh", ".npy", ".npz"))
            if not files:
                raise InputError(f"{item}: no .bvh, .npy or .npz motion files in this folder")
            motions.extend(m for f in files for m in _read_file(f))
        elif Path(item).is_file():
            motions.extend(_read_file(Path(item)))
        else:
            raise InputError(
                f"{item}: no such file or folder (give BVH/.npy/.npz files or folders, "
                f"or {' / '.join(repr(s) for s in TRAINING_SOURCES)})"
            )
    return motions
