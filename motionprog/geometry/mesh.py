"""Triangle meshes as scene objects, with a differentiable signed distance from an SDF grid.

A mesh file (OBJ, PLY, STL, GLB, anything trimesh reads) is placed in the world by
``position + R @ (scale * vertex)`` (metres, Y up; rotation as in
:mod:`motionprog.geometry.primitives`). Its signed distance (negative inside) is sampled once on
a regular grid around the placed mesh with trimesh's exact point-to-mesh distance, and then
evaluated inside the loss by trilinear interpolation in torch, which is differentiable and
costs eight gathers per point.

Cost and accuracy: the grid has ``resolution`` cells along the longest side of the padded
bounds (cubic cells; default 32, so about 33^3 = 36k exact queries, a few seconds once per
file, placement and resolution, then cached in memory). Inside the grid the error is at most
about one cell's spacing (the interpolant is exact at the nodes and the SDF is 1-Lipschitz).
Outside the grid the distance is the distance to the grid box plus the SDF at the nearest grid
point, an upper bound that keeps pointing the right way.

A mesh that is not watertight has no inside: its distance is then unsigned (a thin shell),
and ``watertight`` is False.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motionprog.errors import InputError
from motionprog.geometry.mesh_file import face_vertices, load_trimesh
from motionprog.geometry.primitives import (
    IDENTITY, Bounded, Matrix3, Placement, Rotation, Vec3, as_vec3, rotation_matrix,
)

if TYPE_CHECKING:
    import trimesh
    from torch import Tensor


@dataclass(frozen=True)
class SDFGrid:
    """Signed distances sampled on a regular grid (metres).

    origin: [3] world position of node (0, 0, 0); spacing: cell edge; values: [nx, ny, nz]
    with ``values[i, j, k]`` the signed distance at ``origin + spacing * (i, j, k)``.
    """

    origin: np.ndarray
    spacing: float
    values: np.ndarray
    watertight: bool

    def signed_distance(self, points: Tensor) -> Tensor:
        """Trilinearly interpolated signed distance [...] (metres) at points [..., 3].

        Outside the grid: distance to the grid box plus the value at the nearest grid point.
        """
        import torch

        from motionprog.numerics import kink_clamp, safe_norm

        origin = torch.as_tensor(self.origin, dtype=points.dtype, device=points.device)
        values = torch.as_tensor(self.values, dtype=points.dtype, device=points.device)
        shape = torch.tensor(self.values.shape, device=points.device)
        upper = origin + self.spacing * (shape - 1).to(points.dtype)
        inside = kink_clamp(points, origin, upper)
        cell = (inside - origin) / self.spacing
        corner = cell.detach().floor().clamp(min=0).minimum((shape - 2).to(points.dtype))
        frac = cell - corner
        corner = corner.long()
        offsets = torch.tensor([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], device=points.device)
        nodes = corner.unsqueeze(-2) + offsets  # [..., 8, 3]
        flat = (nodes[..., 0] * shape[1] + nodes[..., 1]) * shape[2] + nodes[..., 2]
        weights = torch.where(offsets.bool(), frac.unsqueeze(-2), 1 - frac.unsqueeze(-2)).prod(-1)
        interpolated = (values.reshape(-1)[flat] * weights).sum(-1)
        return interpolated + safe_norm(points - inside)


def _placed(path: str, placement: Placement) -> trimesh.Trimesh:
    """A copy of the mesh in ``path`` moved by ``position + R @ (scale * vertex)``."""
    mesh = load_trimesh(Path(path)).copy()
    mesh.apply_scale(placement.scale)
    matrix = np.eye(4)
    matrix[:3, :3] = placement.rotation
    matrix[:3, 3] = placement.position
    mesh.apply_transform(matrix)
    return mesh


@functools.lru_cache(maxsize=16)
def _sdf_grid(path: str, modified_ns: int, placement: Placement, resolution: int, padding: float) -> SDFGrid:
    """The SDF grid of a placed mesh file; cached per file version, placement and resolution."""
    import trimesh

    mesh = _placed(path, placement)
    lower, upper = mesh.bounds[0] - padding, mesh.bounds[1] + padding
    spacing = float((upper - lower).max()) / resolution
    counts = np.ceil((upper - lower) / spacing).astype(int) + 1
    axes = [lower[d] + spacing * np.arange(counts[d]) for d in range(3)]
    nodes = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    watertight = bool(mesh.is_watertight)
    if watertight:
        values = -trimesh.proximity.signed_distance(mesh, nodes)  # trimesh: positive inside
    else:
        values = trimesh.proximity.closest_point(mesh, nodes)[1]
    return SDFGrid(lower, spacing, values.reshape(*counts), watertight)


@dataclass(frozen=True)
class Mesh(Bounded):
    """A mesh file placed in the scene; ``signed_distance`` uses a cached SDF grid.

    path: the mesh file; position (metres), rotation (yaw degrees, Euler XYZ degrees or a
    matrix), scale: the placement ``position + R @ (scale * vertex)``; resolution: grid cells
    along the longest side; padding: metres of grid around the mesh bounds.
    The file is read on construction (without trimesh for OBJ and STL, see
    :mod:`motionprog.geometry.mesh_file`), so a bad file fails early with an InputError.
    """

    path: str
    position: Vec3 = (0.0, 0.0, 0.0)
    rotation: Matrix3 = IDENTITY
    scale: float = 1.0
    resolution: int = 32
    padding: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", str(Path(self.path).expanduser().resolve()))
        object.__setattr__(self, "position", as_vec3(self.position, "mesh position"))
        object.__setattr__(self, "rotation", rotation_matrix(self.rotation))
        if not (isinstance(self.resolution, int) and 2 <= self.resolution <= 256):
            raise InputError(f"mesh resolution must be an integer in [2, 256], got {self.resolution!r}")
        if not self.padding > 0:
            raise InputError(f"mesh padding must be positive, got {self.padding!r}")
        Placement.of(self.position, self.rotation, self.scale)  # validates the scale
        face_vertices(Path(self.path))

    @classmethod
    def load(cls, path: str | os.PathLike, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0,
             scale: float = 1.0, resolution: int = 32, padding: float = 0.1) -> Mesh:
        """Read a mesh file and place it; InputError naming the file when it cannot be used."""
        return cls(str(path), tuple(position), rotation, scale, resolution, padding)  # type: ignore[arg-type]

    @property
    def placement(self) -> Placement:
        return Placement(self.position, self.rotation, float(self.scale))

    @property
    def grid(self) -> SDFGrid:
        """The SDF grid of this placed mesh (computed once, then cached)."""
        return _sdf_grid(self.path, os.stat(self.path).st_mtime_ns, self.placement, self.resolution, self.padding)

    @property
    def watertight(self) -> bool:
        return self.grid.watertight

    def triangles(self) -> trimesh.Trimesh:
        """The placed mesh (a copy of the file's triangles), metres: what renderers draw."""
        return _placed(self.path, self.placement)

    def hull_points(self) -> np.ndarray:
        """The placed vertices [V, 3], metres."""
        vertices = face_vertices(Path(self.path)) * self.scale @ np.asarray(self.rotation).T
        return vertices + np.asarray(self.position)

    @property
    def bounds(self) -> tuple[Vec3, Vec3]:
        """(min, max) corners of the placed mesh's world-axis-aligned bounds, metres."""
        return self.min, self.max

    @property
    def center(self) -> Vec3:
        """Centre of the bounds."""
        return as_vec3((np.asarray(self.min) + np.asarray(self.max)) / 2, "center")

    def signed_distance(self, points: Tensor) -> Tensor:
        """Signed distance [...] (metres, negative inside; within about one grid cell of exact)
        at points [..., 3]."""
        return self.grid.signed_distance(points)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "mesh", "path": self.path, "position": list(self.position),
                "rotation": [list(row) for row in self.rotation], "scale": float(self.scale)}

    def transform(self, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0, scale: float = 1.0) -> Mesh:
        """The mesh moved by a further placement ``position + R @ (scale * p)``."""
        outer = Placement.of(position, rotation, scale)
        return Mesh(self.path, outer.point(self.position), outer.compose(self.rotation), scale * self.scale,
                    self.resolution, self.padding)
