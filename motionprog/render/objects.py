"""The static shapes of a picture: the floor, the program's scene objects, thin tubes.

Scene dictionaries are the ``to_dict()`` of the program's geometry objects, stored in
``motion.metadata["scene"]`` (``{"kind": "box", "center": [...], "size": [...], "rotation": ...}``).
Each is rebuilt as its geometry type (:mod:`motionprog.geometry`), which validates it, and then
drawn from that object's own fields, so a renderer reads the format the language writes and no
other. A dictionary that cannot be drawn is reported as a warning string, never dropped silently.
Mesh files are read only for a scene the caller vouches for (a program the user ran): a motion
file's metadata could name any file on the machine. Units are metres, Y up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from motionprog.errors import MotionprogError
from motionprog.geometry import Box, Cylinder, Line, Mesh, Plane, Point, SceneObject as Shape, Sphere
from motionprog.io.limits import check_file_size
from motionprog.render.body import rotation_from_z

OBJECT_COLORS: dict[str, tuple[float, float, float, float]] = {
    "point": (0.90, 0.15, 0.15, 1.0),
    "line": (0.95, 0.75, 0.10, 1.0),
    "plane": (0.55, 0.75, 0.95, 0.45),
    "box": (0.70, 0.70, 0.72, 0.85),
    "sphere": (0.85, 0.55, 0.25, 0.85),
    "cylinder": (0.60, 0.60, 0.75, 0.85),
    "mesh": (0.75, 0.70, 0.60, 1.0),
    "trail": (0.95, 0.30, 0.55, 1.0),
}
"""Colour of each kind of scene object (RGBA, 0..1; alpha < 1 is drawn translucent)."""

SHAPES: dict[str, type[Shape]] = {
    "point": Point, "line": Line, "plane": Plane, "box": Box, "sphere": Sphere, "cylinder": Cylinder, "mesh": Mesh,
}
"""The geometry type of each kind of scene dictionary."""

KINDS = tuple(SHAPES)
"""Kinds of scene dictionary that renderers draw."""


@dataclass(frozen=True)
class SceneObject:
    """One static shape as a triangle mesh.

    kind:     a scene kind (see :data:`KINDS`), ``"trail"`` or ``"floor"``.
    label:    what the viewer shows for it (the object's name or kind).
    vertices: float32 [V, 3], metres, Y up.
    faces:    int32 [F, 3] indices into vertices.
    color:    RGBA 0..1 of the whole object, or float32 [F, 4] per face (the floor).
    """

    kind: str
    label: str
    vertices: np.ndarray
    faces: np.ndarray
    color: tuple[float, float, float, float] | np.ndarray

    def to_trimesh(self) -> trimesh.Trimesh:
        """The shape as a trimesh with face colours (0..255)."""
        colors = np.broadcast_to(np.asarray(self.color, dtype=np.float32), (len(self.faces), 4))
        return trimesh.Trimesh(
            self.vertices, self.faces, face_colors=np.round(colors * 255).astype(np.uint8), process=False
        )


def segments_mesh(a: np.ndarray, b: np.ndarray, radius: float, sides: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Open tubes of one radius along N segments a->b, as one mesh.

    a, b: [N, 3] metres. Returns vertices float32 [N*2*sides, 3] and faces int32 [N*2*sides, 3].
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    angle = 2 * np.pi * np.arange(sides) / sides
    ring = np.stack([np.cos(angle), np.sin(angle), np.zeros(sides)], -1) * radius  # [S, 3]
    offsets = np.einsum("nij,sj->nsi", rotation_from_z(b - a), ring)  # [N, S, 3]
    vertices = np.concatenate([a[:, None] + offsets, b[:, None] + offsets], 1)  # [N, 2S, 3]
    s = np.arange(sides)
    s1 = (s + 1) % sides
    quad = np.concatenate([np.stack([s, s1, sides + s1], -1), np.stack([s, sides + s1, sides + s], -1)])  # [2S, 3]
    faces = quad[None] + (2 * sides * np.arange(len(a)))[:, None, None]
    return vertices.reshape(-1, 3).astype(np.float32), faces.reshape(-1, 3).astype(np.int32)


def floor_grid(lo: np.ndarray, hi: np.ndarray, tile: float = 0.5, margin: float = 1.0) -> SceneObject:
    """A checkerboard floor at y = 0 covering the XZ box [lo, hi] plus ``margin`` metres.

    lo, hi: [3] metres (only x and z are used). Tiles are ``tile`` metres, aligned to the origin.
    """
    x0, z0 = np.floor((np.asarray(lo)[[0, 2]] - margin) / tile).astype(int)
    x1, z1 = np.ceil((np.asarray(hi)[[0, 2]] + margin) / tile).astype(int)
    ix, iz = np.meshgrid(np.arange(x0, x1), np.arange(z0, z1), indexing="ij")
    ix, iz = ix.ravel(), iz.ravel()
    corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1]])
    xz = (np.stack([ix, iz], -1)[:, None] + corners[None]) * tile  # [N, 4, 2]
    vertices = np.stack([xz[..., 0], np.full(xz.shape[:2], -1e-3), xz[..., 1]], -1).reshape(-1, 3)
    base = 4 * np.arange(len(ix))[:, None, None]
    faces = (np.array([[0, 2, 1], [0, 3, 2]])[None] + base).reshape(-1, 3)
    shade = np.where((ix + iz) % 2 == 0, 0.82, 0.62).repeat(2)
    colors = np.concatenate([np.stack([shade] * 3, -1), np.ones((len(shade), 1))], -1)
    return SceneObject("floor", "floor", vertices.astype(np.float32), faces.astype(np.int32), colors.astype(np.float32))


def _placed(mesh: trimesh.Trimesh, rotation: Any, position: Sequence[float]) -> trimesh.Trimesh:
    """``mesh`` turned by the 3x3 ``rotation`` and moved to ``position``."""
    matrix = np.eye(4)
    matrix[:3, :3], matrix[:3, 3] = np.asarray(rotation, dtype=np.float64), position
    mesh.apply_transform(matrix)
    return mesh


def _line(line: Line, span: float) -> trimesh.Trimesh:
    a, b = np.asarray(line.a), np.asarray(line.b)
    if not line.segment:  # an infinite line is drawn well past the motion
        a, b = a - np.asarray(line.direction) * span, b + np.asarray(line.direction) * span
    return trimesh.Trimesh(*segments_mesh(a[None], b[None], 0.012))


def _plane(plane: Plane, span: float) -> trimesh.Trimesh:
    size = min(span, 6.0)
    return _placed(trimesh.creation.box((size, size, 0.01)), rotation_from_z(np.asarray(plane.normal)), plane.point)


def _cylinder(cylinder: Cylinder, span: float) -> trimesh.Trimesh:
    mesh = trimesh.creation.cylinder(cylinder.radius, cylinder.height, sections=32)  # along z
    z_to_y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    return _placed(mesh, np.asarray(cylinder.rotation) @ z_to_y, cylinder.center)


_DRAW: dict[type, Callable[[Any, float], trimesh.Trimesh]] = {
    Point: lambda p, span: _placed(trimesh.creation.icosphere(subdivisions=2, radius=0.05), np.eye(3), p.position),
    Line: _line,
    Plane: _plane,
    Box: lambda b, span: _placed(trimesh.creation.box(b.size), b.rotation, b.center),
    Sphere: lambda s, span: _placed(trimesh.creation.icosphere(subdivisions=3, radius=s.radius), np.eye(3), s.center),
    Cylinder: _cylinder,
    Mesh: lambda m, span: m.triangles(),
}
"""The triangle mesh of each geometry type; ``span`` (metres) is how far unbounded shapes reach."""


def shape_of(item: Mapping[str, Any], mesh_files: bool = False) -> Shape:
    """The geometry object of a scene dictionary (its ``to_dict()``); raises saying what is wrong.

    mesh_files: whether a ``mesh`` item may name a file to read (see :func:`scene_objects`).
    """
    kind = item.get("kind")
    if kind not in SHAPES:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "mesh":
        path = str(item.get("path", ""))
        if not mesh_files:
            raise ValueError(f"mesh file {path!r} is named by the motion file, not by a program; "
                             "it is not read (pass the program with --program to draw it)")
        if not Path(path).is_file():
            raise ValueError(f"mesh file {path!r} not found")
        check_file_size(path)  # before the geometry reads it
    return SHAPES[kind](**{k: v for k, v in item.items() if k not in ("kind", "name", "label")})


def scene_objects(
    items: Sequence[Mapping[str, Any]], lo: np.ndarray, hi: np.ndarray, mesh_files: bool = False
) -> tuple[tuple[SceneObject, ...], tuple[str, ...]]:
    """Meshes of the program's scene dictionaries, and a warning for each one not drawn.

    items: ``to_dict()`` of geometry objects. lo, hi: [3] bounds of the motion in metres
    (infinite lines and planes are drawn to about that size). mesh_files: read the files that
    ``mesh`` items name; only for items that come from a program the user ran (a motion
    file's metadata could name any file on the machine, so its mesh files are never read).
    """
    span = float(np.linalg.norm(np.asarray(hi, float) - np.asarray(lo, float))) + 2.0
    objects: list[SceneObject] = []
    warnings: list[str] = []
    for number, item in enumerate(items):
        if not isinstance(item, Mapping):
            warnings.append(f"scene object {number} not drawn: not a JSON object ({type(item).__name__})")
            continue
        label = str(item.get("name") or item.get("label") or item.get("kind") or f"object {number}")
        try:
            shape = shape_of(item, mesh_files)
            mesh = _DRAW[type(shape)](shape, span)
            if not np.isfinite(mesh.vertices).all():
                raise ValueError("its vertices are not all finite")
        except (MotionprogError, ValueError, TypeError, OSError) as exc:
            warnings.append(f"scene object {label!r} not drawn: {exc}")
            continue
        kind = str(item["kind"])
        vertices, faces = np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.int32)
        objects.append(SceneObject(kind, label, vertices, faces, OBJECT_COLORS[kind]))
    return tuple(objects), tuple(warnings)
