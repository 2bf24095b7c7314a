"""Mesh files: the vertices of their triangles, read without trimesh where the format is simple.

Checking a program needs a mesh's bounds (``top``, ``center``) and to know that its file is a
mesh at all, not its signed distance. OBJ and STL (binary or text) are read here with the
standard library and numpy, which keeps ``motionprog check`` light; other formats (PLY, GLB,
OFF, ...) are read by trimesh, as is every format when a distance grid or a drawing needs the
triangles. Both readers keep only the vertices that a face uses, so bounds agree.
"""

from __future__ import annotations

import functools
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from motionprog.errors import InputError

if TYPE_CHECKING:
    import trimesh

STL_HEADER = 84
"""Bytes before the triangles of a binary STL: an 80-byte header and the triangle count."""
STL_TRIANGLE = np.dtype([("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
"""One triangle record of a binary STL (50 bytes)."""


def face_vertices(path: Path) -> np.ndarray:
    """The vertices [V, 3] used by the faces of the mesh file at ``path`` (file units); InputError
    naming the file when it is missing, unreadable or has no triangles."""
    if not path.is_file():
        raise InputError(f"mesh file not found: {path}")
    return _face_vertices(str(path), os.stat(path).st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _face_vertices(path: str, modified_ns: int) -> np.ndarray:
    suffix = Path(path).suffix.lower()
    if suffix not in (".obj", ".stl"):
        return np.asarray(load_trimesh(Path(path)).vertices, dtype=np.float64)
    data = Path(path).read_bytes()
    try:
        vertices = _obj(data.decode("utf-8")) if suffix == ".obj" else _stl(data)
    except UnicodeDecodeError as exc:
        kind = "UTF-8 text" if suffix == ".obj" else "a binary STL (its size does not match) nor UTF-8 text"
        raise InputError(f"cannot read mesh {path}: the file is not {kind}") from exc
    except (ValueError, IndexError) as exc:
        raise InputError(f"cannot read mesh {path}: {exc}".splitlines()[0]) from exc
    if len(vertices) == 0:
        raise InputError(f"mesh {path} has no triangles (a point cloud or an empty scene)")
    if not np.isfinite(vertices).all():
        raise InputError(f"cannot read mesh {path}: a vertex of a face is not three finite numbers")
    return vertices


def _obj(text: str) -> np.ndarray:
    """The vertices that the ``f`` lines of a Wavefront OBJ text use (negative indices count back)."""
    vertices: list[tuple[float, float, float]] = []
    used: set[int] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if fields[:1] == ["v"]:
            if len(fields) < 4:
                raise ValueError(f"line {number}: a vertex needs three coordinates")
            vertices.append((float(fields[1]), float(fields[2]), float(fields[3])))
        elif fields[:1] == ["f"]:
            if len(fields) < 4:
                raise ValueError(f"line {number}: a face needs three vertices")
            for corner in fields[1:]:
                index = int(corner.split("/")[0])
                index = index - 1 if index > 0 else len(vertices) + index
                if not 0 <= index < len(vertices):
                    raise IndexError(f"line {number}: face vertex {corner} does not exist")
                used.add(index)
    return np.array([vertices[i] for i in sorted(used)], dtype=np.float64).reshape(-1, 3)


def _stl(data: bytes) -> np.ndarray:
    """The triangle corners of a binary STL (its size matches its triangle count) or a text one."""
    if len(data) >= STL_HEADER:
        (count,) = struct.unpack_from("<I", data, 80)
        if len(data) == STL_HEADER + count * STL_TRIANGLE.itemsize:
            triangles = np.frombuffer(data, STL_TRIANGLE, count=count, offset=STL_HEADER)
            return triangles["corners"].reshape(-1, 3).astype(np.float64)
    text = data.decode("utf-8")
    if not text.lstrip().startswith("solid"):
        raise ValueError("neither a binary STL nor a text one starting with 'solid'")
    corners = [tuple(float(v) for v in line.split()[1:4]) for line in text.splitlines()
               if line.split()[:1] == ["vertex"]]
    if len(corners) % 3 or any(len(c) != 3 for c in corners):
        raise ValueError("a facet needs three vertices of three coordinates")
    return np.array(corners, dtype=np.float64).reshape(-1, 3)


def load_trimesh(path: Path) -> trimesh.Trimesh:
    """The mesh in a file, read by trimesh (shared and cached per file version: callers must not
    modify it); InputError naming the file when it cannot be used."""
    if not path.is_file():
        raise InputError(f"mesh file not found: {path}")
    return _read(str(path), os.stat(path).st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _read(path: str, modified_ns: int) -> trimesh.Trimesh:
    import trimesh

    try:
        mesh = trimesh.load(path, force="mesh")
    except Exception as exc:  # trimesh raises many kinds for malformed files
        raise InputError(f"cannot read mesh {path}: {exc}".splitlines()[0]) from exc
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise InputError(f"mesh {path} has no triangles (a point cloud or an empty scene)")
    return mesh
