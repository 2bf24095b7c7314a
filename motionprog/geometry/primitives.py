"""Geometric primitives and their signed distances: point, line, plane, box, sphere, cylinder.

Conventions: metres, Y up, rotations in degrees. A signed distance is negative inside a solid,
zero on its surface and positive outside; points and lines have no inside (distance >= 0).
Every distance takes points ``[..., 3]`` of any float dtype and device and returns ``[...]``,
and has finite gradients everywhere (faces, edges, corners, centres, axes).

Scene objects are frozen dataclasses holding plain floats, with ``signed_distance``,
``closest_point``, named properties, ``to_dict()`` (JSON for renderers) and ``transform``. They
are built and measured without torch (the checker builds them); a distance calls the tensor
functions of :mod:`motionprog.geometry.distances`, which import torch at that first use.

A rotation is given as a yaw angle about +Y (one number), as Euler angles ``(rx, ry, rz)``
applied about the world X, then Y, then Z axes (``R = Rz @ Ry @ Rx``), or as a 3x3 matrix;
objects store the matrix. A local point ``q`` sits at ``center + R @ q`` in the world.
``transform(position, rotation, scale)`` maps every defining point p of an object to
``position + R @ (scale * p)`` (about the world origin) and returns a new object.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from motionprog.errors import InputError

if TYPE_CHECKING:
    from torch import Tensor

Vec3 = tuple[float, float, float]
Matrix3 = tuple[Vec3, Vec3, Vec3]
Rotation = float | Sequence[float] | Sequence[Sequence[float]]
"""Yaw in degrees, Euler (rx, ry, rz) in degrees, or a 3x3 rotation matrix."""

IDENTITY: Matrix3 = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def rotation_matrix(rotation: Rotation) -> Matrix3:
    """The 3x3 matrix of a rotation given as yaw degrees, Euler XYZ degrees or a matrix."""
    value = np.asarray(rotation, dtype=np.float64)
    if value.shape == ():
        value = np.array([0.0, float(value), 0.0])
    if value.shape == (3,):
        rx, ry, rz = np.radians(value)
        cx, sx, cy, sy, cz, sz = math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry), math.cos(rz), math.sin(rz)
        rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
        rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
        value = rot_z @ rot_y @ rot_x
    if value.shape != (3, 3) or not np.allclose(value @ value.T, np.eye(3), atol=1e-6):
        raise InputError(f"rotation must be a yaw angle, three Euler angles or a 3x3 rotation matrix, got {rotation!r}")
    return _matrix(value)


def as_vec3(values: Any, name: str) -> Vec3:
    """Three finite floats from ``values``; InputError naming ``name`` otherwise."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (3,) or not np.isfinite(array).all():
        raise InputError(f"{name} must be three finite numbers, got {values!r}")
    return (float(array[0]), float(array[1]), float(array[2]))


def _matrix(array: np.ndarray) -> Matrix3:
    return tuple(tuple(float(v) for v in row) for row in array)  # type: ignore[return-value]


def _positive(value: float, name: str) -> float:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number of metres, got {value!r}")
    return float(value)


# -- scene objects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """A similarity transform ``p -> position + R @ (scale * p)``, applied to scene objects."""

    position: Vec3 = (0.0, 0.0, 0.0)
    rotation: Matrix3 = IDENTITY
    scale: float = 1.0

    @classmethod
    def of(cls, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0, scale: float = 1.0) -> Placement:
        """Validate and build a placement (rotation as yaw degrees, Euler degrees or matrix)."""
        return cls(as_vec3(position, "position"), rotation_matrix(rotation), _positive(scale, "scale"))

    def point(self, p: Vec3) -> Vec3:
        """Where the placement takes the point ``p``."""
        return as_vec3(np.asarray(self.position) + np.asarray(self.rotation) @ (self.scale * np.asarray(p)), "point")

    def direction(self, d: Vec3) -> Vec3:
        """Where the placement's rotation takes the direction ``d`` (not scaled)."""
        return as_vec3(np.asarray(self.rotation) @ np.asarray(d), "direction")

    def compose(self, rotation: Matrix3) -> Matrix3:
        """The rotation of an object rotated by ``rotation`` and then placed."""
        return _matrix(np.asarray(self.rotation) @ np.asarray(rotation))


class Bounded:
    """World-axis-aligned bounds of a solid from the points that span it (``hull_points``)."""

    def hull_points(self) -> np.ndarray:
        """Points [N, 3] (world, metres) whose bounds are the solid's."""
        raise NotImplementedError

    @property
    def min(self) -> Vec3:
        """Lower corner of the world-axis-aligned bounds."""
        return as_vec3(self.hull_points().min(axis=0), "min")

    @property
    def max(self) -> Vec3:
        """Upper corner of the world-axis-aligned bounds."""
        return as_vec3(self.hull_points().max(axis=0), "max")

    @property
    def top(self) -> float:
        """Highest y, metres."""
        return self.max[1]

    @property
    def bottom(self) -> float:
        """Lowest y, metres."""
        return self.min[1]


