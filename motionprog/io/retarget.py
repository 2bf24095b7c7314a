"""Retargeting any skeleton's joint positions onto the 22-joint HumanML3D body at 20 fps.

The steps, each a function below, run by :func:`retarget`:

1. :func:`map_joints`: find the source joint of each of the 22 joints by name (SMPL-like,
   Mixamo, CMU/cgspeed and Unreal conventions) and by structure (spine3 is where the arms
   branch); spine1, spine2, neck and the collars may be missing and are synthesised.
2. :func:`gather_joints`: the source positions of the 22 joints, synthesised joints placed on
   the straight line between their nearest mapped neighbours, at distances in proportion
   to the HumanML3D bone lengths.
3. :func:`resample`: linear interpolation in time to 20 fps (exact frames when the source
   rate is a multiple of 20).
4. :func:`fit_proportions`: the rig (``skeleton.RIG_OFFSETS``, through
   ``kinematics.project_to_skeleton``): every single-child bone keeps the source's direction
   and takes its length from ``skeleton.BONE_LENGTHS``; the pelvis's children (hips, spine1)
   and spine3's children (neck, collars) sit at the rig's rigid offsets in a frame built from
   the source (``kinematics.rigid_frame``), so the result is exactly a pose of one fixed
   skeleton and a BVH export can reproduce it.
   The root's path is scaled by the ratio of leg lengths (this also converts units).
5. :func:`place_on_floor`: facing +Z (the body's left is +X) with the pelvis above the origin
   at the first frame, and the lowest foot joint of the clip on the floor (y = 0).

Units: metres after step 4 (source units before), Y up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from motionprog.body import skeleton
from motionprog.body.kinematics import project_to_skeleton
from motionprog.body.quantities import facing
from motionprog.body.rotations import rotate_yaw
from motionprog.errors import InputError
from motionprog.io.rigs import RIGS

J = skeleton.JOINT_INDEX

SYNTHESISABLE: tuple[int, ...] = tuple(J[n] for n in ("spine1", "spine2", "neck", "left_collar", "right_collar"))
"""Joints that may be missing from a source skeleton (they are interpolated), parents first."""

_CHAIN_CHILD = {J["spine1"]: J["spine2"], J["spine2"]: J["spine3"], J["neck"]: J["head"],
                J["left_collar"]: J["left_shoulder"], J["right_collar"]: J["right_shoulder"]}

_LEFT_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "SMPL-like": {
        "pelvis": ("pelvis", "hips", "hip", "root"),
        "left_hip": ("lefthip", "lhip", "hipl"),
        "left_knee": ("leftknee", "lknee", "kneel"),
        "left_ankle": ("leftankle", "lankle", "anklel"),
        "left_foot": ("leftfoot", "lfoot", "lefttoe", "ltoe", "footl"),
        "spine1": ("spine1",),
        "spine2": ("spine2",),
        "neck": ("neck",),
        "head": ("head",),
        "left_collar": ("leftcollar", "lcollar", "collarl"),
        "left_shoulder": ("leftshoulder", "lshoulder", "shoulderl"),
        "left_elbow": ("leftelbow", "lelbow", "elbowl"),
        "left_wrist": ("leftwrist", "lwrist", "wristl", "lefthand", "lhand"),
    },
    "Mixamo/CMU/Unreal": {
        "pelvis": ("hips", "pelvis", "hip", "root"),
        "left_hip": ("leftupleg", "leftthigh", "lthigh", "thighl", "leftupperleg", "lupperleg", "lefthip", "lhip"),
        "left_knee": ("leftleg", "leftshin", "lshin", "leftlowerleg", "llowerleg", "leftcalf", "lcalf",
                      "calfl", "leftknee", "lknee"),
        "left_ankle": ("leftfoot", "lfoot", "footl", "leftankle", "lankle"),
        "left_foot": ("lefttoebase", "lefttoe", "ltoe", "lefttoes", "ltoes", "balll", "toel"),
        "spine1": ("spine", "spine01"),
        "spine2": ("spine1", "spine02", "chest"),
        "neck": ("neck", "neck1", "neck01"),
        "head": ("head",),
        "left_collar": ("leftshoulder", "lshoulder", "leftclavicle", "lclavicle", "claviclel", "leftcollar",
                        "lcollar"),
        "left_shoulder": ("leftarm", "leftupperarm", "lupperarm", "upperarml", "luparm", "lshldr"),
        "left_elbow": ("leftforearm", "lforearm", "leftlowerarm", "llowerarm", "lowerarml", "leftelbow",
                       "lelbow"),
        "left_wrist": ("lefthand", "lhand", "handl", "leftwrist", "lwrist"),
    },
}


def _right_name(name: str) -> str:
    """The right-side spelling of a normalised left-side joint name."""
    for left, right in (("^left", "right"), ("left$", "right"), ("l$", "r"), ("^l", "r")):  # lowerarml: a suffix
        if re.search(left, name):
            return re.sub(left, right, name, count=1)
    return name


def _with_right_side(table: dict[str, tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    full = {}
    for joint, names in table.items():
        full[J[joint]] = names
        if joint.startswith("left_"):
            full[J["right_" + joint[5:]]] = tuple(_right_name(n) for n in names)
    return full


def normalise_name(name: str) -> str:
    """Lower case, namespace prefix (``mixamorig:``) removed, only letters and digits kept."""
    return re.sub(r"[^a-z0-9]", "", name.rsplit(":", 1)[-1].lower())


NAME_CONVENTIONS: dict[str, dict[int, tuple[str, ...]]] = {
    **{convention: _with_right_side(table) for convention, table in _LEFT_NAMES.items()},
    **{f"--rig {rig}": {j: (normalise_name(name),) for j, name in enumerate(m.names)} for rig, m in RIGS.items()},
}
"""Per naming convention, the accepted normalised source names of each of the 22 joints, in
order of preference (:func:`normalise_name` spells them); the rig maps of ``--rig``
(:mod:`motionprog.io.rigs`) are conventions too, so our exports read back."""


@dataclass(frozen=True)
class JointMap:
    """Where each of the 22 joints comes from in a source skeleton.

    source:     index of the source joint of each of the 22 joints, None when synthesised.
    convention: the naming convention that matched.
    """

    source: tuple[int | None, ...]
    convention: str


def _ancestors(parents: tuple[int, ...], joint: int) -> list[int]:
    """``joint`` and its ancestors, nearest first."""
    chain = [joint]
    while parents[chain[-1]] >= 0:
        chain.append(parents[chain[-1]])
    return chain


def _map_with(
    table: dict[int, tuple[str, ...]], names: tuple[str, ...], parents: tuple[int, ...], rest: np.ndarray
) -> list[int | None]:
    """One convention's map; required joints may stay None (reported by the caller)."""
    lookup: dict[str, int] = {}
    for index, name in enumerate(names):
        lookup.setdefault(normalise_name(name), index)
    scale = float(np.ptp(rest, axis=0).max()) or 1.0
    source: list[int | None] = [None] * skeleton.NUM_JOINTS

    def nearest_mapped_ancestor(joint: int) -> int | None:
        parent = skeleton.PARENTS[joint]
        while parent >= 0 and source[parent] is None:
            parent = skeleton.PARENTS[parent]
        return source[parent] if parent >= 0 else None

    def valid(joint: int, candidate: int) -> bool:
        """A descendant of the nearest mapped 22-ancestor, away from it (and from the next
        mapped joint of its chain, for synthesisable joints)."""
        above = nearest_mapped_ancestor(joint)
        if above is None:
            return joint == J["pelvis"]
        ancestors = _ancestors(parents, candidate)
        if above not in ancestors[1:] or np.linalg.norm(rest[candidate] - rest[above]) < 1e-6 * scale:
            return False
        below = source[_CHAIN_CHILD[joint]] if joint in _CHAIN_CHILD else None
        return below is None or (
            candidate in _ancestors(parents, below)[1:] and np.linalg.norm(rest[below] - rest[candidate]) > 1e-6 * scale
        )

    def match(joint: int) -> None:
        source[joint] = next((lookup[n] for n in table[joint] if n in lookup and valid(joint, lookup[n])), None)

    for joint in range(skeleton.NUM_JOINTS):
        if joint not in SYNTHESISABLE and joint != J["spine3"]:
            match(joint)
    left, right = source[J["left_shoulder"]], source[J["right_shoulder"]]
    if left is not None and right is not None:
        common = [a for a in _ancestors(parents, left) if a in _ancestors(parents, right)]
        source[J["spine3"]] = common[0] if common[0] != source[J["pelvis"]] else None
    for joint in SYNTHESISABLE:
        match(joint)
    return source


