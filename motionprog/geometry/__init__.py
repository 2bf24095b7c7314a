"""Geometry: primitives and their signed distances, mesh SDF grids, body capsules (metres, Y up)."""

from motionprog.geometry.primitives import (
    Box, Cylinder, Line, Placement, Plane, Point, Primitive, Sphere, rotation_matrix,
)

__all__ = ["Box", "Cylinder", "Line", "Placement", "Plane", "Point", "Primitive", "Sphere", "rotation_matrix"]
