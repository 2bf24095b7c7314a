"""Blender objects -> the scene description the engine reads (Blender's axes, metres).

Recognised by their geometry, not their names: a mesh with the 8 corners of a box is a box, two
equal circles along local Z a cylinder, vertices all equally far from the centre a sphere (tested
after the cylinder, whose rim is equally far too), one flat quad a plane; an empty is a point.
Anything else with geometry is written as a world-space OBJ (already in the engine's Y-up
axes) next to the job. Objects made by earlier runs (armatures and their skinned meshes) are
left out.
"""

from __future__ import annotations

from pathlib import Path

import bpy
from mathutils import Vector

TOLERANCE = 1e-4
"""Relative tolerance of the shape tests (Blender stores single-precision floats)."""

GEOMETRY_TYPES = {"MESH", "CURVE", "SURFACE", "FONT", "META"}


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def _bounds(points: list[Vector]) -> tuple[Vector, Vector]:
    low = Vector([min(p[i] for p in points) for i in range(3)])
    high = Vector([max(p[i] for p in points) for i in range(3)])
    return low, high


def _is_box(points: list[Vector], mesh) -> bool:
    low, high = _bounds(points)
    on_corners = all(all(_close(p[i], low[i]) or _close(p[i], high[i]) for i in range(3)) for p in points)
    return len(points) == 8 and len(mesh.polygons) == 6 and on_corners and min(high - low) > 0


def _is_sphere(points: list[Vector], centre: Vector) -> bool:
    radii = [(p - centre).length for p in points]
    return len(points) >= 12 and radii[0] > 0 and all(_close(r, radii[0]) for r in radii)


def _is_cylinder(points: list[Vector], centre: Vector) -> bool:
    heights = sorted({round(p.z - centre.z, 5) for p in points})
    radii = [(p - centre).xy.length for p in points]
    return (len(points) >= 12 and len(heights) == 2 and radii[0] > 0
            and all(_close(r, radii[0]) for r in radii))


def _is_plane(points: list[Vector], mesh) -> bool:
    return len(points) == 4 and len(mesh.polygons) == 1 and all(_close(p.z, points[0].z) for p in points)


def primitive(obj, unit: float) -> dict | None:
    """The description of a mesh object that is a box, sphere, cylinder or plane (None if not)."""
    mesh = obj.data
    if obj.modifiers or not mesh.vertices:
        return None
    points = [v.co.copy() for v in mesh.vertices]
    low, high = _bounds(points)
    centre = (low + high) / 2
    _, rotation, scale = obj.matrix_world.decompose()
    world_centre = list(obj.matrix_world @ centre * unit)
    matrix = [list(row) for row in rotation.to_matrix()]
    if _is_box(points, mesh):
        return {"kind": "box", "center": world_centre, "rotation": matrix,
                "size": [(high[i] - low[i]) * abs(scale[i]) * unit for i in range(3)]}
    if _is_cylinder(points, centre) and _close(scale.x, scale.y):
        return {"kind": "cylinder", "center": world_centre, "rotation": matrix,
                "radius": (points[0] - centre).xy.length * abs(scale.x) * unit,
                "height": (high.z - low.z) * abs(scale.z) * unit}
    if _is_sphere(points, centre) and _close(scale.x, scale.y) and _close(scale.y, scale.z):
        return {"kind": "sphere", "center": world_centre, "radius": (points[0] - centre).length * abs(scale.x) * unit}
    if _is_plane(points, mesh):
        normal = (obj.matrix_world.to_3x3().inverted_safe().transposed() @ Vector((0, 0, 1))).normalized()
        return {"kind": "plane", "center": world_centre, "normal": list(normal)}
    return None


def write_obj(obj, path: Path, unit: float) -> None:
    """The evaluated object's faces in world space, metres, in the engine's axes (X, Z, -Y)."""
    evaluated = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    try:
        lines = []
        for vertex in mesh.vertices:
            x, y, z = obj.matrix_world @ vertex.co * unit
            lines.append(f"v {x!r} {z!r} {-y + 0.0!r}")
        lines.extend("f " + " ".join(str(i + 1) for i in polygon.vertices) for polygon in mesh.polygons)
    finally:
        evaluated.to_mesh_clear()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def made_by_motionprog(obj) -> bool:
    """An armature, or a mesh deformed by one (a result of an earlier run)."""
    return obj.type == "ARMATURE" or any(m.type == "ARMATURE" for m in getattr(obj, "modifiers", ()))


def describe_objects(objects, folder: Path, unit: float) -> tuple[list[dict], list[str]]:
    """The descriptions of ``objects`` (meshes written into ``folder``) and the names left out."""
    described, skipped = [], []
    for obj in sorted(objects, key=lambda o: o.name):
        if made_by_motionprog(obj) or (obj.type != "EMPTY" and obj.type not in GEOMETRY_TYPES):
            skipped.append(obj.name)
            continue
        if obj.type == "EMPTY":
            entry = {"kind": "point", "center": list(obj.matrix_world.translation * unit)}
        else:
            entry = primitive(obj, unit) if obj.type == "MESH" else None
        if entry is None:
            file = f"mesh_{len(described)}.obj"
            write_obj(obj, folder / file, unit)
            entry = {"kind": "mesh", "file": file}
        described.append({"name": obj.name, **entry})
    return described, skipped