def map_joints(names: tuple[str, ...], parents: tuple[int, ...], rest: np.ndarray, where: str) -> JointMap:
    """Map a source skeleton onto the 22 joints by joint names.

    names, parents: the source hierarchy (parents precede children); rest: [J, 3] rest
    positions (any unit); where: the file, for messages. Raises InputError listing the
    joints that no convention could map.
    """
    candidates = {c: _map_with(t, names, parents, rest) for c, t in NAME_CONVENTIONS.items()}
    convention, source = max(candidates.items(), key=lambda item: sum(s is not None for s in item[1]))
    missing = [skeleton.JOINT_NAMES[j] for j, s in enumerate(source) if s is None and j not in SYNTHESISABLE]
    if missing:
        raise InputError(
            f"{where}: cannot map the skeleton onto the 22 joints; no joint found for "
            f"{', '.join(missing)} (joints in the file: {', '.join(names)})"
        )
    return JointMap(source=tuple(source), convention=convention)


def gather_joints(positions: np.ndarray, joint_map: JointMap) -> np.ndarray:
    """Positions of the 22 joints from source positions, missing ones interpolated.

    positions: [..., J, 3] source joint positions. Returns [..., 22, 3], same units.
    """
    out = np.zeros((*positions.shape[:-2], skeleton.NUM_JOINTS, 3))
    mapped = [j for j, s in enumerate(joint_map.source) if s is not None]
    out[..., mapped, :] = positions[..., [joint_map.source[j] for j in mapped], :]
    for joint in SYNTHESISABLE:
        if joint_map.source[joint] is not None:
            continue
        above, below = skeleton.PARENTS[joint], _CHAIN_CHILD[joint]
        while joint_map.source[below] is None:
            below = _CHAIN_CHILD[below]
        path = [below]
        while path[-1] != above:
            path.append(skeleton.PARENTS[path[-1]])
        lengths = skeleton.BONE_LENGTHS[path[:-1]]
        fraction = lengths[path.index(joint):].sum() / lengths.sum()
        out[..., joint, :] = (1.0 - fraction) * out[..., above, :] + fraction * out[..., below, :]
    return out


