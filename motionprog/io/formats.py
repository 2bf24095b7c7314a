"""The motion file formats, by name and by extension: one table each, one line per format.

A reader takes a path and returns the motions in the file (a results file holds several);
a writer takes one Motion and a path and writes it atomically. Other modules add their
formats here with one line in each table that applies.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from motionprog.errors import InputError
from motionprog.io import bvh, fbx, gltf, humanml3d
from motionprog.motion import Motion, load_npz, save_npz

Reader = Callable[[Path], list[Motion]]
Writer = Callable[[Motion, Path], None]

READERS: dict[str, Reader] = {
    "npz": lambda path: [load_npz(path)],
    "npy": humanml3d.read_npy,
    "humanml3d-vecs": lambda path: [humanml3d.read_vecs(path)],
    "humanml3d-joints": lambda path: [humanml3d.read_joints(path)],
    "mdm-results": humanml3d.read_results,
    "bvh": lambda path: [bvh.read_bvh(path)],
}
"""Readers by format name (what ``--from`` accepts). ``npy`` tells the three ``.npy`` kinds
apart by content."""

READER_EXTENSIONS: dict[str, str] = {
    ".npz": "npz",
    ".npy": "npy",
    ".bvh": "bvh",
}
"""Format name of each input extension (lower case, with the dot)."""

WRITERS: dict[str, Writer] = {
    ".npz": save_npz,
    ".npy": humanml3d.write_joints,
    ".bvh": bvh.write_bvh,
    ".glb": gltf.write_gltf,
    ".gltf": gltf.write_gltf,
    ".fbx": fbx.write_fbx,
}
"""Writers by output extension; ``.npy`` writes joints float32 ``[T, 22, 3]``; ``.fbx`` needs Blender."""


def reader_for(path: str | os.PathLike, format_name: str | None = None) -> Reader:
    """The reader for ``path``: by ``format_name`` when given, else by its extension."""
    path = Path(path)
    if format_name is not None:
        if format_name not in READERS:
            raise InputError(f"unknown input format {format_name!r} (known: {', '.join(sorted(READERS))})")
        return READERS[format_name]
    suffix = path.suffix.lower()
    if suffix not in READER_EXTENSIONS:
        raise InputError(
            f"{path}: unknown input extension {suffix!r} "
            f"(known: {', '.join(sorted(READER_EXTENSIONS))}; or name a format with --from)"
        )
    return READERS[READER_EXTENSIONS[suffix]]


def writer_for(path: str | os.PathLike) -> Writer:
    """The writer for ``path``, by its extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        raise InputError(f"{path}: unknown output extension {suffix!r} (known: {', '.join(sorted(WRITERS))})")
    return WRITERS[suffix]


def read_motions(path: str | os.PathLike, format_name: str | None = None) -> list[Motion]:
    """All motions in ``path`` (see :func:`reader_for`); InputError names the file on failure."""
    path = Path(path)
    reader = reader_for(path, format_name)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return reader(path)
