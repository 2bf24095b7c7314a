"""Trails: the path of a joint over the whole motion, drawn as a thin tube.

By default a picture traces the joints that the motion's constraints name (read from the
constraint report in ``motion.metadata["report"]``). Joints ``[T, 22, 3]``, metres, Y up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from motionprog.body.skeleton import ALIASES, GROUPS, JOINT_INDEX, JOINT_NAMES
from motionprog.render.objects import OBJECT_COLORS, SceneObject, segments_mesh


def joints_named_in(text: str) -> tuple[int, ...]:
    """Indices of the joints a piece of program or report text mentions (names, aliases, groups).

    The group ``body`` (every joint) is ignored; the result is sorted and unique.
    """
    found: set[int] = set()
    for word in re.findall(r"[a-z_][a-z0-9_]*", text.lower()):
        name = ALIASES.get(word, word)
        if name in JOINT_INDEX:
            found.add(JOINT_INDEX[name])
        elif word in GROUPS and word != "body":
            found.update(GROUPS[word])
    return tuple(sorted(found))


def constrained_joints(metadata: Mapping[str, Any]) -> tuple[int, ...]:
    """Joints named by the constraints of ``metadata["report"]`` (their name and description)."""
    constraints = (metadata.get("report") or {}).get("constraints") or []
    text = " ".join(f"{c.get('name', '')} {c.get('description', '')}" for c in constraints if isinstance(c, Mapping))
    return joints_named_in(text)


def trail_object(joints: np.ndarray, index: int, radius: float = 0.008) -> SceneObject:
    """The path of one joint over the whole motion as a thin tube. joints: [T, 22, 3] metres."""
    path = np.asarray(joints, dtype=np.float64)[:, index]
    if len(path) < 2:
        path = np.concatenate([path, path])
    vertices, faces = segments_mesh(path[:-1], path[1:], radius, sides=6)
    return SceneObject("trail", f"{JOINT_NAMES[index]} trail", vertices, faces, OBJECT_COLORS["trail"])
