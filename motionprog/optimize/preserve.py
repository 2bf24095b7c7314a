"""What an edit keeps: which frames the program asks to change, how strongly every other frame
holds the input, and how far the result moved from it (the report's ``moved``).

The frames to change are those where the input itself violates a hard constraint the program
states (per-frame margin below 0, within the constraint's window), and every frame of an
objective's window. The preservation weight is 0 there and rises smoothly (a smoothstep over
``radius`` frames) to 1 further away, so the result may move near the edit and holds the
input elsewhere. Only frames whose weight is below 1 may change at all, and only frames of
its window when the program says ``keep outside a .. b``; the change fades in and out at the
edges of what may change (:func:`change_scale`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from motionprog.body.quantities import acceleration, velocity
from motionprog.body.skeleton import FPS, JOINT_NAMES, PARENTS
from motionprog.numerics import safe_norm

if TYPE_CHECKING:
    from motionprog.lang.program import Program

POSITION_SCALE = 0.05
"""m: a joint this far from the input at a fully kept frame costs 1 (per joint, squared)."""
VELOCITY_SCALE = 0.5
"""m/s: a joint velocity this far from the input's at a fully kept frame costs 1."""
ACCELERATION_SCALE = 10.0
"""m/s^2: a joint acceleration this far from the input's costs 1 (per joint and frame, squared)."""
MOVED_THRESHOLD = 0.01
"""m: a frame whose farthest joint moved more than this counts as moved in the report."""


def edit_frames(program: Program, joints: Tensor) -> Tensor:
    """[T] bool: the frames the program asks to change on the input joints [1, T, 22, 3]
    (module doc); none when the input already satisfies every constraint."""
    with torch.no_grad():
        margins, per_frame = program.margins(joints)[0], program.per_frame_margins(joints)[0]
    objective = torch.tensor([c.kind == "objective" for c in program.constraints], dtype=torch.bool)
    failing = (margins < 0).cpu() & ~objective
    window = ~torch.isnan(per_frame).cpu()
    wanted = (window & objective[:, None]) | (window & failing[:, None] & (per_frame.cpu() < 0))
    return wanted.any(0) if len(program.constraints) else torch.zeros(program.frames, dtype=torch.bool)


def free_frames(program: Program, weights: Tensor) -> Tensor:
    """[T] bool: the frames the edit may change at all: those of ``keep``'s window, else those
    whose preservation weight [T] is below 1."""
    if program.changes is None:
        return weights < 1
    free = torch.zeros(program.frames, dtype=torch.bool)
    free[list(program.changes)] = True
    return free


def preservation_weights(wanted: Tensor, radius: float) -> Tensor:
    """[T] weights in [0, 1]: 0 on the ``wanted`` frames [T] bool, rising by a smoothstep to 1 at
    ``radius`` frames from the nearest of them (all 1 when none is wanted)."""
    frames = torch.arange(wanted.shape[0], dtype=torch.float32)
    if not wanted.any():
        return torch.ones_like(frames)
    distance = (frames[:, None] - frames[wanted][None, :]).abs().amin(1)
    u = (distance / max(radius, 1.0)).clamp(max=1.0)
    return u * u * (3 - 2 * u)


def change_scale(free: Tensor, weights: Tensor, taper: float) -> Tensor:
    """[T] in [0, 1]: how much of the feature correction each frame takes: ``1 - weights`` [T],
    times a smoothstep that rises from 0 at the first and last free frame over ``taper``
    frames (0 where ``free`` [T] bool is false). The result is continuous at the edges of
    what may change: a frame next to a kept one differs from the input by little."""
    frames = torch.arange(free.shape[0], dtype=torch.float32)
    if not free.any():
        return torch.zeros_like(frames)
    kept = torch.cat([frames[~free], torch.tensor([-1.0, float(free.shape[0])])])
    u = ((frames[:, None] - kept[None, :]).abs().amin(1) / max(taper, 1.0)).clamp(max=1.0)
    return (1 - weights.cpu()) * u * u * (3 - 2 * u)


