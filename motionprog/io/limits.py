"""Size limits on the files motionprog reads, checked before anything is allocated.

A small hostile file must not make a reader allocate gigabytes: a BVH header can declare a
million frames, ``Frame Time: 999`` stretches a clip to hours at 20 fps, a compressed
``.npz`` can inflate a thousandfold. Each limit is far above what real data needs (a 5-minute
120 fps capture of a 60-joint skeleton fits) and is stated in ``docs/security.md``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from motionprog.errors import InputError

MAX_FILE_BYTES = 512 * 2**20
"""Largest motion, model-argument or mesh file read (512 MiB)."""
MAX_MOTION_SECONDS = 3600.0
"""Longest motion read from a file: one hour."""
MAX_MOTION_FRAMES = 72_000
"""Most frames of a motion read from a file (one hour at 20 fps)."""
MAX_BVH_BYTES = 128 * 2**20
"""Largest BVH file read (128 MiB of text)."""
MAX_BVH_JOINTS = 1024
"""Most joints (end sites included) of a BVH hierarchy; also bounds its nesting depth."""
MAX_BVH_VALUES = 8_000_000
"""Most MOTION values of a BVH file (frames times channels)."""
MAX_BVH_JOINT_FRAMES = 4_000_000
"""Most joint poses a BVH file may need (frames times joints), each a 3x3 rotation in memory."""
MIN_FRAME_TIME = 1e-4
"""Shortest BVH frame time, seconds (10 kHz)."""
MAX_FPS = 1000.0
"""Highest frame rate accepted in a motion file."""
MAX_TEXT_CHARS = 1_000_000
"""Longest text or metadata string read from a motion file."""


def check_file_size(path: str | os.PathLike, limit: int = MAX_FILE_BYTES) -> int:
    """The size of ``path`` in bytes; InputError naming the file when it exceeds ``limit``."""
    size = Path(path).stat().st_size
    if size > limit:
        raise InputError(f"{path}: {size / 2**20:.0f} MiB is over the {limit / 2**20:.0f} MiB limit on input files")
    return size


def check_frames(path: str | os.PathLike, frames: int, fps: float) -> None:
    """InputError naming the file when ``frames`` at ``fps`` exceed the limits on a motion's length."""
    if frames > MAX_MOTION_FRAMES or frames / fps > MAX_MOTION_SECONDS:
        raise InputError(f"{path}: {frames} frames at {fps:g} fps is over the limit of {MAX_MOTION_FRAMES} frames "
                         f"and {MAX_MOTION_SECONDS:g} s per motion")


def check_shape(path: str | os.PathLike, what: str, shape: Sequence[int], limit: int) -> None:
    """InputError naming the file when an array of ``shape`` would hold more than ``limit`` values."""
    count = 1
    for size in shape:
        count *= int(size)
    if count > limit:
        raise InputError(f"{path}: {what} of shape {list(shape)} holds {count} values, over the limit of {limit}")


def read_npy_header(handle: BinaryIO) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype of the ``.npy`` data at ``handle``, read from its header alone
    (nothing is allocated); leaves ``handle`` at the start of the data."""
    version = np.lib.format.read_magic(handle)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(handle)
    return shape, dtype
