"""The body's segments, written once: landmarks, mass fractions, centres of mass, capsule radii.

Every fact about the body's solid parts lives in :data:`SEGMENTS`; the centre of mass
(:mod:`motionprog.body.mass`), the collision capsules (:mod:`motionprog.geometry.capsules`) and
the drawn body (:mod:`motionprog.render.body`) all read it, so what is drawn is what collides.

A segment runs from a proximal to a distal landmark, each a fixed linear combination of joints
(``{joint name: coefficient}``, coefficients summing to 1), so every derived point is one
constant matrix times the joints (:func:`landmark_matrix`). Masses and centres: P. de Leva (1996),
"Adjustments to Zatsiorsky-Seluyanov's segment inertia parameters", J. Biomech. 29(9):1223-1230,
Table 4, male; the centre lies at ``(1 - r) * proximal + r * distal``. Radii (metres) cover an
average adult on HumanML3D's reference skeleton.

| segment    | from - to                                   | mass %  | CM ratio | radius |
|------------|---------------------------------------------|---------|----------|--------|
| pelvis     | left_hip - right_hip                        |    -    |    -     | 0.09   |
| abdomen    | pelvis - spine2                             |    -    |    -     | 0.11   |
| chest      | spine2 - neck                               |    -    |    -     | 0.09   |
| trunk      | mid(shoulders) - mid(hips)                  | 43.46   | 0.4310   |   -    |
| neck       | neck - head                                 |    -    |    -     | 0.05   |
| head       | head - head + (head - neck)                 |  6.94   | 0        | 0.09   |
| upper arm  | shoulder - elbow                            |  2.71   | 0.5772   | 0.05   |
| forearm    | elbow - wrist                               |  1.62   | 0.4574   | 0.04   |
| hand       | wrist - MET3 = wrist + 0.3206 (wrist - elbow) |  0.61 | 0.7900   | 0.04   |
| thigh      | hip - knee                                  | 14.16   | 0.4095   | 0.06   |
| shank      | knee - ankle                                |  4.33   | 0.4395   | 0.05   |
| foot       | ankle - foot (ball of the foot)             |  1.37   | 0.4415   | 0.04   |

The mass fractions sum to 100 % (head + trunk + 2 x each limb segment). de Leva's trunk is one
rigid segment; for collisions it is three capsules (pelvis, abdomen, chest) that carry no mass of
their own, and the trunk has no capsule. The head's centre (50 % of vertex-C7, about 12 cm above
C7) is placed at the SMPL head joint, the start of the head capsule.

The hand ends at MET3 (the third knuckle), 86.2/268.9 = 0.3206 of the forearm past the wrist:
de Leva's mean male hand (WJC-MET3, 86.2 mm) over forearm (EJC-WJC, 268.9 mm) length. An earlier
capsule table used a rounded 0.35 with no source; the measured ratio now serves the centre of
mass and the capsule alike (with its 4 cm cap the capsule reaches about 13 cm past the wrist).
Joint order and units follow :mod:`motionprog.body.skeleton` (metres, Y up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from motionprog.body.skeleton import JOINT_INDEX, NUM_JOINTS

Landmark = Mapping[str, float]
"""A point of the body as {joint name: coefficient}, coefficients summing to 1."""

HAND_EXTENSION = 86.2 / 268.9
"""de Leva's mean male hand length (WJC-MET3, 86.2 mm) over forearm length (EJC-WJC, 268.9 mm)."""


@dataclass(frozen=True)
class Segment:
    """One solid part of the body.

    proximal, distal: its axis ends as landmarks. radius: capsule radius in metres, None when the
    segment is not a collision capsule. mass_fraction: share of body mass (0: carries none).
    com_ratio: where its centre of mass lies on the axis, from the proximal end.
    """

    name: str
    proximal: Landmark
    distal: Landmark
    radius: float | None
    mass_fraction: float = 0.0
    com_ratio: float = 0.5


def _limbs(side: str) -> tuple[Segment, ...]:
    s = side
    hand_end = {f"{s}_wrist": 1.0 + HAND_EXTENSION, f"{s}_elbow": -HAND_EXTENSION}
    return (
        Segment(f"{s}_upper_arm", {f"{s}_shoulder": 1.0}, {f"{s}_elbow": 1.0}, 0.05, 0.0271, 0.5772),
        Segment(f"{s}_forearm", {f"{s}_elbow": 1.0}, {f"{s}_wrist": 1.0}, 0.04, 0.0162, 0.4574),
        Segment(f"{s}_hand", {f"{s}_wrist": 1.0}, hand_end, 0.04, 0.0061, 0.7900),
        Segment(f"{s}_thigh", {f"{s}_hip": 1.0}, {f"{s}_knee": 1.0}, 0.06, 0.1416, 0.4095),
        Segment(f"{s}_shank", {f"{s}_knee": 1.0}, {f"{s}_ankle": 1.0}, 0.05, 0.0433, 0.4395),
        Segment(f"{s}_foot", {f"{s}_ankle": 1.0}, {f"{s}_foot": 1.0}, 0.04, 0.0137, 0.4415),
    )


SEGMENTS: tuple[Segment, ...] = (
    Segment("pelvis", {"left_hip": 1.0}, {"right_hip": 1.0}, 0.09),
    Segment("abdomen", {"pelvis": 1.0}, {"spine2": 1.0}, 0.11),
    Segment("chest", {"spine2": 1.0}, {"neck": 1.0}, 0.09),
    Segment("trunk", {"left_shoulder": 0.5, "right_shoulder": 0.5}, {"left_hip": 0.5, "right_hip": 0.5}, None,
            0.4346, 0.4310),
    Segment("neck", {"neck": 1.0}, {"head": 1.0}, 0.05),
    Segment("head", {"head": 1.0}, {"head": 2.0, "neck": -1.0}, 0.09, 0.0694, 0.0),
    *_limbs("left"),
    *_limbs("right"),
)
"""Every segment of the body (see the module table)."""

CAPSULES: tuple[Segment, ...] = tuple(s for s in SEGMENTS if s.radius is not None)
"""The 17 collision capsules, in table order."""

MASSES: tuple[Segment, ...] = tuple(s for s in SEGMENTS if s.mass_fraction > 0)
"""The 14 segments of de Leva's model, in table order."""


def landmark_matrix(landmarks: Sequence[Landmark]) -> np.ndarray:
    """[L, 22] matrix whose row l gives landmark l as a combination of joints: ``M @ joints``."""
    matrix = np.zeros((len(landmarks), NUM_JOINTS))
    for row, landmark in enumerate(landmarks):
        for name, coefficient in landmark.items():
            matrix[row, JOINT_INDEX[name]] += coefficient
    return matrix


CAPSULE_START = landmark_matrix([c.proximal for c in CAPSULES])
"""[17, 22]: capsule start points = CAPSULE_START @ joints."""
CAPSULE_END = landmark_matrix([c.distal for c in CAPSULES])
"""[17, 22]: capsule end points = CAPSULE_END @ joints."""
CAPSULE_RADII = np.array([c.radius for c in CAPSULES])
"""[17] capsule radii, metres."""