def frame_times(count: int, fps: float) -> np.ndarray:
    """Times in seconds [count] of ``count`` frames at ``fps``. A rate within 1e-3 of a whole
    number is taken as that number (BVH frame times are rounded, 0.0083333 s for 120 fps)."""
    fps = float(round(fps)) if abs(fps - round(fps)) < 1e-3 else float(fps)
    return np.arange(count) / fps


def resample(positions: np.ndarray, times: np.ndarray, target_fps: float = skeleton.FPS) -> np.ndarray:
    """Resample frames [F, ...] taken at increasing ``times`` [F] (seconds) to ``target_fps``
    by linear interpolation; output frame k is at ``times[0] + k / target_fps``, the last
    one within the clip. Frames falling on source frames are copied exactly."""
    if len(times) == 1:
        return positions.copy()
    elapsed = times - times[0]
    count = int(np.floor(elapsed[-1] * target_fps + 1e-6)) + 1
    x = np.minimum(np.arange(count) / target_fps, elapsed[-1])
    i1 = np.clip(np.searchsorted(elapsed, x - 1e-9, side="left"), 1, len(times) - 1)
    i0 = i1 - 1
    span = np.maximum(elapsed[i1] - elapsed[i0], 1e-12)
    w = np.clip((x - elapsed[i0]) / span, 0.0, 1.0).reshape(-1, *([1] * (positions.ndim - 1)))
    return (1.0 - w) * positions[i0] + w * positions[i1]


def fit_proportions(joints: np.ndarray, root_scale: float) -> np.ndarray:
    """Pose the rig after source joints (see the module docstring, step 4).

    joints: [..., 22, 3] source positions; root_scale: metres per source unit for the
    root's path. Returns [..., 22, 3] metres: a pose of the rig
    (:func:`motionprog.body.kinematics.project_to_skeleton`) with the root's path scaled.
    """
    joints = np.asarray(joints, dtype=np.float64)
    posed = project_to_skeleton(torch.as_tensor(joints)).numpy()
    return posed + (root_scale - 1.0) * joints[..., :1, :]


def place_on_floor(joints: np.ndarray) -> np.ndarray:
    """Turn and move a clip [T, 22, 3] (metres) to face +Z with the pelvis above the origin
    at frame 0 and its lowest foot joint at y = 0; returns [T, 22, 3]."""
    forward = facing(torch.as_tensor(joints[0], dtype=torch.float64)).numpy()
    angle = torch.tensor(-np.arctan2(forward[0], forward[2]), dtype=torch.float64)
    turned = rotate_yaw(torch.as_tensor(joints, dtype=torch.float64), angle).numpy()
    shift = np.array([turned[0, 0, 0], turned[..., list(skeleton.FOOT_JOINTS), 1].min(), turned[0, 0, 2]])
    return turned - shift


def leg_length(joints: np.ndarray) -> float:
    """Mean length of the two legs (hip -> knee -> ankle) of a pose [22, 3], in its units."""
    bones = [(J["left_hip"], J["left_knee"]), (J["left_knee"], J["left_ankle"]),
             (J["right_hip"], J["right_knee"]), (J["right_knee"], J["right_ankle"])]
    return float(sum(np.linalg.norm(joints[b] - joints[a]) for a, b in bones) / 2.0)


def retarget(
    names: tuple[str, ...],
    parents: tuple[int, ...],
    rest: np.ndarray,
    positions: np.ndarray,
    times: np.ndarray,
    where: str,
) -> np.ndarray:
    """Retarget a source clip onto the 22-joint body at 20 fps (module docstring, steps 1-5).

    names, parents: source hierarchy; rest: [J, 3] rest positions; positions: [F, J, 3]
    global positions per frame (any unit, Y up); times: [F] seconds of each frame
    (:func:`frame_times`); where: the file, for messages. Returns joints [T, 22, 3], metres,
    Y up, facing +Z at frame 0, feet on the floor, T = floor(duration * 20) + 1.
    """
    joint_map = map_joints(names, parents, rest, where)
    source_leg = leg_length(gather_joints(rest, joint_map))
    if not source_leg > 0:
        raise InputError(f"{where}: the legs of the skeleton have zero length")
    leg_bones = [J["left_knee"], J["left_ankle"], J["right_knee"], J["right_ankle"]]
    target_leg = float(skeleton.BONE_LENGTHS[leg_bones].sum() / 2.0)
    gathered = resample(gather_joints(positions, joint_map), times)
    return place_on_floor(fit_proportions(gathered, target_leg / source_leg))

