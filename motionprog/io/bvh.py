"""BVH files: parse any skeleton, forward kinematics with Euler channels, read and write Motions.

BVH conventions used here:
- a rotation channel list such as ``Zrotation Yrotation Xrotation`` means the local rotation
  ``R = Rz @ Ry @ Rx`` (intrinsic axes in the listed order), angles in degrees, applied to
  column vectors; a joint's global rotation is its parent's global rotation times its own;
- position channels (``Xposition`` ...) may appear on any joint; where present they replace
  the matching component of the joint's OFFSET (for the root that makes them absolute);
- an ``End Site`` becomes a joint named ``<parent>_end`` with no channels.

:func:`read_bvh` retargets onto the 22-joint skeleton at 20 fps (``motionprog.io.retarget``);
:func:`write_bvh` writes the rig (``skeleton.RIG_OFFSETS``, a T-pose standing on the floor) with
``Zrotation Yrotation Xrotation`` channels on every joint and root position channels, in
metres, one frame per motion frame.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from motionprog.body import skeleton
from motionprog.body.rotations import quat_to_matrix
from motionprog.errors import InputError
from motionprog.io.atomic import write_text
from motionprog.io.limits import (
    MAX_BVH_BYTES,
    MAX_BVH_JOINT_FRAMES,
    MAX_BVH_JOINTS,
    MAX_BVH_VALUES,
    MAX_MOTION_SECONDS,
    MIN_FRAME_TIME,
    check_file_size,
)
from motionprog.io.retarget import frame_times, retarget
from motionprog.io.rigs import DEFAULT_RIG, BoneLayout, RigMap, bone_layout
from motionprog.motion import Motion

POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")
END_SUFFIX = "_end"


@dataclass(frozen=True)
class BvhSkeleton:
    """A parsed BVH file, in the file's own units and frame rate.

    names:      joint names in file order (parents precede children); end sites are
                named ``<parent>_end``.
    parents:    parent index of each joint, -1 for the root.
    offsets:    float64 [J, 3], each joint's OFFSET from its parent, file units.
    channels:   the channel names of each joint (empty for end sites).
    motion:     float64 [F, C], the MOTION values, C = total number of channels.
    frame_time: seconds per frame.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    motion: np.ndarray
    frame_time: float

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    def channel_columns(self) -> list[np.ndarray]:
        """The MOTION column indices of each joint's channels, in file order."""
        sizes = np.array([len(c) for c in self.channels], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return [np.arange(s, s + n) for s, n in zip(starts, sizes)]

    def rest_positions(self) -> np.ndarray:
        """Joint positions in the rest pose (all channels zero but root at origin); [J, 3]."""
        positions = np.zeros_like(self.offsets)
        for j, p in enumerate(self.parents):
            positions[j] = self.offsets[j] + (positions[p] if p >= 0 else 0.0)
        return positions


def euler_to_matrix(angles_deg: np.ndarray, axes: str) -> np.ndarray:
    """Rotation matrices of intrinsic Euler angles, R = R_axes[0] @ R_axes[1] @ ...

    angles_deg: [..., len(axes)] degrees; axes: e.g. "ZYX". Returns [..., 3, 3].
    """
    if not axes:
        return np.broadcast_to(np.eye(3), (*angles_deg.shape[:-1], 3, 3)).copy()
    flat = angles_deg.reshape(-1, len(axes))
    matrices = Rotation.from_euler(axes.upper(), flat, degrees=True).as_matrix()
    return matrices.reshape(*angles_deg.shape[:-1], 3, 3)


def matrix_to_euler(matrices: np.ndarray, axes: str) -> np.ndarray:
    """Intrinsic Euler angles in degrees of rotation matrices [..., 3, 3]; [..., len(axes)]."""
    flat = matrices.reshape(-1, 3, 3)
    with warnings.catch_warnings():  # at gimbal lock any of the equivalent angle sets will do
        warnings.filterwarnings("ignore", "Gimbal lock", UserWarning)
        angles = Rotation.from_matrix(flat).as_euler(axes.upper(), degrees=True)
    return angles.reshape(*matrices.shape[:-2], len(axes))


def local_transforms(skeleton: BvhSkeleton) -> tuple[np.ndarray, np.ndarray]:
    """Each joint's local rotation and translation from the MOTION channels.

    Returns (rotations [F, J, 3, 3], translations [F, J, 3] in file units).
    """
    frames, joints = skeleton.num_frames, len(skeleton.names)
    rotations = np.empty((frames, joints, 3, 3))
    translations = np.broadcast_to(skeleton.offsets, (frames, joints, 3)).copy()
    for j, (names, columns) in enumerate(zip(skeleton.channels, skeleton.channel_columns())):
        rot_cols = [c for n, c in zip(names, columns) if n in ROTATION_CHANNELS]
        axes = "".join(n[0] for n in names if n in ROTATION_CHANNELS)
        rotations[:, j] = euler_to_matrix(skeleton.motion[:, rot_cols], axes)
        for name, column in zip(names, columns):
            if name in POSITION_CHANNELS:
                translations[:, j, POSITION_CHANNELS.index(name)] = skeleton.motion[:, column]
    return rotations, translations


def forward_kinematics(
    parents: tuple[int, ...], rotations: np.ndarray, translations: np.ndarray
) -> np.ndarray:
    """Global joint positions of a BVH hierarchy, batched over frames.

    parents: parent index per joint (parents first); rotations: [F, J, 3, 3] local;
    translations: [F, J, 3] local offsets (file units). Returns positions [F, J, 3].
    """
    global_rot = np.empty_like(rotations)
    positions = np.empty_like(translations)
    for j, p in enumerate(parents):
        if p < 0:
            global_rot[:, j] = rotations[:, j]
            positions[:, j] = translations[:, j]
        else:
            global_rot[:, j] = global_rot[:, p] @ rotations[:, j]
            positions[:, j] = positions[:, p] + np.einsum("fab,fb->fa", global_rot[:, p], translations[:, j])
    return positions


def global_positions(skeleton: BvhSkeleton) -> np.ndarray:
    """Global positions of every joint (end sites included) per frame; [F, J, 3], file units."""
    return forward_kinematics(skeleton.parents, *local_transforms(skeleton))


class _Lines:
    """The file's non-blank lines as (line number, text), consumed front to back; a line is
    split into tokens only when read, so an oversized MOTION section costs nothing."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        self.pos = 0

    def error(self, line: int | None, message: str) -> InputError:
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        return InputError(f"{where}: {message}")

    def next(self, what: str) -> tuple[int, list[str]]:
        if self.pos >= len(self.lines):
            last = self.lines[-1][0] if self.lines else None
            raise self.error(last, f"unexpected end of file, expected {what}")
        n, line = self.lines[self.pos]
        self.pos += 1
        return n, line.split()

    def numbers(self, line: int, tokens: list[str], what: str) -> list[float]:
        try:
            return [float(t) for t in tokens]
        except ValueError:
            bad = next(t for t in tokens if not _is_number(t))
            raise self.error(line, f"non-numeric value {bad!r} in {what}") from None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _open_joint(lines: _Lines, line: int, name: str, parent: int, out: dict[str, list]) -> int:
    """Add a joint whose header was read, consume its '{' and return its index."""
    if len(out["names"]) >= MAX_BVH_JOINTS:
        raise lines.error(line, f"more than {MAX_BVH_JOINTS} joints (the limit on a BVH hierarchy)")
    out["names"].append(name)
    out["parents"].append(parent)
    out["offsets"].append(np.zeros(3))
    out["channels"].append(())
    n, tokens = lines.next("'{'")
    if tokens != ["{"]:
        raise lines.error(n, f"expected '{{' after joint {name!r}, got {' '.join(tokens)!r}")
    return len(out["names"]) - 1


def _channels(lines: _Lines, line: int, tokens: list[str], name: str) -> tuple[str, ...]:
    """The channel names of a ``CHANNELS <count> <names...>`` line."""
    if len(tokens) < 2 or not tokens[1].isdecimal():
        raise lines.error(line, f"CHANNELS of {name!r} needs a whole channel count, got {' '.join(tokens[1:2])!r}")
    names = tuple(tokens[2:])
    if int(tokens[1]) != len(names):
        raise lines.error(line, f"CHANNELS of {name!r} declares {tokens[1]} channels but lists {len(names)}")
    unknown = [c for c in names if c not in POSITION_CHANNELS + ROTATION_CHANNELS]
    if unknown:
        raise lines.error(line, f"unknown channel {unknown[0]!r} on joint {name!r}")
    return names


def _parse_hierarchy(lines: _Lines, line: int, root: str) -> dict[str, list]:
    """Parse the ROOT block whose header was read and every block nested in it (a stack, not
    recursion, so deep nesting is refused by the joint limit rather than by Python)."""
    out: dict[str, list] = {"names": [], "parents": [], "offsets": [], "channels": []}
    open_joints = [_open_joint(lines, line, root, -1, out)]
    while open_joints:
        index = open_joints[-1]
        name = out["names"][index]
        n, tokens = lines.next(f"'}}' closing joint {name!r}")
        key = tokens[0].upper()
        if key == "OFFSET":
            if len(tokens) != 4:
                raise lines.error(n, f"OFFSET of {name!r} needs 3 values, got {len(tokens) - 1}")
            out["offsets"][index] = np.array(lines.numbers(n, tokens[1:], f"OFFSET of {name!r}"))
            if not np.isfinite(out["offsets"][index]).all():
                raise lines.error(n, f"OFFSET of {name!r} is not finite")
        elif key == "CHANNELS":
            out["channels"][index] = _channels(lines, n, tokens, name)
        elif key == "JOINT":
            if len(tokens) < 2:
                raise lines.error(n, "JOINT without a name")
            open_joints.append(_open_joint(lines, n, " ".join(tokens[1:]), index, out))
        elif key == "END":
            open_joints.append(_open_joint(lines, n, name + END_SUFFIX, index, out))
        elif tokens == ["}"]:
            open_joints.pop()
        else:
            raise lines.error(n, f"unexpected {' '.join(tokens)!r} in joint {name!r}")
    return out


def _check_size(lines: _Lines, line: int, frames: int, frame_time: float, joints: int, width: int) -> None:
    """Refuse a MOTION section over the limits of :mod:`motionprog.io.limits` before reading it."""
    if not (np.isfinite(frame_time) and frame_time >= MIN_FRAME_TIME):
        raise lines.error(line, f"Frame Time must be at least {MIN_FRAME_TIME:g} s, got {frame_time:g}")
    if frames * frame_time > MAX_MOTION_SECONDS:
        raise lines.error(line, f"{frames} frames of {frame_time:g} s last {frames * frame_time:.0f} s, "
                                f"over the limit of {MAX_MOTION_SECONDS:g} s")
    if frames * width > MAX_BVH_VALUES or frames * joints > MAX_BVH_JOINT_FRAMES:
        raise lines.error(line, f"{frames} frames of {width} channels and {joints} joints are over the limits "
                                f"({MAX_BVH_VALUES} values, {MAX_BVH_JOINT_FRAMES} joint poses)")


def read_bvh_skeleton(path: str | os.PathLike) -> BvhSkeleton:
    """Parse a BVH file of any skeleton; raises InputError naming the file, line and defect.

    The limits of :mod:`motionprog.io.limits` (file size, joints, frames times channels and
    joints, duration) are checked before the frames are read.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        check_file_size(path, MAX_BVH_BYTES)
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    lines = _Lines(path, text)
    n, tokens = lines.next("HIERARCHY")
    if tokens != ["HIERARCHY"]:
        raise lines.error(n, "not a BVH file (expected HIERARCHY)")
    n, tokens = lines.next("ROOT")
    if len(tokens) < 2 or tokens[0] != "ROOT":
        raise lines.error(n, f"expected ROOT <name>, got {' '.join(tokens)!r}")
    out = _parse_hierarchy(lines, n, " ".join(tokens[1:]))
    n, tokens = lines.next("MOTION")
    if tokens != ["MOTION"]:
        raise lines.error(n, f"expected MOTION after the hierarchy, got {' '.join(tokens)!r}")
    n, tokens = lines.next("Frames:")
    if tokens[:1] != ["Frames:"] or len(tokens) != 2 or not tokens[1].isdecimal():
        raise lines.error(n, f"expected 'Frames: <count>', got {' '.join(tokens)!r}")
    frames = int(tokens[1])
    if frames < 1:
        raise lines.error(n, "the file declares no frames")
    n, tokens = lines.next("Frame Time:")
    if tokens[:2] != ["Frame", "Time:"] or len(tokens) != 3:
        raise lines.error(n, f"expected 'Frame Time: <seconds>', got {' '.join(tokens)!r}")
    frame_time = lines.numbers(n, tokens[2:], "Frame Time")[0]
    width = sum(len(c) for c in out["channels"])
    _check_size(lines, n, frames, frame_time, len(out["names"]), width)
    return _skeleton(out, _motion_values(lines, frames, width), frame_time)


def _motion_values(lines: _Lines, frames: int, width: int) -> np.ndarray:
    """The MOTION rows after the header: float64 [frames, width], finite."""
    rows = lines.lines[lines.pos:]
    if len(rows) < frames:
        last = rows[-1][0] if rows else lines.lines[lines.pos - 1][0]
        raise lines.error(last, f"truncated: {frames} frames declared, {len(rows)} found")
    if len(rows) > frames:
        raise lines.error(rows[frames][0], f"more frame lines than the {frames} declared")
    motion = np.empty((frames, width))
    for frame, (n, row) in enumerate(rows):
        tokens = row.split()
        if len(tokens) != width:
            raise lines.error(n, f"frame has {len(tokens)} values, expected {width} (one per channel)")
        motion[frame] = lines.numbers(n, tokens, "frame")
        if not np.isfinite(motion[frame]).all():
            raise lines.error(n, "frame contains a non-finite value")
    return motion


def _skeleton(out: dict[str, list], motion: np.ndarray, frame_time: float) -> BvhSkeleton:
    return BvhSkeleton(
        names=tuple(out["names"]),
        parents=tuple(out["parents"]),
        offsets=np.array(out["offsets"], dtype=np.float64),
        channels=tuple(out["channels"]),
        motion=motion,
        frame_time=float(frame_time),
    )


def read_bvh(path: str | os.PathLike) -> Motion:
    """A BVH file of any mapped skeleton as a Motion: 22 joints, metres, Y up, 20 fps,
    facing +Z at the start, feet on the floor (see :mod:`motionprog.io.retarget`)."""
    bvh = read_bvh_skeleton(path)
    times = frame_times(bvh.num_frames, bvh.fps)
    joints = retarget(bvh.names, bvh.parents, bvh.rest_positions(), global_positions(bvh), times, str(path))
    return Motion(joints=joints, fps=skeleton.FPS, metadata={"source": Path(path).name})


EXPORT_AXES = "ZYX"
"""Rotation channel order of exported files: ``Zrotation Yrotation Xrotation``."""


def export_order(layout: BoneLayout) -> list[int]:
    """The bones of ``layout`` in the order they appear in an exported file (depth first)."""
    children = [[c for c, p in enumerate(layout.parents) if p == b] for b in range(len(layout.names))]

    def depth_first(bone: int) -> list[int]:
        return [bone] + [d for c in children[bone] for d in depth_first(c)]

    return depth_first(layout.parents.index(-1))


EXPORT_ORDER: tuple[int, ...] = tuple(export_order(bone_layout()))
"""The 22 joints in the order they appear in a file exported without ``--rig`` (depth first)."""


def _positioned(layout: BoneLayout, bone: int) -> bool:
    """Whether ``bone`` has position channels: the root, and the pelvis under an added root."""
    return layout.parents[bone] < 0 or layout.joints[bone] == 0


def _format_hierarchy(layout: BoneLayout) -> list[str]:
    """The HIERARCHY section: ``layout`` depth first; each leaf ends half its joint's bone further on."""
    lines = ["HIERARCHY"]
    rotation = " ".join(f"{axis}rotation" for axis in EXPORT_AXES)
    depth = {-1: -1}
    order = export_order(layout)
    for i, bone in enumerate(order):
        depth[bone] = depth[layout.parents[bone]] + 1
        pad = "  " * depth[bone]
        x, y, z = layout.offsets[bone]
        channels = f"CHANNELS 6 Xposition Yposition Zposition {rotation}" if _positioned(layout, bone) \
            else f"CHANNELS 3 {rotation}"
        lines.extend([f"{pad}{'ROOT' if bone == order[0] else 'JOINT'} {layout.names[bone]}", f"{pad}{{",
                      f"{pad}  OFFSET {x:.6f} {y:.6f} {z:.6f}", f"{pad}  {channels}"])
        if bone not in layout.parents:
            x, y, z = 0.5 * skeleton.RIG_OFFSETS[layout.joints[bone]]
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {x:.6f} {y:.6f} {z:.6f}", f"{pad}  }}"])
        following = depth[layout.parents[order[i + 1]]] if i + 1 < len(order) else -1
        lines.extend(f"{'  ' * d}}}" for d in range(depth[bone], following, -1))
    return lines


