"""Our BVH and GLB exports open in Blender: its own importers read them, and the joints Blender
poses (world positions, brought back from Blender's Z up) land on the motion's joints."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from motionprog.body.skeleton import JOINT_NAMES, RIG_REST_POSITIONS
from motionprog.io.rigs import RIGS
from motionprog.motion import Motion, load_npz

BLENDER = shutil.which("blender")
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
sys.path.append(request["numpy_dir"])  # Debian's blender wants python3-numpy; else borrow ours
import numpy
import io_anim_bvh.import_bvh

# Debian's Blender 3.4 runs on Python 3.11, which rejects the importer's open(path, "rU"),
# and its glTF importer calls numpy.bool, which NumPy 1.24 (Debian's) removed.
io_anim_bvh.import_bvh.open = lambda file, mode="r", *args, **kwargs: builtins.open(
    file, mode.replace("U", ""), *args, **kwargs)
if not hasattr(numpy, "bool"):
    numpy.bool = numpy.bool_

scene = bpy.context.scene
before = set(bpy.data.objects)
if kind == "bvh":
    bpy.ops.import_anim.bvh(filepath=source, update_scene_fps=True)
elif kind == "fbx":
    scene.render.fps = 20  # the importer keys FBX times at the scene's frame rate
    bpy.ops.import_scene.fbx(filepath=source)
else:
    scene.render.fps = 20  # the importer keys glTF times at the scene's frame rate
    bpy.ops.import_scene.gltf(filepath=source)
imported = [o for o in bpy.data.objects if o not in before]
armatures = [o for o in imported if o.type == "ARMATURE"]
armature = armatures[0]
action = armature.animation_data.action
skinned = [o.name for o in imported if o.type == "MESH" and any(m.type == "ARMATURE" and m.object == armature
                                                              for m in o.modifiers)]


def position(name):
    return list(armature.matrix_world @ armature.pose.bones[name].head)


rest = [list(armature.matrix_world @ armature.data.bones[name].head_local) for name in request["names"]]
positions = []
for frame in request["frames"]:
    scene.frame_set(frame)
    positions.append([position(name) for name in request["names"]])
with open(out, "w") as file:
    json.dump({"fps": scene.render.fps / scene.render.fps_base, "frame_range": list(action.frame_range),
               "keys": sorted({len(curve.keyframe_points) for curve in action.fcurves}),
               "extras": {key: scene[key] for key in scene.keys() if key in ("text", "fps", "frames")},
               "armatures": len(armatures), "bones": len(armature.data.bones), "actions": len(bpy.data.actions),
               "skinned": skinned, "rest": rest, "positions": positions}, file)
'''


def blender_joints(kind: str, source: Path, frames: list[int], tmp_path: Path,
                   names: tuple[str, ...] = JOINT_NAMES) -> dict:
    """Import ``source`` with Blender's own importer for ``kind`` ("bvh" or "gltf") in a
    background Blender, pose it at each scene frame, and return the scene's frame rate, the
    action's frame range, the distinct key counts of its curves, the scene extras, the number of
    armatures, bones and actions, the meshes skinned to the armature, and the rest heads
    [22, 3] and posed heads [F, 22, 3] of the bones ``names`` (metres, converted back to our Y up)."""
    script = tmp_path / "read_joints.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"{kind}.json"
    request = {"frames": frames, "names": list(names), "numpy_dir": str(Path(np.__file__).parents[1])}
    done = subprocess.run(
        [BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(script),
         "--", kind, str(source), str(out), json.dumps(request)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and out.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    result["positions"] = np.array(result["positions"]) @ Z_UP_TO_Y_UP.T
    result["rest"] = np.array(result["rest"]) @ Z_UP_TO_Y_UP.T
    return result


def exported_and_imported(cli, npz: Path, suffix: str, tmp_path: Path) -> tuple[Motion, dict]:
    """``motionprog convert`` the motion to ``clip<suffix>``, import it in Blender at every frame,
    check the importer made one armature of 22 bones bound in the rig's T-pose with one action
    keyed at every frame; returns the motion and :func:`blender_joints`'s result."""
    assert cli("convert", npz, tmp_path / f"clip{suffix}")[0] == 0
    motion = load_npz(npz)
    first = 0 if suffix == ".glb" else 1  # glTF time f / 20 s is frame f; BVH and FBX (anim_offset) start at 1
    frames = [first + f for f in range(motion.num_frames)]
    result = blender_joints({".bvh": "bvh", ".fbx": "fbx"}.get(suffix, "gltf"), tmp_path / f"clip{suffix}", frames,
                            tmp_path)
    assert result["armatures"] == 1 and result["bones"] == 22 and result["actions"] == 1
    assert result["frame_range"] == [float(frames[0]), float(frames[-1])] and result["keys"] == [len(frames)]
    assert np.allclose(result["rest"], RIG_REST_POSITIONS, atol=1e-5)  # T-pose, feet on the floor
    return motion, result


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
@pytest.mark.parametrize("source", ["cmu_excerpt", "optimised_npz"])
def test_blender_bvh_importer_poses_the_motion(cli, source: str, tmp_path: Path, request) -> None:
    motion, result = exported_and_imported(cli, request.getfixturevalue(source), ".bvh", tmp_path)
    assert result["fps"] == 20.0  # the importer set the scene to the file's Frame Time
    error = np.linalg.norm(result["positions"] - motion.joints, axis=-1)
    assert error.max() < 2e-5, f"worst joint {error.max() * 1000:.4f} mm"  # the file keeps 6 decimals


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
@pytest.mark.parametrize("source", ["cmu_excerpt", "optimised_npz"])
def test_blender_gltf_importer_gives_one_skinned_armature(cli, source: str, tmp_path: Path, request) -> None:
    motion, result = exported_and_imported(cli, request.getfixturevalue(source), ".glb", tmp_path)
    assert result["skinned"] == ["body"]
    assert result["extras"] == {"text": motion.text, "fps": 20, "frames": motion.num_frames}
    error = np.linalg.norm(result["positions"] - motion.joints, axis=-1)
    assert error.max() < 1e-5, f"worst joint {error.max() * 1000:.4f} mm"  # float32 file


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
def test_fbx_export_reimports_as_one_armature_posing_the_motion(cli, optimised_npz: Path, tmp_path: Path) -> None:
    """``convert X.npz X.fbx`` goes through Blender's glTF importer and FBX exporter; Blender's
    FBX importer then finds one armature of 22 bones with one action of the motion's length."""
    motion, result = exported_and_imported(cli, optimised_npz, ".fbx", tmp_path)
    assert result["skinned"] == ["body"]
    error = np.linalg.norm(result["positions"] - motion.joints, axis=-1)
    assert error.max() < 1e-5, f"worst joint {error.max() * 1000:.4f} mm"  # measured 3.9e-6 m


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
@pytest.mark.parametrize(("rig", "bones"), [("mixamo", 22), ("unreal", 23)])
def test_fbx_with_a_rig_map_keeps_its_bone_names(cli, optimised_npz: Path, tmp_path: Path, rig: str,
                                                bones: int) -> None:
    """``--rig`` names survive Blender's glTF import and FBX export; unreal's added ``root`` is a
    23rd bone, and every renamed bone poses its joint."""
    assert cli("convert", optimised_npz, tmp_path / "clip.fbx", "--rig", rig)[0] == 0
    motion = load_npz(optimised_npz)
    frames = [1 + f for f in range(motion.num_frames)]
    result = blender_joints("fbx", tmp_path / "clip.fbx", frames, tmp_path, RIGS[rig].names)
    assert result["armatures"] == 1 and result["bones"] == bones and result["actions"] == 1
    assert np.linalg.norm(result["positions"] - motion.joints, axis=-1).max() < 2e-5  # measured 1.1e-5 m (unreal)
