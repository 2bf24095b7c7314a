"""FBX export through Blender: the skinned GLB (:mod:`motionprog.io.gltf`) imported by Blender's
glTF importer and written by its FBX exporter, in a headless ``blender -b``.

FBX is a closed format with no Python writer we trust, and Blender's exporter is what most
users' pipelines already accept. Nothing from the motion reaches Blender as code: the script is
fixed text, and the GLB and output paths travel as arguments after ``--``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from motionprog.errors import InputError
from motionprog.io.atomic import write_bytes
from motionprog.io.gltf import write_gltf
from motionprog.io.rigs import DEFAULT_RIG, RigMap
from motionprog.motion import Motion

BLENDER_TIMEOUT_S = 300
"""How long Blender may take to convert one motion before the export is abandoned."""

SCRIPT = """
import sys
import bpy
import numpy
if "bool" not in vars(numpy):  # Blender 3.4's glTF importer calls numpy.bool, gone since NumPy 1.24
    numpy.bool = numpy.bool_
glb, fbx, fps, frames = sys.argv[sys.argv.index("--") + 1:]
for obj in list(bpy.data.objects):
    bpy.data.objects.remove(obj, do_unlink=True)
scene = bpy.context.scene
scene.render.fps, scene.render.fps_base = int(fps), 1.0
bpy.ops.import_scene.gltf(filepath=glb)
scene.frame_start, scene.frame_end = 0, int(frames) - 1  # the frames baked: after the import, which sets its own
bpy.ops.export_scene.fbx(filepath=fbx, add_leaf_bones=False, bake_anim=True, bake_anim_use_all_actions=False,
                         bake_anim_use_nla_strips=False, bake_anim_simplify_factor=0.0)
"""
"""Run inside Blender: import the GLB at the motion's frame rate, export every frame as FBX."""


def blender(path: Path) -> str:
    """The ``blender`` executable on PATH; InputError naming Blender (and ``path``) when there is none."""
    found = shutil.which("blender")
    if found is None:
        raise InputError(f"{path}: FBX export needs Blender, which is not installed (no `blender` on PATH)")
    return found


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def blender_environment() -> dict[str, str]:
    """This process's environment for a headless Blender, with PATH cleared of folders whose
    ``python3`` lies outside ``/usr``: Debian's Blender takes its Python prefix from the first
    ``python3`` on PATH, and a virtual environment's or pyenv's prefix holds no numpy for it
    (its glTF importer then fails to import numpy)."""
    def foreign_python(folder: str) -> bool:
        python = Path(folder) / "python3"
        return python.exists() and not os.path.realpath(python).startswith("/usr/")

    path = os.pathsep.join(f for f in os.environ.get("PATH", "").split(os.pathsep) if f and not foreign_python(f))
    return {**os.environ, "PATH": path}


def write_fbx(motion: Motion, path: str | os.PathLike, rig: RigMap = DEFAULT_RIG) -> None:
    """Write ``motion`` as FBX (the skinned armature of the GLB export, bones named by ``rig``),
    atomically; InputError in one line when Blender is missing or fails."""
    path = Path(path)
    if motion.fps != int(motion.fps):
        raise InputError(f"{path}: FBX export needs a whole frame rate, got {motion.fps:g}")
    executable = blender(path)
    with tempfile.TemporaryDirectory(prefix="motionprog-fbx-") as folder:
        glb, fbx = Path(folder) / "motion.glb", Path(folder) / "motion.fbx"
        write_gltf(motion, glb, rig)
        command = [executable, "-b", "--factory-startup", "--python-exit-code", "1", "--python-expr", SCRIPT,
                   "--", str(glb), str(fbx), str(int(motion.fps)), str(motion.num_frames)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=BLENDER_TIMEOUT_S,
                                  env=blender_environment())
        except subprocess.TimeoutExpired:
            raise InputError(f"{path}: Blender did not finish the FBX export in {BLENDER_TIMEOUT_S} s") from None
        if done.returncode != 0 or not fbx.is_file():
            reason = _last_line(done.stderr) if done.stderr.strip() else _last_line(done.stdout)
            raise InputError(f"{path}: Blender failed to export FBX (exit {done.returncode}): {reason}")
        write_bytes(path, fbx.read_bytes())