def format_bvh(motion: Motion, rig: RigMap = DEFAULT_RIG) -> str:
    """The text of a BVH file of ``motion`` on the rig, its bones named by ``rig``: metres, Y up,
    ``Zrotation Yrotation Xrotation`` in degrees (the motion's rig rotations,
    ``Motion.rig_rotations``; none on bones the map adds), position channels on the root and the
    pelvis (the pelvis position, absolute). The rest pose is the rig's T-pose standing on the
    floor: the pelvis's OFFSET is the bind pose's pelvis (0.91 m up), the others ``RIG_OFFSETS``."""
    layout = bone_layout(rig)
    local = quat_to_matrix(torch.as_tensor(motion.rig_rotations(), dtype=torch.float64)).numpy()
    columns = []
    for bone in export_order(layout):
        joint = layout.joints[bone]
        if _positioned(layout, bone):
            columns.append(motion.joints[:, 0].astype(np.float64) if joint == 0 else np.zeros((motion.num_frames, 3)))
        columns.append(matrix_to_euler(local[:, joint], EXPORT_AXES) if joint >= 0
                       else np.zeros((motion.num_frames, 3)))
    values = np.concatenate(columns, axis=1)
    body = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in values)
    header = [*_format_hierarchy(layout), "MOTION", f"Frames: {motion.num_frames}",
              f"Frame Time: {1.0 / motion.fps:.8f}"]
    return "\n".join(header) + "\n" + body + "\n"


def write_bvh(motion: Motion, path: str | os.PathLike, rig: RigMap = DEFAULT_RIG) -> None:
    """Write ``motion`` as a BVH file (:func:`format_bvh`), atomically."""
    write_text(path, format_bvh(motion, rig))
