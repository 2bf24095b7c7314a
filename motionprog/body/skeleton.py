"""The 22-joint SMPL / HumanML3D skeleton: the one place that states joint order and units.

Conventions used everywhere in motionprog:
- joints are indexed in the HumanML3D order below; joint tensors are ``[..., 22, 3]``;
- metres, Y up, the motion's initial facing direction is +Z;
- 20 frames per second.
"""

from __future__ import annotations

import difflib

import numpy as np

FPS = 20
"""Frames per second of every Motion and every model."""

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee",
    "spine2", "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot",
    "neck", "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11),        # right leg
    (0, 1, 4, 7, 10),        # left leg
    (0, 3, 6, 9, 12, 15),    # spine to head
    (9, 14, 17, 19, 21),     # right arm
    (9, 13, 16, 18, 20),     # left arm
)
"""HumanML3D's kinematic chains (``t2m_kinematic_chain``); parents follow from them."""


def _parents_from_chains(chains: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    parents = [-1] * NUM_JOINTS
    for chain in chains:
        for parent, child in zip(chain[:-1], chain[1:]):
            parents[child] = parent
    return tuple(parents)


PARENTS: tuple[int, ...] = _parents_from_chains(CHAINS)
"""Parent index of each joint; -1 for the root (pelvis). Parents precede children."""

RAW_OFFSETS = np.array(
    [
        [0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0],
        [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1],
        [0, 1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, -1, 0], [0, -1, 0],
        [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
    ],
    dtype=np.float32,
)
"""Unit direction of each bone in the rest pose (HumanML3D ``t2m_raw_offsets``); [22, 3]."""

BONE_LENGTHS = np.array(
    [
        0.0, 0.1031, 0.1099, 0.1316, 0.3936, 0.3902, 0.1432, 0.4324, 0.4256, 0.0574,
        0.1434, 0.1494, 0.2194, 0.1375, 0.1434, 0.1030, 0.1316, 0.1230, 0.2568,
        0.2631, 0.2660, 0.2699,
    ],
    dtype=np.float32,
)
"""Length of the bone from each joint's parent to it, metres, of HumanML3D's uniform skeleton.

Every HumanML3D motion is retargeted onto one reference body; these are its bone lengths,
measured on sample 012314 (constant over its frames to 5e-7 m)."""

REST_OFFSETS = RAW_OFFSETS * BONE_LENGTHS[:, None]
"""Offset of each joint from its parent in the rest pose (T-pose facing +Z), metres; [22, 3]."""

LEFT_RIGHT: tuple[tuple[int, int], ...] = (
    (1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21),
)
"""Pairs of mirrored joints (left, right), for mirror augmentation."""

MIRROR_PERMUTATION: tuple[int, ...] = tuple(
    next((r if i == l else l for l, r in LEFT_RIGHT if i in (l, r)), i) for i in range(NUM_JOINTS)
)
"""Joint index each joint takes its mirrored position from."""

FACE_JOINTS = (2, 1, 17, 16)
"""(right hip, left hip, right shoulder, left shoulder): the joints that define facing."""

FOOT_JOINTS = (7, 10, 8, 11)
"""(left ankle, left foot, right ankle, right foot): heel and toe of each foot, as in the
HumanML3D contact labels."""

GROUPS: dict[str, tuple[int, ...]] = {
    "hands": (20, 21),
    "wrists": (20, 21),
    "feet": (10, 11),
    "ankles": (7, 8),
    "heels": (7, 8),
    "toes": (10, 11),
    "knees": (4, 5),
    "hips": (1, 2),
    "elbows": (18, 19),
    "shoulders": (16, 17),
    "left_arm": (16, 18, 20),
    "right_arm": (17, 19, 21),
    "arms": (16, 17, 18, 19, 20, 21),
    "left_leg": (1, 4, 7, 10),
    "right_leg": (2, 5, 8, 11),
    "legs": (1, 2, 4, 5, 7, 8, 10, 11),
    "spine": (0, 3, 6, 9, 12, 15),
    "body": tuple(range(NUM_JOINTS)),
}
"""Named joint groups; a constraint on a group holds for each of its joints."""

ALIASES: dict[str, str] = {
    "root": "pelvis",
    "hip": "pelvis",
    "chest": "spine3",
    "left_hand": "left_wrist",
    "right_hand": "right_wrist",
    "left_heel": "left_ankle",
    "right_heel": "right_ankle",
    "left_toe": "left_foot",
    "right_toe": "right_foot",
    "left_upper_arm": "left_shoulder",
    "right_upper_arm": "right_shoulder",
    "left_forearm": "left_elbow",
    "right_forearm": "right_elbow",
    "left_thigh": "left_hip",
    "right_thigh": "right_hip",
    "left_shin": "left_knee",
    "right_shin": "right_knee",
}
"""Readable names accepted for joints."""


def joint_index(name: str) -> int:
    """Index of a joint given its name or alias; raises KeyError with a suggestion."""
    canonical = ALIASES.get(name, name)
    if canonical in JOINT_INDEX:
        return JOINT_INDEX[canonical]
    hint = suggest(name, [*JOINT_NAMES, *ALIASES])
    raise KeyError(f"unknown joint {name!r}" + (f"; did you mean {hint!r}?" if hint else ""))


def suggest(name: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The closest candidate to a misspelled name, or None when nothing is close."""
    matches = difflib.get_close_matches(name.lower(), list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
