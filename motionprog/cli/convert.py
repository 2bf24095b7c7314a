"""`motionprog convert IN OUT`: move motions between file formats."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import typer
from rich.console import Console

from motionprog.errors import InputError
from motionprog.io.formats import READERS, read_motions, writer_for
from motionprog.io.outputs import check_outputs
from motionprog.io.rigs import RIGS, rig_named
from motionprog.motion import retime

console = Console(highlight=False, soft_wrap=True)


EXPORT_FPS = (20, 24, 25, 30, 60)
"""Frame rates ``--fps`` resamples to."""

RIGGED = (".bvh", ".glb", ".gltf", ".fbx")
"""Output extensions that write an armature, so ``--rig`` applies."""


def output_paths(out: Path, count: int) -> list[Path]:
    """``out`` for one motion; ``OUT_stem_000.ext``, ``..._001.ext``, ... beside it for several."""
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{i:03d}{out.suffix}") for i in range(count)]


def convert(
    source: Path = typer.Argument(..., metavar="IN", help="Input motion file (.npz, .npy, ...)."),
    target: Path = typer.Argument(..., metavar="OUT", help="Output file; its extension picks the format."),
    from_format: str = typer.Option(
        None, "--from", help=f"Input format, overriding the extension: {', '.join(READERS)}."
    ),
    index: int = typer.Option(None, "--index", help="Convert only this motion of a multi-motion file (from 0)."),
    fps: float = typer.Option(
        None, "--fps", help=f"Resample to this frame rate: {', '.join(map(str, EXPORT_FPS))} (rotations by slerp)."
    ),
    rig: str = typer.Option(
        None, "--rig", help=f"Name the bones for this rig ({', '.join(RIGS)}); .bvh, .glb, .gltf, .fbx only."
    ),
) -> None:
    """Convert a motion file; MDM results with several motions give OUT_stem_000.ext, ... .

    Reads .npz, .npy (features, joints or MDM results, whose pickle is loaded without running
    code) and .bvh, within the size limits of docs/security.md; OUT is never IN. Writes .npz,
    .npy, .bvh, .glb, .gltf, and .fbx through Blender when it is installed.
    """
    writer = writer_for(target)
    if rig is not None:
        writer = partial(writer, rig=rig_named(rig))
        if target.suffix.lower() not in RIGGED:
            raise InputError(f"{target}: --rig applies to {', '.join(RIGGED)} files, not {target.suffix!r}")
    if fps is not None and fps not in EXPORT_FPS:
        raise InputError(f"unsupported --fps {fps:g} (use {', '.join(map(str, EXPORT_FPS))})")
    check_outputs([source], {"OUT": (target, ())})
    motions = read_motions(source, from_format)
    if index is not None:
        if not 0 <= index < len(motions):
            raise InputError(f"{source}: --index {index} is out of range (the file holds {len(motions)} motions)")
        motions = [motions[index]]
    paths = output_paths(target, len(motions))
    check_outputs([source], {f"OUT ({i})": (path, ()) for i, path in enumerate(paths)})
    for motion, path in zip(motions, paths):
        motion = retime(motion, fps) if fps is not None else motion
        writer(motion, path)
        console.print(f"wrote {path} ({motion.num_frames} frames, {motion.duration:.2f} s)", markup=False)
    if rig is not None and rig_named(rig).added():
        console.print(f"--rig {rig} added the bones {', '.join(rig_named(rig).added())} (they move no joint)",
                      markup=False)


def register(app: typer.Typer) -> None:
    """Add the `convert` command to the app."""
    app.command("convert")(convert)
