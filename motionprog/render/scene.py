"""What a renderer draws: the body as capsules, the floor, the program's objects, trails, cameras.

Everything here is renderer-agnostic numpy: the offscreen video (``video.py``), the HTML viewer
(``viewer.py``) and the glTF export draw the same shapes. Units are metres, Y up, joint order as
in :mod:`motionprog.body.skeleton`. Static shapes are triangle meshes (:class:`SceneObject`);
the body is one cylinder per bone and one sphere per joint, built for every frame at once by
:func:`body_mesh` (one vectorised call), so a renderer only swaps one vertex buffer per frame.

Scene dictionaries are the ``to_dict()`` of the program's geometry primitives, stored in
``motion.metadata["scene"]``: ``{"kind": "box", "center": [...], "size": [...], ...}`` with kind
one of point, line, plane, box, sphere, cylinder, mesh. A dictionary that cannot be drawn is
reported as a warning string, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
import trimesh
from scipy.ndimage import uniform_filter1d

from motionprog.body.skeleton import JOINT_INDEX, PARENTS
from motionprog.io.limits import check_file_size

BONES: tuple[tuple[int, int], ...] = tuple((p, c) for c, p in enumerate(PARENTS) if p >= 0)
"""(parent, child) joint indices of the 21 bones."""

JOINT_RADIUS = 0.045
"""Radius of the sphere drawn at each joint, metres."""

BONE_RADII = np.array(
    [0.07 if c in (1, 2, 3, 6, 9) else 0.055 if c in (4, 5, 12) else 0.04 for _, c in BONES],
    dtype=np.float32,
)
"""Display radius of each bone's cylinder, metres [21]: trunk 7 cm, thighs and neck 5.5 cm,
limbs 4 cm (a drawing aid, not the collision capsules of :mod:`motionprog.geometry`)."""

BODY_COLORS: tuple[tuple[float, float, float, float], ...] = (
    (0.25, 0.50, 0.85, 1.0),
    (0.90, 0.45, 0.20, 1.0),
    (0.30, 0.70, 0.35, 1.0),
    (0.65, 0.35, 0.75, 1.0),
)
"""Body colour of the 1st, 2nd, ... motion of a side-by-side comparison (RGBA, 0..1)."""

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

KINDS = ("point", "line", "plane", "box", "sphere", "cylinder", "mesh")
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


def _normalize(v: np.ndarray, fallback: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Unit vectors along the last axis; zero vectors become ``fallback``. [..., 3] -> [..., 3]."""
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(norm > 1e-9, v / np.maximum(norm, 1e-9), np.asarray(fallback, dtype=v.dtype))


def rotation_from_z(direction: np.ndarray) -> np.ndarray:
    """Rotation matrices taking +Z onto each direction (the shortest arc).

    direction: [..., 3] (any length; zero gives the identity). Returns [..., 3, 3].
    Antiparallel directions (-Z) give a half turn about X.
    """
    d = _normalize(np.asarray(direction, dtype=np.float64))
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    # Rodrigues with v = z_hat x d = (-y, x, 0), c = z; R = I + [v]x + [v]x^2 / (1 + c).
    k = 1.0 / np.maximum(1.0 + z, 1e-12)
    rot = np.stack(
        [
            np.stack([1 - x * x * k, -x * y * k, x], -1),
            np.stack([-x * y * k, 1 - y * y * k, y], -1),
            np.stack([-x, -y, z], -1),
        ],
        -2,
    )
    flip = np.diag([1.0, -1.0, -1.0])
    return np.where((z < -1 + 1e-9)[..., None, None], flip, rot)


def _unit_cylinder(sections: int) -> trimesh.Trimesh:
    cylinder = trimesh.creation.cylinder(radius=1.0, height=1.0, sections=sections)
    cylinder.apply_translation([0.0, 0.0, 0.5])
    return cylinder


