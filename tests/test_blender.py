"""Our BVH and GLB exports open in Blender: its own importers read them, and the joints Blender
poses (world positions, brought back from Blender's Z up) land on the motion's joints."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from motionprog.body.skeleton import JOINT_NAMES
from motionprog.motion import load_npz

BLENDER = shutil.which("blender")
FRAMES = list(range(60))
"""Motion frames compared (0-based): every frame of the 3 s excerpt."""
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
"""Blender (X, Y, Z) -> ours (x, y, z) = (X, Z, -Y): the inverse of both importers' default
axis conversion (forward -Z, up Y)."""

SCRIPT = r'''
"""Run inside Blender: import one file, pose it at the requested frames, write joint positions."""
import builtins
import json
import sys

import bpy

kind, source, out, request = sys.argv[sys.argv.index("--") + 1:]
request = json.loads(request)
sys.path.insert(0, request["numpy_dir"])  # ours first: Debian's numpy 1.24 lacks the np.bool its glTF importer uses
import io_anim_bvh.import_bvh

# Debian's Blender 3.4 runs on Python 3.11, which rejects the importer's open(path, "rU").
io_anim_bvh.import_bvh.open = lambda file, mode="r", *args, **kwargs: builtins.open(
    file, mode.replace("U", ""), *args, **kwargs)

scene = bpy.context.scene
if kind == "bvh":
    bpy.ops.import_anim.bvh(filepath=source, update_scene_fps=True)
    armature = next(o for o in scene.objects if o.type == "ARMATURE")
    action = armature.animation_data.action

    def position(name):
        return armature.matrix_world @ armature.pose.bones[name].head
else:
    scene.render.fps = 20  # the importer keys glTF times at the scene's frame rate
    bpy.ops.import_scene.gltf(filepath=source)
    action = scene.objects["pelvis"].animation_data.action

    def position(name):
        return scene.objects[name].matrix_world.translation

positions = []
for frame in request["frames"]:
    scene.frame_set(frame)
    positions.append([list(position(name)) for name in request["names"]])
with open(out, "w") as file:
    json.dump({"fps": scene.render.fps / scene.render.fps_base, "frame_range": list(action.frame_range),
               "keys": sorted({len(curve.keyframe_points) for curve in action.fcurves}),
               "extras": {key: scene[key] for key in scene.keys() if key in ("text", "fps", "frames")},
               "positions": positions}, file)
'''


def blender_joints(kind: str, source: Path, frames: list[int], tmp_path: Path) -> dict:
    """Import ``source`` with Blender's own importer for ``kind`` ("bvh" or "gltf") in a
    background Blender, pose it at each scene frame, and return the scene's frame rate, the
    action's frame range, the distinct key counts of its curves, the scene extras and the 22
    joint positions [F, 22, 3] (metres, converted back to our Y up)."""
    script = tmp_path / "read_joints.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"{kind}.json"
    request = {"frames": frames, "names": list(JOINT_NAMES), "numpy_dir": str(Path(np.__file__).parents[1])}
    done = subprocess.run(
        [BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(script),
         "--", kind, str(source), str(out), json.dumps(request)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and out.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    result["positions"] = np.array(result["positions"]) @ Z_UP_TO_Y_UP.T
    return result


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
def test_blender_bvh_importer_poses_the_motion(cli, cmu_excerpt: Path, tmp_path: Path) -> None:
    assert cli("convert", cmu_excerpt, tmp_path / "clip.bvh")[0] == 0
    motion = load_npz(cmu_excerpt)
    result = blender_joints("bvh", tmp_path / "clip.bvh", [1 + f for f in FRAMES], tmp_path)  # scene frames from 1
    assert result["fps"] == 20.0  # the importer set the scene to the file's Frame Time
    assert result["frame_range"] == [1.0, 60.0] and result["keys"] == [60]  # one key per frame
    error = np.linalg.norm(result["positions"] - motion.joints[FRAMES], axis=-1)
    assert error.max() < 2e-5, f"worst joint {error.max() * 1000:.4f} mm"  # reached: 6.1e-6 m (6 decimals in the file)


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
def test_blender_gltf_importer_plays_the_motion(cli, cmu_excerpt: Path, tmp_path: Path) -> None:
    assert cli("convert", cmu_excerpt, tmp_path / "clip.glb")[0] == 0
    motion = load_npz(cmu_excerpt)
    result = blender_joints("gltf", tmp_path / "clip.glb", FRAMES, tmp_path)  # time f / 20 s is frame f
    assert result["frame_range"] == [0.0, 59.0] and result["keys"] == [60]
    assert result["extras"] == {"text": motion.text, "fps": 20, "frames": 60}
    error = np.linalg.norm(result["positions"] - motion.joints[FRAMES], axis=-1)
    assert error.max() < 1e-5, f"worst joint {error.max() * 1000:.4f} mm"  # reached: 4.2e-7 m (float32 file)