@dataclass(frozen=True)
class Point:
    """A point in space, metres."""

    position: Vec3

    def __post_init__(self) -> None:
        object.__setattr__(self, "position", as_vec3(self.position, "point position"))

    @property
    def center(self) -> Vec3:
        return self.position

    def signed_distance(self, points: Tensor) -> Tensor:
        """Distance [...] (metres, >= 0) from points [..., 3]."""
        from motionprog.geometry.distances import like, point_distance

        return point_distance(points, like(self.position, points))

    def closest_point(self, points: Tensor) -> Tensor:
        """The point itself, broadcast to points [..., 3]."""
        from motionprog.geometry.distances import like

        return like(self.position, points).expand_as(points)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "point", "position": list(self.position)}

    def transform(self, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0, scale: float = 1.0) -> Point:
        """The point moved by ``position + R @ (scale * p)``."""
        return Point(Placement.of(position, rotation, scale).point(self.position))


@dataclass(frozen=True)
class Line:
    """The segment from ``a`` to ``b`` (``segment=False``: the infinite line through them), metres."""

    a: Vec3
    b: Vec3
    segment: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", as_vec3(self.a, "line start"))
        object.__setattr__(self, "b", as_vec3(self.b, "line end"))
        if self.a == self.b:
            raise InputError(f"a line needs two different points, got {self.a} twice")

    @property
    def direction(self) -> Vec3:
        """Unit vector from a to b."""
        d = np.subtract(self.b, self.a)
        return as_vec3(d / np.linalg.norm(d), "direction")

    @property
    def length(self) -> float:
        return float(np.linalg.norm(np.subtract(self.b, self.a)))

    @property
    def center(self) -> Vec3:
        return as_vec3((np.asarray(self.a) + np.asarray(self.b)) / 2, "center")

    def signed_distance(self, points: Tensor) -> Tensor:
        """Distance [...] (metres, >= 0) from points [..., 3] to the segment or line."""
        from motionprog.geometry.distances import like, line_distance

        return line_distance(points, like(self.a, points), like(self.b, points), self.segment)

    def closest_point(self, points: Tensor) -> Tensor:
        """Closest point [..., 3] on the segment or line."""
        from motionprog.geometry.distances import like, line_closest_point

        return line_closest_point(points, like(self.a, points), like(self.b, points), self.segment)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "line", "a": list(self.a), "b": list(self.b), "segment": self.segment}

    def transform(self, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0, scale: float = 1.0) -> Line:
        placement = Placement.of(position, rotation, scale)
        return Line(placement.point(self.a), placement.point(self.b), self.segment)


@dataclass(frozen=True)
class Plane:
    """The plane through ``point`` with ``normal`` (normalised on construction); above = +normal side."""

    point: Vec3
    normal: Vec3 = (0.0, 1.0, 0.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "point", as_vec3(self.point, "plane point"))
        normal = np.asarray(as_vec3(self.normal, "plane normal"))
        if np.linalg.norm(normal) == 0:
            raise InputError("plane normal must not be the zero vector")
        object.__setattr__(self, "normal", as_vec3(normal / np.linalg.norm(normal), "plane normal"))

    @property
    def center(self) -> Vec3:
        return self.point

    def signed_distance(self, points: Tensor) -> Tensor:
        """Height [...] (metres) of points [..., 3] above the plane; negative below."""
        from motionprog.geometry.distances import like, plane_signed_distance

        return plane_signed_distance(points, like(self.point, points), like(self.normal, points))

    def above(self, points: Tensor) -> Tensor:
        """Margin [...] (metres) of "points are above the plane": the signed distance."""
        return self.signed_distance(points)

    def below(self, points: Tensor) -> Tensor:
        """Margin [...] (metres) of "points are below the plane": minus the signed distance."""
        return -self.signed_distance(points)

    def closest_point(self, points: Tensor) -> Tensor:
        """Orthogonal projection [..., 3] of points onto the plane."""
        from motionprog.geometry.distances import like

        return points - self.signed_distance(points).unsqueeze(-1) * like(self.normal, points)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "plane", "point": list(self.point), "normal": list(self.normal)}

    def transform(self, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0, scale: float = 1.0) -> Plane:
        placement = Placement.of(position, rotation, scale)
        return Plane(placement.point(self.point), placement.direction(self.normal))


