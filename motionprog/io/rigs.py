"""Rig naming maps: the bone names (and the extra chain bones) other rigs expect of an export.

A :class:`RigMap` renames the 22 joints and may add bones that a target rig has and ours lacks;
:func:`bone_layout` turns it into the exported armature, which the BVH and glTF writers share.
Added bones never move the body: a ``root`` bone sits at the origin under the pelvis with no
rotation, and a split bone halves one of our bones (it takes the first half, the joint the
second) with no rotation of its own, so every mapped joint lands where the motion has it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionprog.body.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS, RIG_OFFSETS, RIG_REST_POSITIONS
from motionprog.errors import InputError


@dataclass(frozen=True)
class RigMap:
    """Bone names for one target rig.

    names:  the bone of each of the 22 joints, in skeleton order.
    root:   the name of a bone added at the origin as the parent of the pelvis, or None.
    splits: (joint, name) pairs: a bone ``name`` added halfway along the bone ending at ``joint``.
    """

    names: tuple[str, ...]
    root: str | None = None
    splits: tuple[tuple[str, str], ...] = ()

    def added(self) -> tuple[str, ...]:
        """The names of the bones this map adds to the 22."""
        return ((self.root,) if self.root else ()) + tuple(name for _, name in self.splits)


def _sided(template: dict[str, str], left: str, right: str) -> tuple[str, ...]:
    """The 22 names from ``template`` keyed by joint name, where ``{side}`` in a name of a
    ``left_``/``right_`` joint becomes ``left`` or ``right``."""
    names = []
    for joint in JOINT_NAMES:
        side, _, base = joint.partition("_")
        if side in ("left", "right") and base:
            names.append(template[base].format(side=left if side == "left" else right))
        else:
            names.append(template[joint])
    return tuple(names)


_MIXAMO = {"pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck",
           "head": "Head", "hip": "{side}UpLeg", "knee": "{side}Leg", "ankle": "{side}Foot",
           "foot": "{side}ToeBase", "collar": "{side}Shoulder", "shoulder": "{side}Arm",
           "elbow": "{side}ForeArm", "wrist": "{side}Hand"}
_RIGIFY = {"pelvis": "spine", "spine1": "spine.001", "spine2": "spine.002", "spine3": "spine.003",
           "neck": "spine.004", "head": "spine.006", "hip": "thigh.{side}", "knee": "shin.{side}",
           "ankle": "foot.{side}", "foot": "toe.{side}", "collar": "shoulder.{side}",
           "shoulder": "upper_arm.{side}", "elbow": "forearm.{side}", "wrist": "hand.{side}"}
_UNREAL = {"pelvis": "pelvis", "spine1": "spine_01", "spine2": "spine_02", "spine3": "spine_03",
           "neck": "neck_01", "head": "head", "hip": "thigh_{side}", "knee": "calf_{side}",
           "ankle": "foot_{side}", "foot": "ball_{side}", "collar": "clavicle_{side}",
           "shoulder": "upperarm_{side}", "elbow": "lowerarm_{side}", "wrist": "hand_{side}"}
_SMPL = {"pelvis": "Pelvis", "spine1": "Spine1", "spine2": "Spine2", "spine3": "Spine3", "neck": "Neck",
         "head": "Head", "hip": "{side}_Hip", "knee": "{side}_Knee", "ankle": "{side}_Ankle",
         "foot": "{side}_Foot", "collar": "{side}_Collar", "shoulder": "{side}_Shoulder",
         "elbow": "{side}_Elbow", "wrist": "{side}_Wrist"}

DEFAULT_RIG = RigMap(JOINT_NAMES)
"""Our own joint names (``skeleton.JOINT_NAMES``), nothing added: what an export uses without ``--rig``."""

RIGS: dict[str, RigMap] = {
    "mixamo": RigMap(tuple("mixamorig:" + n for n in _sided(_MIXAMO, "Left", "Right"))),
    "rigify": RigMap(_sided(_RIGIFY, "L", "R"), splits=(("head", "spine.005"),)),
    "unreal": RigMap(_sided(_UNREAL, "l", "r"), root="root"),
    "smpl": RigMap(_sided(_SMPL, "L", "R")),
}
"""The rigs ``--rig`` names (docs/formats.md describes each)."""


def rig_named(name: str) -> RigMap:
    """The map of rig ``name``; InputError listing the known ones otherwise."""
    if name not in RIGS:
        raise InputError(f"unknown rig {name!r} (known: {', '.join(RIGS)})")
    return RIGS[name]


@dataclass(frozen=True)
class BoneLayout:
    """The exported armature: bones in an order where parents precede children.

    names:   bone names.
    parents: parent bone of each bone, -1 for the root.
    offsets: float64 [B, 3], each bone's rest offset from its parent (the root's: its rest position).
    joints:  the joint (0..21) whose rig rotation each bone carries; -1 for an added bone (no rotation).
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    joints: tuple[int, ...]

    def bone_of(self, joint: int) -> int:
        """The bone that carries ``joint``."""
        return self.joints.index(joint)

    def rest_positions(self) -> np.ndarray:
        """Every bone's rest (bind pose) position, [B, 3]."""
        positions = np.zeros_like(self.offsets)
        for bone, parent in enumerate(self.parents):
            positions[bone] = self.offsets[bone] + (positions[parent] if parent >= 0 else 0.0)
        return positions


def bone_layout(rig: RigMap = DEFAULT_RIG) -> BoneLayout:
    """The armature of ``rig``: the rig's T-pose (``RIG_OFFSETS``) with its names and added bones."""
    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray] = []
    joints: list[int] = []
    bone_of = {-1: -1}

    def add(name: str, parent: int, offset: np.ndarray, joint: int) -> int:
        names.append(name)
        parents.append(parent)
        offsets.append(offset)
        joints.append(joint)
        return len(names) - 1

    if rig.root:
        bone_of[-1] = add(rig.root, -1, np.zeros(3), -1)
    splits = {JOINT_INDEX[joint]: name for joint, name in rig.splits}
    for joint in range(NUM_JOINTS):
        offset = RIG_REST_POSITIONS[0] if joint == 0 else RIG_OFFSETS[joint]
        parent = bone_of[PARENTS[joint]]
        if joint in splits:
            parent = add(splits[joint], parent, 0.5 * offset, -1)
            offset = 0.5 * offset
        bone_of[joint] = add(rig.names[joint], parent, np.asarray(offset, np.float64), joint)
    return BoneLayout(tuple(names), tuple(parents), np.array(offsets), tuple(joints))
