"""Geometry: primitives and their signed distances, mesh SDF grids, body capsules (metres, Y up).

Scene objects (primitives, meshes) are built and measured without torch, so checking a program
with a scene stays light; the capsules and every signed distance import torch when first used.
"""

from motionprog.geometry.mesh import Mesh
from motionprog.geometry.primitives import (
    Box, Cylinder, Line, Placement, Plane, Point, Primitive, Sphere, rotation_matrix,
)

SceneObject = Primitive | Mesh
"""Anything a scene holds: ``signed_distance(points [..., 3]) -> [...]`` and ``to_dict()``."""

CAPSULES = ("body_capsules", "capsule_distances", "capsule_penetration", "capsules_of", "penetration_margin")
"""The body-capsule functions (:mod:`motionprog.geometry.capsules`, torch), imported on first use."""

__all__ = [
    "Box", "Cylinder", "Line", "Mesh", "Placement", "Plane", "Point", "Primitive", "SceneObject", "Sphere",
    *CAPSULES, "rotation_matrix",
]


def __getattr__(name: str):
    if name in CAPSULES:
        from motionprog.geometry import capsules

        return getattr(capsules, name)
    raise AttributeError(f"module 'motionprog.geometry' has no attribute {name!r}")
