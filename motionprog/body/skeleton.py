"""The 22-joint SMPL / HumanML3D skeleton: the one place that states joint order and units.

Conventions used everywhere in motionprog:
- joints are indexed in the HumanML3D order below; joint tensors are ``[..., 22, 3]``;
- metres, Y up, the motion's initial facing direction is +Z;
- 20 frames per second.

Two rest poses live here. ``RAW_OFFSETS``/``REST_OFFSETS`` are HumanML3D's (arms down, hips
straight out), used by its features. ``RIG_OFFSETS`` is the exact skeleton every motionprog
output is a pose of, and the T-pose bind pose of its BVH and glTF exports.
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

RIGID_GROUPS: tuple[tuple[int, int, int, int], ...] = ((0, 1, 2, 3), (9, 13, 14, 12))
"""(origin, left child, right child, upper child) of the two joints with several children:
pelvis (hips, spine1) and spine3 (collars, neck). Each moves as one rigid body."""

RIGID_DIRECTIONS: dict[int, tuple[float, float, float]] = {
    1: (0.52649, -0.81484, -0.24259),    # left_hip
    2: (-0.60332, -0.76434, -0.22756),   # right_hip
    3: (0.02493, 0.99969, 0.0),          # spine1
    12: (-0.03038, 0.99954, 0.0),        # neck
    13: (0.48105, 0.86975, -0.11008),    # left_collar
    14: (-0.54159, 0.83399, -0.10555),   # right_collar
}
"""Unit direction of each rigid child in its group's frame (columns: the body's left, up,
forward; see ``kinematics.rigid_frame``), measured on HumanML3D sample 012314 (constant over its
frames to 1e-5); times ``BONE_LENGTHS`` it gives the child's offset."""


def _chain_children() -> tuple[int, ...]:
    following = [-1] * NUM_JOINTS
    for chain in CHAINS:
        for joint, child in zip(chain[1:-1], chain[2:]):
            following[joint] = child
    return tuple(following)


CHAIN_CHILD: tuple[int, ...] = _chain_children()
"""For each joint, the next joint on its kinematic chain (the bone its rotation aims); -1 for
the pelvis and the five leaves (feet, head, wrists). Spine3's is the neck."""


def _rig_directions() -> np.ndarray:
    directions = np.zeros((NUM_JOINTS, 3))
    for joint in range(1, NUM_JOINTS):
        name = JOINT_NAMES[joint]
        if joint in RIGID_DIRECTIONS:
            directions[joint] = RIGID_DIRECTIONS[joint]
        elif name.endswith(("shoulder", "elbow", "wrist")):
            directions[joint] = [1.0 if name.startswith("left") else -1.0, 0.0, 0.0]
        elif name == "head":
            directions[joint] = [0.0, 1.0, 0.0]
        else:  # legs down, spine up, feet forward: as HumanML3D's rest

            directions[joint] = RAW_OFFSETS[joint]
    directions /= np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-12)
    for _, left, right, _ in RIGID_GROUPS:  # left - right exactly along the frame's X, as measured
        lengths = BONE_LENGTHS[[left, right]].astype(np.float64)
        shared = (directions[[left, right], 1:] * lengths[:, None]).mean(0)
        sides = np.sqrt(lengths**2 - shared @ shared) * [1.0, -1.0]
        directions[[left, right]] = np.column_stack([sides, np.tile(shared, (2, 1))]) / lengths[:, None]
    return directions


RIG_DIRECTIONS: np.ndarray = _rig_directions()
"""Unit direction of the bone from each joint's parent to it in the rig's bind pose, [22, 3]:
a T-pose facing +Z (arms straight out along X, legs and spine straight, feet forward), with
the pelvis and spine3 children at ``RIGID_DIRECTIONS``."""

RIG_OFFSETS: np.ndarray = RIG_DIRECTIONS * BONE_LENGTHS[:, None].astype(np.float64)
"""Offset of each joint from its parent in the rig's bind pose, metres, [22, 3]; the rig's
bones have HumanML3D's lengths (``BONE_LENGTHS``)."""


def _rig_rest_positions() -> np.ndarray:
    positions = np.zeros((NUM_JOINTS, 3))
    for joint in range(1, NUM_JOINTS):
        positions[joint] = positions[PARENTS[joint]] + RIG_OFFSETS[joint]
    return positions - [0.0, positions[:, 1].min(), 0.0]


RIG_REST_POSITIONS: np.ndarray = _rig_rest_positions()
"""Joint positions of the bind pose standing on the floor (lowest joint at y = 0, pelvis above
the origin), metres, [22, 3]; the pelvis is 0.910 m high."""

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