def body_mesh(joints: np.ndarray, sections: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The capsule body as one triangle mesh per frame: a cylinder per bone, a sphere per joint.

    joints: [..., 22, 3] metres. Returns vertices float32 [..., V, 3] (metres), vertex normals
    float32 [..., V, 3] (unit) and faces int32 [F, 3], the same for every frame.
    Bone cylinders have the radii :data:`BONE_RADII`; joint spheres :data:`JOINT_RADIUS`.
    """
    joints = np.asarray(joints, dtype=np.float64)
    cylinder = _unit_cylinder(sections)
    ball = trimesh.creation.icosphere(subdivisions=1, radius=1.0)
    parent = joints[..., [p for p, _ in BONES], :]
    delta = joints[..., [c for _, c in BONES], :] - parent
    rot = rotation_from_z(delta)  # [..., 21, 3, 3]
    radius = np.broadcast_to(BONE_RADII.astype(np.float64), delta.shape[:-1])
    scale = np.stack([radius, radius, np.linalg.norm(delta, axis=-1)], -1)[..., None, :]  # [..., 21, 1, 3]
    cyl_v = np.einsum("...ij,...vj->...vi", rot, cylinder.vertices * scale) + parent[..., None, :]
    cyl_n = np.einsum("...ij,vj->...vi", rot, cylinder.vertex_normals)
    ball_v = ball.vertices * JOINT_RADIUS + joints[..., None, :]  # [..., 22, Vb, 3]
    ball_n = np.broadcast_to(ball.vertex_normals, ball_v.shape)
    flat = joints.shape[:-2]
    vertices = np.concatenate([cyl_v.reshape(*flat, -1, 3), ball_v.reshape(*flat, -1, 3)], -2)
    normals = np.concatenate([cyl_n.reshape(*flat, -1, 3), ball_n.reshape(*flat, -1, 3)], -2)
    nc, nb = len(cylinder.vertices), len(ball.vertices)
    faces = np.concatenate(
        [
            (cylinder.faces[None] + nc * np.arange(len(BONES))[:, None, None]).reshape(-1, 3),
            (ball.faces[None] + nb * np.arange(joints.shape[-2])[:, None, None]).reshape(-1, 3) + nc * len(BONES),
        ]
    )
    return vertices.astype(np.float32), normals.astype(np.float32), faces.astype(np.int32)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals of meshes sharing one topology.

    vertices: [..., V, 3]; faces: int [F, 3] (counter-clockwise seen from outside). Returns [..., V, 3].
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    corner = vertices[..., faces, :]  # [..., F, 3, 3]
    face_normals = np.cross(corner[..., 1, :] - corner[..., 0, :], corner[..., 2, :] - corner[..., 0, :])
    count = vertices.shape[-2]
    incidence = scipy.sparse.csr_matrix(
        (np.ones(faces.size), (faces.ravel(), np.repeat(np.arange(len(faces)), 3))), shape=(count, len(faces))
    )
    lead = face_normals.shape[:-2]
    stacked = np.moveaxis(face_normals, -2, 0).reshape(len(faces), -1)  # [F, ...*3]
    summed = np.moveaxis((incidence @ stacked).reshape(count, *lead, 3), 0, -2)
    return _normalize(summed, (0.0, 1.0, 0.0)).astype(np.float32)


def segments_mesh(a: np.ndarray, b: np.ndarray, radius: float, sides: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Open tubes of one radius along N segments a->b, as one mesh.

    a, b: [N, 3] metres. Returns vertices float32 [N*2*sides, 3] and faces int32 [N*2*sides, 3].
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    angle = 2 * np.pi * np.arange(sides) / sides
    ring = np.stack([np.cos(angle), np.sin(angle), np.zeros(sides)], -1) * radius  # [S, 3]
    rot = rotation_from_z(b - a)  # [N, 3, 3]
    offsets = np.einsum("nij,sj->nsi", rot, ring)  # [N, S, 3]
    vertices = np.concatenate([a[:, None] + offsets, b[:, None] + offsets], 1)  # [N, 2S, 3]
    s = np.arange(sides)
    s1 = (s + 1) % sides
    quad = np.concatenate(
        [np.stack([s, s1, sides + s1], -1), np.stack([s, sides + s1, sides + s], -1)]
    )  # [2S, 3]
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


def _vector(item: Mapping[str, Any], keys: Sequence[str], default: Sequence[float] | None = None) -> np.ndarray:
    for key in keys:
        if key in item:
            value = np.asarray(item[key], dtype=np.float64).ravel()
            if value.size == 1:
                return np.full(3, float(value[0]))
            if value.size != 3:
                raise ValueError(f"{key!r} must have 3 numbers, got {value.size}")
            return value
    if default is None:
        raise ValueError(f"missing {' or '.join(repr(k) for k in keys)}")
    return np.asarray(default, dtype=np.float64)


def _number(item: Mapping[str, Any], keys: Sequence[str], default: float | None = None) -> float:
    for key in keys:
        if key in item:
            return float(item[key])
    if default is None:
        raise ValueError(f"missing {' or '.join(repr(k) for k in keys)}")
    return default


def _placement(item: Mapping[str, Any]) -> np.ndarray:
    """4x4 transform of an object's rotation and scale.

    ``rotation`` is a 3x3 matrix (as the geometry primitives write it), three Euler angles
    (degrees, x then y then z) or one yaw angle (degrees about +Y); ``yaw`` is a yaw in degrees.
    """
    matrix = np.eye(4)
    rotation = np.asarray(item.get("rotation", item.get("yaw", 0.0)), dtype=np.float64)
    if rotation.shape == (3, 3):
        matrix[:3, :3] = rotation
    elif rotation.size == 3:
        matrix = trimesh.transformations.euler_matrix(*np.radians(rotation.ravel()), axes="sxyz")
    elif rotation.size == 1:
        matrix = trimesh.transformations.rotation_matrix(np.radians(float(rotation.ravel()[0])), [0, 1, 0])
    else:
        raise ValueError(f"rotation must be a 3x3 matrix, 3 angles or a yaw, got shape {list(rotation.shape)}")
    if "scale" in item:
        matrix = matrix @ np.diag([*_vector(item, ("scale",)), 1.0])
    return matrix


def _mesh_file(path: Path) -> trimesh.Trimesh:
    """The triangles of a mesh file within the input size limit; ValueError saying what is wrong."""
    try:
        check_file_size(path)
        mesh = trimesh.load(path, force="mesh")
    except Exception as exc:  # noqa: BLE001 - trimesh raises many kinds for a malformed file
        raise ValueError(f"cannot read mesh file {str(path)!r} ({type(exc).__name__})") from exc
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise ValueError(f"mesh file {str(path)!r} has no triangles")
    return mesh


def _object_mesh(item: Mapping[str, Any], lo: np.ndarray, hi: np.ndarray, mesh_files: bool) -> trimesh.Trimesh:
    """The mesh of one scene dictionary; raises ValueError saying what is wrong with it.

    mesh_files: whether a ``mesh`` item may name a file to read (see :func:`scene_objects`).
    """
    kind = item.get("kind")
    span = float(np.linalg.norm(hi - lo)) + 2.0
    if kind == "point":
        mesh = trimesh.creation.icosphere(subdivisions=2, radius=_number(item, ("radius",), 0.05))
        mesh.apply_translation(_vector(item, ("position", "point", "center", "xyz")))
        return mesh
    if kind == "line":
        a = _vector(item, ("a", "start", "p0", "from"))
        b = _vector(item, ("b", "end", "p1", "to"))
        if not item.get("segment", True) or item.get("infinite", False):
            direction = _normalize(b - a)
            a, b = a - direction * span, b + direction * span
        return trimesh.Trimesh(*segments_mesh(a[None], b[None], _number(item, ("radius",), 0.012)))
    if kind == "plane":
        normal = _normalize(_vector(item, ("normal",), (0, 1, 0)))
        size = _number(item, ("size", "extent"), min(span, 6.0))
        mesh = trimesh.creation.box((size, size, 0.01))
        mesh.apply_transform(trimesh.geometry.align_vectors([0, 0, 1], normal))
        mesh.apply_translation(_vector(item, ("point", "origin", "center", "position"), (0, 0, 0)))
        return mesh
    if kind == "box":
        if "min" in item and "max" in item:
            lo_box, hi_box = _vector(item, ("min",)), _vector(item, ("max",))
            center, size = (lo_box + hi_box) / 2, hi_box - lo_box
        else:
            center, size = _vector(item, ("center", "position")), _vector(item, ("size", "extents"))
        mesh = trimesh.creation.box(size)
    elif kind == "sphere":
        center = _vector(item, ("center", "position"))
        mesh = trimesh.creation.icosphere(subdivisions=3, radius=_number(item, ("radius",)))
    elif kind == "cylinder":
        center = _vector(item, ("center", "position"))
        mesh = trimesh.creation.cylinder(_number(item, ("radius",)), _number(item, ("height",)), sections=32)
        axis = _normalize(_vector(item, ("axis",), (0, 1, 0)))
        mesh.apply_transform(trimesh.geometry.align_vectors([0, 0, 1], axis))
    elif kind == "mesh":
        center = _vector(item, ("position", "center", "translation"), (0, 0, 0))
        if "vertices" in item and "faces" in item:
            vertices, faces = np.asarray(item["vertices"], float).reshape(-1, 3), np.asarray(item["faces"], int)
            if faces.ndim != 2 or faces.shape[1] != 3 or not ((faces >= 0) & (faces < len(vertices))).all():
                raise ValueError(f"faces must be [F, 3] indices below {len(vertices)}")
            mesh = trimesh.Trimesh(vertices, faces, process=False)
        else:
            path = Path(str(item.get("path", item.get("file", ""))))
            if not mesh_files:
                raise ValueError(f"mesh file {str(path)!r} is named by the motion file, not by a program; "
                                 "it is not read (pass the program with --program to draw it)")
            if not path.is_file():
                raise ValueError(f"mesh file {str(path)!r} not found")
            mesh = _mesh_file(path)
    else:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    mesh.apply_transform(_placement(item))
    mesh.apply_translation(center)
    return mesh


def scene_objects(
    items: Sequence[Mapping[str, Any]], lo: np.ndarray, hi: np.ndarray, mesh_files: bool = False
) -> tuple[tuple[SceneObject, ...], tuple[str, ...]]:
    """Meshes of the program's scene dictionaries, and a warning for each one not drawn.

    items: ``to_dict()`` of geometry primitives. lo, hi: [3] bounds of the motion in metres
    (infinite lines and planes are drawn to about that size). mesh_files: read the files that
    ``mesh`` items name; only for items that come from a program the user ran (a motion
    file's metadata could name any file on the machine, so its mesh files are never read).
    """
    objects: list[SceneObject] = []
    warnings: list[str] = []
    for number, item in enumerate(items):
        if not isinstance(item, Mapping):
            warnings.append(f"scene object {number} not drawn: not a JSON object ({type(item).__name__})")
            continue
        label = str(item.get("name") or item.get("label") or item.get("kind") or f"object {number}")
        try:
            mesh = _object_mesh(item, np.asarray(lo, float), np.asarray(hi, float), mesh_files)
            if not np.isfinite(mesh.vertices).all():
                raise ValueError("its vertices are not all finite")
        except (ValueError, TypeError, KeyError, OSError) as exc:
            warnings.append(f"scene object {label!r} not drawn: {exc}")
            continue
        kind = str(item["kind"])
        objects.append(
            SceneObject(
                kind,
                label,
                np.asarray(mesh.vertices, np.float32),
                np.asarray(mesh.faces, np.int32),
                OBJECT_COLORS[kind],
            )
        )
    return tuple(objects), tuple(warnings)


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
    name = next(n for n, i in JOINT_INDEX.items() if i == index)
    return SceneObject("trail", f"{name} trail", vertices, faces, OBJECT_COLORS["trail"])


def motion_bounds(joints: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds (lo [3], hi [3], metres) of several [T, 22, 3] joint arrays, floor included."""
    points = np.concatenate([np.asarray(j, dtype=np.float64).reshape(-1, 3) for j in joints])
    lo, hi = points.min(0), points.max(0)
    lo[1] = min(lo[1], 0.0)
    return lo, hi


def look_at(eye: np.ndarray, target: np.ndarray, up: Sequence[float] = (0.0, 1.0, 0.0)) -> np.ndarray:
    """Camera-to-world poses (OpenGL: the camera looks down its -Z). eye, target: [..., 3] -> [..., 4, 4]."""
    eye = np.asarray(eye, dtype=np.float64)
    back = _normalize(eye - np.asarray(target, dtype=np.float64))
    right = _normalize(np.cross(np.asarray(up, dtype=np.float64), back), (1.0, 0.0, 0.0))
    true_up = np.cross(back, right)
    pose = np.zeros(eye.shape[:-1] + (4, 4))
    pose[..., :3, 0], pose[..., :3, 1], pose[..., :3, 2], pose[..., :3, 3] = right, true_up, back, eye
    pose[..., 3, 3] = 1.0
    return pose


def _view_direction(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Unit vector from the subject to the camera: side-on to the longer horizontal extent, raised 20 deg."""
    extent = hi - lo
    side = np.array([0.0, 0.0, 1.0]) if extent[0] >= extent[2] else np.array([1.0, 0.0, 0.0])
    side = _normalize(side + 0.35 * np.array([1.0, 0.0, 1.0]) * (1 - side))
    return _normalize(side * np.cos(np.radians(20)) + np.array([0.0, np.sin(np.radians(20)), 0.0]))


def camera_poses(
    joints: Sequence[np.ndarray], mode: str = "frame", yfov: float = np.pi / 4, aspect: float = 4 / 3
) -> np.ndarray:
    """One camera pose per frame for the motions ``joints`` (each [T_i, 22, 3], metres).

    mode ``"frame"``: a fixed camera that keeps every frame of every motion in view.
    mode ``"follow"``: a camera 4 m away that tracks the first motion's pelvis, smoothed over 1 s.
    yfov: vertical field of view, radians; aspect: width / height. Returns [max T_i, 4, 4].
    """
    frames = max(len(j) for j in joints)
    lo, hi = motion_bounds(joints)
    direction = _view_direction(lo, hi)
    if mode == "frame":
        center = (lo + hi) / 2
        radius = 0.5 * float(np.linalg.norm(hi - lo)) + 0.2
        half_fov = min(yfov / 2, np.arctan(np.tan(yfov / 2) * aspect))
        eye = center + direction * radius / np.sin(half_fov)
        return np.broadcast_to(look_at(eye, center), (frames, 4, 4)).copy()
    if mode == "follow":
        pelvis = np.asarray(joints[0], dtype=np.float64)[:, 0]
        pelvis = np.concatenate([pelvis, np.repeat(pelvis[-1:], frames - len(pelvis), 0)])
        smooth = uniform_filter1d(pelvis, size=min(21, frames), axis=0, mode="nearest")
        target = smooth * np.array([1.0, 0.0, 1.0]) + np.array([0.0, 0.9, 0.0])
        return look_at(target + direction * 4.0, target)
    raise ValueError(f"unknown camera mode {mode!r} (use 'frame' or 'follow')")


__all__ = [
    "BONES",
    "BODY_COLORS",
    "KINDS",
    "SceneObject",
    "body_mesh",
    "camera_poses",
    "constrained_joints",
    "floor_grid",
    "look_at",
    "motion_bounds",
    "rotation_from_z",
    "scene_objects",
    "segments_mesh",
    "trail_object",
    "vertex_normals",
]
