"""Geometry: primitives and their signed distances, mesh SDF grids, body capsules (metres, Y up)."""

from motionprog.geometry.capsules import (
    body_capsules, capsule_distances, capsule_penetration, capsules_of, penetration_margin,
)
from motionprog.geometry.mesh import Mesh
from motionprog.geometry.primitives import (
    Box, Cylinder, Line, Placement, Plane, Point, Primitive, Sphere, rotation_matrix,
)

SceneObject = Primitive | Mesh
"""Anything a scene holds: ``signed_distance(points [..., 3]) -> [...]`` and ``to_dict()``."""

__all__ = [
    "Box", "Cylinder", "Line", "Mesh", "Placement", "Plane", "Point", "Primitive", "SceneObject", "Sphere",
    "body_capsules", "capsule_distances", "capsule_penetration", "capsules_of", "penetration_margin", "rotation_matrix",
]
