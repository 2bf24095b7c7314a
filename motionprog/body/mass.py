"""Whole-body centre of mass of the 22-joint skeleton from published segment parameters.

Source: P. de Leva (1996), "Adjustments to Zatsiorsky-Seluyanov's segment inertia parameters",
Journal of Biomechanics 29(9):1223-1230, Table 4, male values. Each segment's mass is a fraction
of the body mass; its centre lies on the line from its proximal to its distal landmark at the
published ratio (from the proximal end):

| segment   | landmarks (de Leva)          | our joints                          | mass % | CM ratio |
|-----------|------------------------------|-------------------------------------|--------|----------|
| head+neck | VERT - CERV                  | the head joint (see below)          |  6.94  |    -     |
| trunk     | MIDS - MIDH (mid-shoulders to mid-hips) | mid(shoulders) - mid(hips) | 43.46  |  0.4310  |
| upper arm | SJC - EJC                    | shoulder - elbow                    |  2.71  |  0.5772  |
| forearm   | EJC - WJC                    | elbow - wrist                       |  1.62  |  0.4574  |
| hand      | WJC - MET3                   | wrist - MET3 (see below)            |  0.61  |  0.7900  |
| thigh     | HJC - KJC                    | hip - knee                          | 14.16  |  0.4095  |
| shank     | KJC - AJC                    | knee - ankle                        |  4.33  |  0.4395  |
| foot      | HEEL - TTIP                  | ankle - foot (ball of the foot)     |  1.37  |  0.4415  |

The fractions sum to 100 % (head + trunk + 2 x each limb segment). The skeleton lacks three
landmarks, approximated as follows: the head's centre (50 % of VERT-CERV from the vertex, about
12 cm above C7) is placed at the SMPL head joint (10 cm above the neck joint); MET3 lies on the
forearm's extension at 86.2/268.9 of the forearm length past the wrist (de Leva's mean male hand
and forearm lengths); the foot's heel-to-toe-tip line is replaced by ankle-to-ball.

Every landmark is a fixed linear combination of joints, so the centre of mass is one weighted
sum ``com = sum_j w_j * joints_j`` with ``sum_j w_j = 1``: linear, exact to differentiate, cheap.
Joint order and units follow :mod:`motionprog.body.skeleton` (metres, Y up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from motionprog.body.skeleton import JOINT_INDEX, NUM_JOINTS

HAND_TO_FOREARM = 86.2 / 268.9
"""de Leva's mean male hand length (WJC-MET3, 86.2 mm) over forearm length (EJC-WJC, 268.9 mm)."""


@dataclass(frozen=True)
class Segment:
    """A body segment: its mass fraction and its centre ``(1 - r) * proximal + r * distal``.

    proximal, distal: landmarks as {joint name: coefficient} (coefficients sum to 1).
    """

    name: str
    mass_fraction: float
    proximal: Mapping[str, float]
    distal: Mapping[str, float]
    com_ratio: float


def _limbs(side: str) -> tuple[Segment, ...]:
    s = side
    return (
        Segment(f"{s}_upper_arm", 0.0271, {f"{s}_shoulder": 1.0}, {f"{s}_elbow": 1.0}, 0.5772),
        Segment(f"{s}_forearm", 0.0162, {f"{s}_elbow": 1.0}, {f"{s}_wrist": 1.0}, 0.4574),
        Segment(f"{s}_hand", 0.0061, {f"{s}_wrist": 1.0},
                {f"{s}_wrist": 1.0 + HAND_TO_FOREARM, f"{s}_elbow": -HAND_TO_FOREARM}, 0.7900),
        Segment(f"{s}_thigh", 0.1416, {f"{s}_hip": 1.0}, {f"{s}_knee": 1.0}, 0.4095),
        Segment(f"{s}_shank", 0.0433, {f"{s}_knee": 1.0}, {f"{s}_ankle": 1.0}, 0.4395),
        Segment(f"{s}_foot", 0.0137, {f"{s}_ankle": 1.0}, {f"{s}_foot": 1.0}, 0.4415),
    )


SEGMENTS: tuple[Segment, ...] = (
    Segment("head", 0.0694, {"neck": 1.0}, {"head": 1.0}, 1.0),
    Segment("trunk", 0.4346, {"left_shoulder": 0.5, "right_shoulder": 0.5}, {"left_hip": 0.5, "right_hip": 0.5}, 0.4310),
    *_limbs("left"),
    *_limbs("right"),
)
"""The 14 segments of the de Leva (1996) male model on our skeleton."""


def landmark_matrix(landmarks: Sequence[Mapping[str, float]]) -> np.ndarray:
    """[L, 22] matrix whose row l gives landmark l as a combination of joints: ``M @ joints``.

    Each landmark is {joint name: coefficient}, e.g. {"left_hip": 0.5, "right_hip": 0.5}.
    """
    matrix = np.zeros((len(landmarks), NUM_JOINTS))
    for row, landmark in enumerate(landmarks):
        for name, coefficient in landmark.items():
            matrix[row, JOINT_INDEX[name]] += coefficient
    return matrix


SEGMENT_MATRIX = (
    (1 - np.array([s.com_ratio for s in SEGMENTS]))[:, None] * landmark_matrix([s.proximal for s in SEGMENTS])
    + np.array([s.com_ratio for s in SEGMENTS])[:, None] * landmark_matrix([s.distal for s in SEGMENTS])
)
"""[14, 22]: segment centres = SEGMENT_MATRIX @ joints; each row sums to 1."""


def com_weights(include_head: bool = True, loads: Mapping[int, float] | None = None) -> np.ndarray:
    """Weights [22] (summing to 1) with ``com = weights @ joints``.

    include_head: False drops the head segment and renormalises the rest.
    loads: extra point masses at joints, {joint index: mass as a fraction of body mass}
           (e.g. a ball held in both hands: {20: 0.05, 21: 0.05}).
    """
    fractions = np.array([s.mass_fraction for s in SEGMENTS])
    if not include_head:
        fractions[[s.name for s in SEGMENTS].index("head")] = 0.0
    weights = fractions @ SEGMENT_MATRIX
    for joint, mass in (loads or {}).items():
        weights[joint] += mass
    return weights / weights.sum()


def segment_centres(joints: Tensor) -> Tensor:
    """Centre of mass of each segment (order of ``SEGMENTS``).

    joints: [..., 22, 3] metres -> [..., 14, 3] metres.
    """
    return torch.as_tensor(SEGMENT_MATRIX, dtype=joints.dtype, device=joints.device) @ joints


def com(joints: Tensor, include_head: bool = True, loads: Mapping[int, float] | None = None) -> Tensor:
    """Whole-body centre of mass, the mass-weighted mean of the segment centres.

    joints: [..., 22, 3] metres (Y up) -> [..., 3] metres. See :func:`com_weights` for options.
    """
    weights = torch.as_tensor(com_weights(include_head, loads), dtype=joints.dtype, device=joints.device)
    return torch.einsum("j,...jc->...c", weights, joints)