@dataclass(frozen=True)
class Box(Bounded):
    """A solid box: ``center``, edge lengths ``size`` (x, y, z before rotation), metres, and
    ``rotation`` (yaw degrees, Euler XYZ degrees or a 3x3 matrix; stored as the matrix)."""

    center: Vec3
    size: Vec3
    rotation: Matrix3 = IDENTITY

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", as_vec3(self.center, "box center"))
        size = as_vec3(self.size, "box size")
        for value in size:
            _positive(value, "box size")
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "rotation", rotation_matrix(self.rotation))

    def _params(self, points: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        from motionprog.geometry.distances import like

        return like(self.center, points), like(self.size, points) / 2, like(self.rotation, points)

    @property
    def corners(self) -> np.ndarray:
        """The eight corners [8, 3] in world coordinates, metres."""
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
        return np.asarray(self.center) + (signs * np.asarray(self.size) / 2) @ np.asarray(self.rotation).T

    def hull_points(self) -> np.ndarray:
        return self.corners

    def signed_distance(self, points: Tensor) -> Tensor:
        """Exact signed distance [...] (metres, negative inside) from points [..., 3]."""
        from motionprog.geometry.distances import box_signed_distance

        return box_signed_distance(points, *self._params(points))

    def closest_point(self, points: Tensor) -> Tensor:
        """Closest point [..., 3] of the solid box (points inside are their own)."""
        from motionprog.geometry.distances import box_closest_point

        return box_closest_point(points, *self._params(points))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "box", "center": list(self.center), "size": list(self.size),
                "rotation": [list(row) for row in self.rotation]}

    def transform(self, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0, scale: float = 1.0) -> Box:
        placement = Placement.of(position, rotation, scale)
        return Box(placement.point(self.center), tuple(scale * s for s in self.size), placement.compose(self.rotation))


@dataclass(frozen=True)
class Sphere:
    """A solid ball: ``center`` and ``radius``, metres."""

    center: Vec3
    radius: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", as_vec3(self.center, "sphere center"))
        object.__setattr__(self, "radius", _positive(self.radius, "sphere radius"))

    @property
    def top(self) -> float:
        return self.center[1] + self.radius

    @property
    def bottom(self) -> float:
        return self.center[1] - self.radius

    def signed_distance(self, points: Tensor) -> Tensor:
        """Signed distance [...] (metres, negative inside) from points [..., 3]."""
        from motionprog.geometry.distances import like, sphere_signed_distance

        return sphere_signed_distance(points, like(self.center, points), self.radius)

    def closest_point(self, points: Tensor) -> Tensor:
        """Closest point [..., 3] of the solid ball (points inside are their own)."""
        from motionprog.geometry.distances import like, sphere_closest_point

        return sphere_closest_point(points, like(self.center, points), self.radius)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "sphere", "center": list(self.center), "radius": self.radius}

    def transform(self, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0, scale: float = 1.0) -> Sphere:
        return Sphere(Placement.of(position, rotation, scale).point(self.center), scale * self.radius)


@dataclass(frozen=True)
class Cylinder:
    """A solid capped cylinder: ``center`` (middle of the axis), ``radius``, ``height`` along the
    rotated +Y axis (upright by default), metres; ``rotation`` as for :class:`Box`."""

    center: Vec3
    radius: float
    height: float
    rotation: Matrix3 = IDENTITY

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", as_vec3(self.center, "cylinder center"))
        object.__setattr__(self, "radius", _positive(self.radius, "cylinder radius"))
        object.__setattr__(self, "height", _positive(self.height, "cylinder height"))
        object.__setattr__(self, "rotation", rotation_matrix(self.rotation))

    @property
    def axis(self) -> Vec3:
        """Unit direction of the axis in the world."""
        return as_vec3(np.asarray(self.rotation)[:, 1], "axis")

    @property
    def top(self) -> float:
        """Highest y of the cylinder, metres."""
        axis = np.asarray(self.axis)
        return self.center[1] + abs(axis[1]) * self.height / 2 + self.radius * math.sqrt(max(0.0, 1 - axis[1] ** 2))

    @property
    def bottom(self) -> float:
        """Lowest y of the cylinder, metres."""
        return 2 * self.center[1] - self.top

    def signed_distance(self, points: Tensor) -> Tensor:
        """Exact signed distance [...] (metres, negative inside) from points [..., 3]."""
        from motionprog.geometry.distances import cylinder_signed_distance, like

        return cylinder_signed_distance(
            points, like(self.center, points), self.radius, self.height / 2, like(self.rotation, points)
        )

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "cylinder", "center": list(self.center), "radius": self.radius, "height": self.height,
                "rotation": [list(row) for row in self.rotation]}

    def transform(self, position: Sequence[float] = (0.0, 0.0, 0.0), rotation: Rotation = 0.0, scale: float = 1.0) -> Cylinder:
        placement = Placement.of(position, rotation, scale)
        return Cylinder(placement.point(self.center), scale * self.radius, scale * self.height,
                        placement.compose(self.rotation))


Primitive = Point | Line | Plane | Box | Sphere | Cylinder
"""Any scene primitive; each has ``signed_distance(points [..., 3]) -> [...]`` and ``to_dict()``."""