def preservation(joints: Tensor, reference: Tensor, weights: Tensor) -> Tensor:
    """[B] cost of moving joints [B, T, 22, 3] away from the input ``reference`` [1, T, 22, 3]:
    per frame, the mean over joints of the squared position and velocity differences over
    their scales, times the frame's weight [T], summed over frames."""
    position = (joints - reference).pow(2).sum(-1).mean(-1) / POSITION_SCALE**2
    speed = (velocity(joints, fps=FPS, dim=1) - velocity(reference, fps=FPS, dim=1)).pow(2).sum(-1).mean(-1)
    return ((position + speed / VELOCITY_SCALE**2) * weights.to(joints)).sum(-1)


def acceleration_change(joints: Tensor, reference: Tensor) -> Tensor:
    """[B] the squared change of every joint's acceleration from the input's [1, T, 22, 3],
    over ``ACCELERATION_SCALE``, averaged over joints and summed over frames (every frame, the
    edited ones too: a change must be smooth, so a reach is a motion and not a one-frame spike)."""
    change = acceleration(joints, fps=FPS, dim=1) - acceleration(reference, fps=FPS, dim=1)
    return (change.pow(2).sum(-1).mean(-1) / ACCELERATION_SCALE**2).sum(-1)


def bones(joints: Tensor) -> tuple[Tensor, Tensor]:
    """(lengths [B, T, 21] metres, unit directions [B, T, 21, 3]) of every bone, parent to child."""
    children = [j for j, parent in enumerate(PARENTS) if parent >= 0]
    vectors = joints[:, :, children] - joints[:, :, [PARENTS[j] for j in children]]
    lengths = safe_norm(vectors)
    return lengths, vectors / lengths.clamp_min(1e-6)[..., None]


def bone_change(joints: Tensor, reference: Tensor) -> tuple[Tensor, Tensor]:
    """[B] each: the squared change of every bone's length (m^2) and of its direction (squared
    distance of unit vectors) from the input's, summed over bones and frames. The direction
    term is quadratic per bone, so a change of pose spread over a chain of bones costs less
    than the same change made by one bone (a duck bends the spine, not only the neck)."""
    (length, direction), (length_in, direction_in) = bones(joints), bones(reference)
    return (length - length_in).pow(2).sum((1, 2)), (direction - direction_in).pow(2).sum((1, 2, 3))


def frame_ranges(moved: list[bool]) -> list[list[int]]:
    """Runs of true values as [first, last] frame pairs."""
    runs: list[list[int]] = []
    for frame, flag in enumerate(moved):
        if flag and runs and runs[-1][1] == frame - 1:
            runs[-1][1] = frame
        elif flag:
            runs.append([frame, frame])
    return runs


def moved_report(joints: Tensor, reference: Tensor) -> dict[str, Any]:
    """How far joints [1, T, 22, 3] moved from the input [1, T, 22, 3] (metres): the mean and
    max over all, per joint, and the frames whose farthest joint moved more than
    ``MOVED_THRESHOLD`` as [first, last] ranges (frames and seconds)."""
    distance = (joints - reference.to(joints)).norm(dim=-1)[0].double().cpu()  # [T, 22]
    ranges = frame_ranges((distance.amax(1) > MOVED_THRESHOLD).tolist())
    return {
        "mean_m": round(float(distance.mean()), 5),
        "max_m": round(float(distance.max()), 5),
        "per_joint": {name: {"mean_m": round(float(distance[:, j].mean()), 5),
                             "max_m": round(float(distance[:, j].max()), 5)} for j, name in enumerate(JOINT_NAMES)},
        "threshold_m": MOVED_THRESHOLD,
        "frames": ranges,
        "seconds": [[round(a / FPS, 2), round(b / FPS, 2)] for a, b in ranges],
        "frames_moved": int(sum(b - a + 1 for a, b in ranges)),
    }
