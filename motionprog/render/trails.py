"""Trails: the path of a joint over the whole motion, drawn as a thin tube.

By default a picture traces the joints that the motion's constraints name (each constraint
row of ``motion.metadata["report"]`` lists the joints the checked program resolved).
Joints ``[T, 22, 3]``, metres, Y up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from motionprog.body.skeleton import JOINT_INDEX, JOINT_NAMES
from motionprog.render.objects import OBJECT_COLORS, SceneObject, segments_mesh


def constrained_joints(metadata: Mapping[str, Any]) -> tuple[int, ...]:
    """Joints named by the constraints of ``metadata["report"]``: each row's ``joints`` (names the
    checked program resolved). A row naming every joint (``body``) adds none; unknown names are skipped."""
    report = metadata.get("report")
    constraints = report.get("constraints") if isinstance(report, Mapping) else None
    found: set[int] = set()
    for row in constraints if isinstance(constraints, list) else []:
        names = row.get("joints") if isinstance(row, Mapping) else None
        names = names if isinstance(names, list) else []
        indices = {JOINT_INDEX[n] for n in names if isinstance(n, str) and n in JOINT_INDEX}
        if len(indices) < len(JOINT_INDEX):
            found |= indices
    return tuple(sorted(found))


def trail_object(joints: np.ndarray, index: int, radius: float = 0.008) -> SceneObject:
    """The path of one joint over the whole motion as a thin tube. joints: [T, 22, 3] metres."""
    path = np.asarray(joints, dtype=np.float64)[:, index]
    if len(path) < 2:
        path = np.concatenate([path, path])
    vertices, faces = segments_mesh(path[:-1], path[1:], radius, sides=6)
    return SceneObject("trail", f"{JOINT_NAMES[index]} trail", vertices, faces, OBJECT_COLORS["trail"])
