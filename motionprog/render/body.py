"""The drawn body: the collision capsules of :mod:`motionprog.body.segments`, as triangle meshes.

What a video or the viewer shows is exactly what the constraints collide with: one cylinder
along each capsule's axis and a sphere of the same radius at each end. The mesh of every frame
is built in one vectorised call (:func:`body_mesh`), so a renderer swaps one vertex buffer per
frame. Units are metres, Y up, joints ``[..., 22, 3]`` in :mod:`motionprog.body.skeleton` order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
import trimesh

from motionprog.body.segments import CAPSULE_END, CAPSULE_RADII, CAPSULE_START, CAPSULES
from motionprog.numerics import unit_array

BODY_COLORS: tuple[tuple[float, float, float, float], ...] = (
    (0.25, 0.50, 0.85, 1.0),
    (0.90, 0.45, 0.20, 1.0),
    (0.30, 0.70, 0.35, 1.0),
    (0.65, 0.35, 0.75, 1.0),
)
"""Body colour of the 1st, 2nd, ... motion of a side-by-side comparison (RGBA, 0..1)."""


def rotation_from_z(direction: np.ndarray) -> np.ndarray:
    """Rotation matrices taking +Z onto each direction (the shortest arc).

    direction: [..., 3] (any length; zero gives the identity). Returns [..., 3, 3].
    Antiparallel directions (-Z) give a half turn about X.
    """
    d = unit_array(np.asarray(direction, dtype=np.float64), (0.0, 0.0, 1.0))
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


def _capsule_axes(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points [..., K, 3] of the capsules, metres."""
    return np.einsum("kj,...jc->...kc", CAPSULE_START, joints), np.einsum("kj,...jc->...kc", CAPSULE_END, joints)


def body_mesh(joints: np.ndarray, sections: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The capsule body as one triangle mesh per frame: per capsule a cylinder and two end spheres.

    joints: [..., 22, 3] metres. Returns vertices float32 [..., V, 3] (metres), vertex normals
    float32 [..., V, 3] (unit) and faces int32 [F, 3], the same for every frame. The first
    ``K * 2 * sections`` vertices are the cylinders, capsule by capsule; then the spheres, two
    per capsule (start, end), ``CAPSULE_RADII`` in radius.
    """
    joints = np.asarray(joints, dtype=np.float64)
    cylinder, ball = _unit_cylinder(sections), trimesh.creation.icosphere(subdivisions=1, radius=1.0)
    start, end = _capsule_axes(joints)
    delta = end - start
    rot = rotation_from_z(delta)  # [..., K, 3, 3]
    radius = np.broadcast_to(CAPSULE_RADII, delta.shape[:-1])
    scale = np.stack([radius, radius, np.linalg.norm(delta, axis=-1)], -1)[..., None, :]  # [..., K, 1, 3]
    cyl_v = np.einsum("...ij,...vj->...vi", rot, cylinder.vertices * scale) + start[..., None, :]
    cyl_n = np.einsum("...ij,vj->...vi", rot, cylinder.vertex_normals)
    centres = np.stack([start, end], -2).reshape(*joints.shape[:-2], -1, 3)  # [..., 2K, 3]
    ball_v = ball.vertices * np.repeat(CAPSULE_RADII, 2)[:, None, None] + centres[..., None, :]
    ball_n = np.broadcast_to(ball.vertex_normals, ball_v.shape)
    flat = joints.shape[:-2]
    vertices = np.concatenate([cyl_v.reshape(*flat, -1, 3), ball_v.reshape(*flat, -1, 3)], -2)
    normals = np.concatenate([cyl_n.reshape(*flat, -1, 3), ball_n.reshape(*flat, -1, 3)], -2)
    count, nc, nb = len(CAPSULES), len(cylinder.vertices), len(ball.vertices)
    faces = np.concatenate(
        [
            (cylinder.faces[None] + nc * np.arange(count)[:, None, None]).reshape(-1, 3),
            (ball.faces[None] + nb * np.arange(2 * count)[:, None, None]).reshape(-1, 3) + nc * count,
        ]
    )
    return vertices.astype(np.float32), normals.astype(np.float32), faces.astype(np.int32)


def capsule_landmarks() -> list[dict[str, Any]]:
    """The capsules for the HTML viewer: each ``{"name", "start", "end", "radius"}`` with the ends
    as ``[[joint index, coefficient], ...]`` (a landmark is the weighted sum of those joints)."""

    def terms(row: np.ndarray) -> list[list[float]]:
        return [[int(j), round(float(row[j]), 6)] for j in np.flatnonzero(row)]

    return [
        {"name": c.name, "start": terms(CAPSULE_START[k]), "end": terms(CAPSULE_END[k]), "radius": c.radius}
        for k, c in enumerate(CAPSULES)
    ]


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals of meshes sharing one topology (an SMPL body, per frame).

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
    return unit_array(summed, (0.0, 1.0, 0.0)).astype(np.float32)
