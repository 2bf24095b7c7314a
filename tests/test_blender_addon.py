"""The Blender add-on: its zip, the scene description -> program text (Z up -> Y up), the engine
side (`motionprog blender-job`), and the add-on itself in a real background Blender: scene
export, Check, the starter text, and Generate end to end on the tiny model."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from motionprog.body.rotations import quat_multiply, quat_rotate
from motionprog.body.skeleton import JOINT_NAMES
from motionprog.io.blender_result import blender_axes, blender_result
from motionprog.lang import check_text
from motionprog.lang.scene_description import euler_xyz_degrees, identifiers, scene_program, y_up, y_up_rotation
from motionprog.motion import Motion, load_npz
from tests.test_llm import fenced, llm  # noqa: F401 -- llm: the loopback language model fixture

BLENDER = shutil.which("blender")
ENGINE = str(Path(sys.executable).with_name("motionprog"))
ADDON_DIR = Path(__file__).resolve().parents[1] / "motionprog" / "blender"
BAND = "pelvis_band: at frame 10: pelvis.y in [1.0, 1.02]\n"
"""A constraint the tiny model can satisfy (tests/test_run_cli.py)."""
FAST = {"iterations": 40, "steps": 4, "natural_weight": 0.0, "device": "cpu"}


def quarter_turn_about_z() -> list[list[float]]:
    return [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


def test_addon_zip_holds_the_addon_package(cli, tmp_path):
    out = tmp_path / "motionprog_blender.zip"
    status, output = cli("blender-addon", "-o", out)
    assert status == 0 and "wrote" in output
    names = zipfile.ZipFile(out).namelist()
    assert "motionprog_blender/__init__.py" in names and "motionprog_blender/engine.py" in names
    assert all(name.startswith("motionprog_blender/") and name.endswith(".py") for name in names)
    source = "".join(zipfile.ZipFile(out).read(name).decode() for name in names)
    assert "import motionprog" not in source and "from motionprog" not in source  # runs without the engine
    assert cli("blender-addon", "-o", tmp_path / "again.zip")[0] == 0
    assert (tmp_path / "again.zip").read_bytes() == out.read_bytes()  # reproducible


def test_addon_zip_refuses_another_suffix(cli, tmp_path):
    status, output = cli("blender-addon", "-o", tmp_path / "addon.tar")
    assert status == 2 and "addon.tar" in output and not (tmp_path / "addon.tar").exists()


def test_z_up_becomes_y_up_exactly():
    assert y_up((1.25, -2.5, 0.75)) == (1.25, 0.75, 2.5)  # Blender's -Y (forward) is our +Z
    turn = y_up_rotation(quarter_turn_about_z())  # a quarter turn about Blender's up is one about ours
    assert turn == [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]
    assert euler_xyz_degrees(turn) == pytest.approx((0.0, 90.0, 0.0))
    tilt = euler_xyz_degrees([[1, 0, 0], [0, math.cos(0.5), -math.sin(0.5)], [0, math.sin(0.5), math.cos(0.5)]])
    assert tilt == pytest.approx((math.degrees(0.5), 0.0, 0.0))


def test_names_become_distinct_identifiers():
    assert identifiers(["Cube", "Cube.001", "cube", "head", "2 bars", "Würfel", ""]) == [
        "cube", "cube_001", "cube_2", "head_obj", "obj_2_bars", "w_rfel", "obj"]


def test_described_scene_checks_with_the_objects_in_place():
    description = {
        "prompt": "a person walks forward", "length_s": 3, "seeds": 2, "constraints": BAND,
        "objects": [
            {"name": "Bar", "kind": "box", "center": [0, -2, 1.5], "size": [3, 0.2, 0.1],
             "rotation": quarter_turn_about_z()},
            {"name": "Goal", "kind": "point", "center": [0.5, -4, 0]},
            {"name": "Post", "kind": "cylinder", "center": [1, 1, 1], "radius": 0.25, "height": 2,
             "rotation": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
            {"name": "Ball", "kind": "sphere", "center": [-1, 0, 0.5], "radius": 0.5},
            {"name": "Floor", "kind": "plane", "center": [0, 0, 0], "normal": [0, 0, 1]}]}
    program = scene_program(description)
    assert program.source.splitlines()[program.user_line - 1] == BAND.strip()
    ir_program, diagnostics = check_text(program.source)
    assert diagnostics == []
    objects = {name: obj.to_dict() for name, obj in ir_program.scene}
    assert objects["goal"]["position"] == [0.5, 0.0, 4.0]
    bar = objects["bar"]
    assert bar["center"] == [0.0, 1.5, 2.0] and bar["size"] == [3.0, 0.1, 0.2]  # Blender's Z size is our Y size
    assert np.allclose(bar["rotation"], [[0, 0, 1], [0, 1, 0], [-1, 0, 0]], atol=1e-12)
    assert objects["post"]["center"] == [1.0, 1.0, -1.0] and objects["ball"]["radius"] == 0.5
    assert objects["floor"]["normal"] == [0.0, 1.0, 0.0]


def test_prompt_with_quotes_and_line_breaks_stays_one_header_line():
    program = scene_program({"prompt": 'a "slow"\nwalk', "length_s": 2, "seeds": 1, "constraints": BAND})
    assert program.source.splitlines()[0] == 'motion "a \\"slow\\" walk" for 2 s, seeds 1'
    assert check_text(program.source)[1] == []


def write_job(folder: Path, constraints: str, objects=(), **run) -> Path:
    job = folder / "job.json"
    job.write_text(json.dumps({"prompt": "a person walks", "length_s": 2, "seeds": 2, "objects": list(objects),
                               "constraints": constraints, "run": run}))
    return job


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_job_check_places_diagnostics_in_the_constraint_text(cli, tmp_path):
    goal = {"name": "Goal", "kind": "point", "center": [0, 0, 0]}
    job = write_job(tmp_path, f"{BAND}at end: lefthand.y > 1 m\n", [goal])
    status, output = cli("blender-job", job, "--check")
    assert status == 2
    (diagnostic,) = records(output)[0]["diagnostics"]
    assert (diagnostic["where"], diagnostic["line"], diagnostic["column"]) == ("constraints", 2, 9)
    assert "lefthand" in diagnostic["message"] and diagnostic["help"] == "did you mean 'left_hand'?"
    assert "scene {" in (tmp_path / "program.mprog").read_text()


def test_job_generates_with_progress_lines_and_writes_the_result_for_blender(cli, tmp_path, tiny_weights):
    status, output = cli("blender-job", write_job(tmp_path, BAND, model=str(tiny_weights), **FAST))
    assert status == 0, output
    lines = records(output)
    assert lines[0] == {"diagnostics": [], "names": {}}
    progress = [line["progress"] for line in lines if "progress" in line]
    assert progress == list(range(1, len(progress) + 1)) and lines[1]["total"] == 41
    assert lines[-1] == {"result": {"satisfied": True, "file": "result.json", "fps": 20, "frames": 40}}
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["report"]["constraints"][0]["name"] == "pelvis_band" and result["report"]["satisfied"]
    assert [bone["name"] for bone in result["bones"]] == list(JOINT_NAMES) and result["fps"] == 20.0
    assert np.shape(result["rotations"]) == (40, 22, 4) and np.shape(result["root"]) == (40, 3)
    joints = load_npz(tmp_path / "motion.npz").joints
    assert np.allclose(result["root"], blender_axes(joints[:, 0]), atol=1e-6)  # Z up: (x, -z, y)


def forward_kinematics(document: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Bone heads [T, B, 3] and world rotations [T, B, 4] of a result document: ``W[j] =
    W[parent] L[j]``, ``head[j] = head[parent] + W[parent] offset[j]``, the pelvis at ``root``."""
    rotations = torch.tensor(document["rotations"], dtype=torch.float64)
    world, heads = [], []
    for index, bone in enumerate(document["bones"]):
        parent, offset = bone["parent"], torch.tensor(bone["offset"], dtype=torch.float64)
        if parent < 0:
            world.append(rotations[:, index])
            heads.append(torch.tensor(document["root"], dtype=torch.float64))
        else:
            heads.append(heads[parent] + quat_rotate(world[parent], offset))
            world.append(quat_multiply(world[parent], rotations[:, index]))
    return torch.stack(heads, 1), torch.stack(world, 1)


def skinned_body(document: dict, frame: int) -> np.ndarray:
    """The body's vertices [V, 3] at ``frame`` as the glTF skin places them: each vertex turns
    and moves rigidly with its bone, from the bind pose (identity rotations)."""
    rest = {"rotations": [[[1.0, 0.0, 0.0, 0.0]] * len(document["bones"])], "root": [document["bones"][0]["offset"]]}
    rest_heads = forward_kinematics(document | rest)[0][0]
    heads, world = (values[frame] for values in forward_kinematics(document))
    bones = torch.tensor(document["body"]["bones"])
    vertices = torch.tensor(document["body"]["vertices"], dtype=torch.float64)
    return (heads[bones] + quat_rotate(world[bones], vertices - rest_heads[bones])).numpy()


def test_result_document_poses_the_rig_on_the_joints_in_blender_axes(swinging_joints):
    motion = Motion(swinging_joints, fps=20.0, text="swing")
    document = json.loads(json.dumps(blender_result(motion)))
    x, y, z = np.moveaxis(swinging_joints, -1, 0)
    assert np.abs(forward_kinematics(document)[0].numpy() - np.stack([x, -z, y], -1)).max() < 1e-5
    rotations = np.array(document["rotations"])
    assert ((rotations[1:] * rotations[:-1]).sum(-1) > 0).all()  # each frame on the previous one's side
    assert document["bones"][0] == {"name": "pelvis", "parent": -1, "offset": pytest.approx([0.0, 0.0, 0.91], abs=1e-2)}
    body = document["body"]
    assert len(body["bones"]) == len(body["vertices"]) > 1000 and set(body["bones"]) <= set(range(22))
    assert np.array(body["faces"]).max() == len(body["vertices"]) - 1
    assert min(v[2] for v in body["vertices"]) == pytest.approx(-0.05, abs=0.05)  # stands on Blender's floor


def test_job_refuses_a_broken_job_file(cli, tmp_path):
    job = tmp_path / "job.json"
    job.write_text('{"prompt": "walk"}')
    status, output = cli("blender-job", job, "--check")
    assert status == 2 and "job.json: not a valid Blender job" in output


PROMPTED = """motion "a person walks to the goal" for 3 s, seeds 2
import "interaction"

scene {
  goal = point(0.0, 0.0, 4.0)  # the empty
}

# go there
reach: at end: distance(pelvis.xz, goal.xz) < 30 cm
"""


def test_job_gives_the_scene_block_and_a_programs_constraint_text(cli, tmp_path):
    goal = {"name": "Goal", "kind": "point", "center": [0, -4, 0]}
    job = write_job(tmp_path, BAND, [goal])
    status, output = cli("blender-job", job, "--scene-block")
    assert status == 0 and records(output) == [{"scene": "scene {\n  goal = point(0.0, 0.0, 4.0)\n}"}]
    (tmp_path / "prompted.mprog").write_text(PROMPTED)
    status, output = cli("blender-job", job, "--constraints-of", tmp_path / "prompted.mprog")
    assert status == 0 and records(output) == [{"constraints": 'import "interaction"\n\n# go there\n'
                                                "reach: at end: distance(pelvis.xz, goal.xz) < 30 cm\n"}]
    (tmp_path / "broken.mprog").write_text('motion "walk" for 2 s\nat end: (pelvis.y > 1 m\n')
    status, output = cli("blender-job", job, "--constraints-of", tmp_path / "broken.mprog")
    assert status == 2 and "broken.mprog:2:" in output and not records(output)


def load_engine_module():
    """The add-on's engine driver (it imports no bpy), loaded from its file."""
    spec = importlib.util.spec_from_file_location("addon_engine", ADDON_DIR / "engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cancel_stops_a_running_generation(tmp_path, tiny_weights):
    engine = load_engine_module()
    description = json.loads(write_job(tmp_path, BAND, model=str(tiny_weights), **(FAST | {"iterations": 100000})
                                       ).read_text())
    job = engine.Job(ENGINE, tmp_path, description)
    first = job.records.get(timeout=120)
    while "progress" not in first:
        first = job.records.get(timeout=120)
    job.cancel()
    job.wait()
    assert job.process.returncode != 0 and job.failure() == "cancelled"
    assert not (tmp_path / "result.json").exists()


def test_missing_engine_is_one_readable_line():
    engine = load_engine_module()
    with pytest.raises(engine.EngineError, match="motionprog engine not found .*Preferences"):
        engine.find_engine("/nonexistent/motionprog")


SCRIPT = r'''
"""Run inside Blender: install and enable the add-on, build a scene, run the requested steps."""
import json
import sys

import bpy

request = json.loads(sys.argv[sys.argv.index("--") + 1])
sys.modules["numpy"] = None  # the add-on must do without numpy, and without the importers that need it
for importer in ("io_scene_gltf2", "io_anim_bvh"):
    bpy.ops.preferences.addon_disable(module=importer)
importers = [name for name in ("io_scene_gltf2", "io_anim_bvh") if name in bpy.context.preferences.addons]
bpy.ops.preferences.addon_install(filepath=request["zip"])
bpy.ops.preferences.addon_enable(module="motionprog_blender")
bpy.context.preferences.addons["motionprog_blender"].preferences.engine = request["engine"]
from motionprog_blender import operators

for obj in list(bpy.data.objects):
    bpy.data.objects.remove(obj)
add = bpy.ops.mesh
shapes = [("Bar", add.primitive_cube_add, dict(location=(0, -2, 1.5), rotation=(0, 0, 0.3), scale=(1.5, 0.1, 0.05))),
          ("Ball", add.primitive_uv_sphere_add, dict(location=(1, 2, 0.5), radius=0.5)),
          ("Post", add.primitive_cylinder_add, dict(location=(-1, 1, 1), radius=0.3, depth=2)),
          ("Goal", bpy.ops.object.empty_add, dict(location=(0, -4, 0))),
          ("Floor", add.primitive_plane_add, dict(size=10)),
          ("Suzanne", add.primitive_monkey_add, dict(location=(3, 0, 1)))]
for name, make, options in shapes:
    make(**options)
    bpy.context.object.name = name
for obj in bpy.data.objects:
    obj.select_set(obj.name in request["selected"])
scene, out = bpy.context.scene, {"importers": importers}
settings = scene.motionprog
settings.length, settings.seeds, settings.model = 2.0, 2, request["model"]
settings.iterations, settings.steps, settings.natural_weight, settings.device = 40, 4, 0.0, "cpu"


def outcome():
    active = bpy.context.view_layer.objects.active
    return {"status": settings.status, "lines": [line.text for line in settings.lines],
            "objects": sorted(o.name for o in bpy.data.objects), "active": active and f"{active.name}:{active.mode}"}


def pelvis_height(frame):
    scene.frame_set(frame)
    armature = bpy.data.objects[scene["motionprog_armature"]]
    return (armature.matrix_world @ armature.pose.bones["pelvis"].head).z


def render(path):
    """A Cycles still (no display needed) of frame 20 from a camera aimed at the body; the
    spread of its pixel values, to tell a picture from a blank."""
    from mathutils import Vector
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    sun = bpy.data.objects.new("sun", bpy.data.lights.new("sun", "SUN"))
    for obj in (camera, sun):
        scene.collection.objects.link(obj)
    camera.location, sun.rotation_euler = (3.5, -5.0, 2.0), (0.7, 0.2, 0.6)
    camera.rotation_euler = (Vector((0, 0, 0.9)) - camera.location).to_track_quat("-Z", "Y").to_euler()
    scene.camera, scene.render.engine = camera, "CYCLES"
    scene.cycles.samples, scene.cycles.use_denoising = 16, False  # Debian builds Cycles without a denoiser
    scene.render.threads_mode, scene.render.threads = "FIXED", 1
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 480, 320, 100
    scene.frame_set(20)
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True)
    values = bpy.data.images.load(path).pixels[:][0::4]
    mean = sum(values) / len(values)
    return {"std": (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5}


for step in request["steps"]:
    if step == "describe":
        from pathlib import Path
        out["description"] = operators.job_description(bpy.context, Path(request["out"]).parent)
        monkey = bpy.data.objects["Suzanne"]
        corners = [monkey.matrix_world @ v.co for v in monkey.data.vertices]
        out["suzanne_low"] = [min(c[i] for c in corners) for i in range(3)]
        out["suzanne_high"] = [max(c[i] for c in corners) for i in range(3)]
    elif step == "starter":
        bpy.ops.motionprog.starter()
        out["starter"] = settings.text.as_string()
    elif step.startswith("text:"):
        if settings.text is None:
            settings.text = bpy.data.texts.new("constraints")
        settings.text.from_string(step[5:])
    elif step.startswith("edit:"):  # a mesh in edit mode, as a user may leave it while the engine runs
        bpy.context.view_layer.objects.active = bpy.data.objects[step[5:]]
        bpy.ops.object.mode_set(mode="EDIT")
    elif step.startswith("unit:"):
        scene.unit_settings.scale_length = float(step[5:])
    elif step.startswith("endpoint:"):
        bpy.context.preferences.addons["motionprog_blender"].preferences.prompt_endpoint = step[9:]
    elif step == "prompt":
        poll = bpy.ops.motionprog.prompt.poll()
        if poll:
            bpy.ops.motionprog.prompt()
        out.setdefault("prompt", []).append(outcome() | {"poll": poll, "text": settings.text.as_string()})
    elif step.startswith("engine:"):
        bpy.context.preferences.addons["motionprog_blender"].preferences.engine = step[7:]
    elif step == "cancel":  # what the modal Generate does on its timer, with Cancel pressed once it runs
        import time
        settings.iterations = 100000
        assert operators.start_generation(bpy.context)
        started = time.monotonic()
        while not settings.status.startswith("optimising") and time.monotonic() - started < 120:
            assert operators.tick(bpy.context) is None
            time.sleep(0.1)
        bpy.ops.motionprog.cancel()
        done = operators.tick(bpy.context)
        while done is None:
            time.sleep(0.1)
            done = operators.tick(bpy.context)
        settings.iterations = 40
        out["cancel"] = outcome() | {"done": done, "running": bool(operators.RUNNING)}
    elif step.startswith("model:"):
        settings.model = step[6:]
    elif step.startswith("set:"):
        name, value = step[4:].split("=", 1)
        setattr(settings, name, type(getattr(settings, name))(value))
    elif step == "bone_paths":  # every bone head's world position at every frame, from the evaluated pose
        armature = bpy.data.objects[scene["motionprog_armature"]]
        out["bone_paths"] = {bone.name: [] for bone in armature.pose.bones}
        for frame in range(scene.frame_start, scene.frame_end + 1):
            scene.frame_set(frame)
            evaluated = armature.evaluated_get(bpy.context.evaluated_depsgraph_get())
            for bone in evaluated.pose.bones:
                out["bone_paths"][bone.name].append(list(evaluated.matrix_world @ bone.head))
    elif step.startswith("body:"):  # the skinned body's evaluated vertices at a frame, world space
        scene.frame_set(int(step[5:]))
        body = bpy.data.objects[scene["motionprog_armature"]].children[0]
        evaluated = body.evaluated_get(bpy.context.evaluated_depsgraph_get())
        out["body"] = [list(evaluated.matrix_world @ v.co) for v in evaluated.to_mesh().vertices]
        evaluated.to_mesh_clear()
    elif step.startswith("place:"):  # what Generate does with the engine's result.json
        from pathlib import Path
        from motionprog_blender import result_import
        unit = scene.unit_settings.scale_length
        result_import.place_result(scene, result_import.read_result(Path(step[6:])), "placed", unit)
        out["actions"] = sorted(a.name for a in bpy.data.actions)
    elif step.startswith("render:"):
        out["render"] = render(step[7:])
    elif step in ("check", "generate"):
        getattr(bpy.ops.motionprog, step)()
        out.setdefault(step, []).append(outcome())
        armature = bpy.data.objects.get(scene.get("motionprog_armature", ""))
        if step == "generate" and armature is not None:
            action = armature.animation_data.action
            out["result"] = {"bones": len(armature.data.bones), "action": action.name,
                             "frame_range": list(action.frame_range), "fps": scene.render.fps,
                             "scene_range": [scene.frame_start, scene.frame_end],
                             "actions": sorted(a.name for a in bpy.data.actions),
                             "pelvis_10": pelvis_height(10)}
with open(request["out"], "w") as file:
    json.dump(out, file)
'''


def run_addon(tmp_path: Path, steps: list[str], selected: list[str], model: str = "") -> dict:
    """Install the zip in a fresh background Blender (user folders under ``tmp_path``), build
    the scene, run ``steps``, and return what the script recorded."""
    addon = tmp_path / "motionprog_blender.zip"
    assert subprocess.run([ENGINE, "blender-addon", "-o", addon], capture_output=True).returncode == 0
    script, out = tmp_path / "drive_addon.py", tmp_path / "addon.json"
    script.write_text(SCRIPT)
    request = {"zip": str(addon), "engine": ENGINE, "steps": steps, "selected": selected, "model": model,
               "out": str(out)}
    from motionprog.io.fbx import blender_environment

    environment = blender_environment() | {"BLENDER_USER_CONFIG": str(tmp_path / "config"),
                                           "BLENDER_USER_SCRIPTS": str(tmp_path / "scripts")}
    done = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(script),
                           "--", json.dumps(request)], capture_output=True, text=True, timeout=600, env=environment)
    assert done.returncode == 0 and out.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
def test_addon_exports_the_scene_and_checks_the_program(tmp_path, llm):
    selected = ["Bar", "Ball", "Post", "Goal", "Floor", "Suzanne"]
    llm.script = [("content", fenced(PROMPTED)), ("status", 401)]
    result = run_addon(tmp_path, ["describe", "starter", "check", "text:" + BAND + "at end: lefthand.y > 1 m\n",
                                  "check", "prompt", f"endpoint:{llm.url}", "set:prompt=--walk to the goal", "prompt",
                                  "prompt",
                                  "engine:/nonexistent/motionprog", "check"], selected)
    objects = {o["name"]: o for o in result["description"]["objects"]}
    assert {name: o["kind"] for name, o in objects.items()} == {
        "Bar": "box", "Ball": "sphere", "Post": "cylinder", "Goal": "point", "Floor": "plane", "Suzanne": "mesh"}
    assert objects["Bar"]["size"] == pytest.approx([3.0, 0.2, 0.1]) and objects["Ball"]["radius"] == pytest.approx(0.5)
    assert objects["Post"]["radius"] == pytest.approx(0.3) and objects["Post"]["height"] == pytest.approx(2.0)
    assert objects["Floor"]["normal"] == pytest.approx([0, 0, 1])
    program = scene_program(result["description"] | {"constraints": BAND})
    ir_program, diagnostics = check_text(program.source, str(tmp_path / "program.mprog"))  # beside mesh_5.obj
    assert diagnostics == []
    suzanne = dict(ir_program.scene)["suzanne"]
    (x_low, y_low, z_low), (x_high, y_high, z_high) = result["suzanne_low"], result["suzanne_high"]
    assert np.allclose(suzanne.bounds, [[x_low, z_low, -y_high], [x_high, z_high, -y_low]], atol=1e-6)
    assert "bar = box(center = (0.0, 1.5, 2.0), size = (3.0, 0.1, 0.2), rotation = (0.0 deg, 17.188734 deg, " \
        "0.0 deg))" in program.source
    assert "goal = point(0.0, 0.0, 4.0)" in program.source
    assert "reach_goal: at end: distance(pelvis.xz, goal.xz) < 30 cm" in result["starter"]
    assert "avoid_suzanne: always: avoids(body, suzanne)" in result["starter"]
    first, wrong, no_engine = result["check"]
    assert first["status"].startswith("ok (") and "Suzanne -> suzanne" in first["status"] and first["lines"] == []
    assert wrong["status"] == "errors in the program"
    assert wrong["lines"] == ["constraints 2:9: error: unknown joint 'lefthand'", "    help: did you mean 'left_hand'?"]
    assert no_engine["status"].startswith("motionprog engine not found ('/nonexistent/motionprog')")
    assert no_engine["objects"] == first["objects"]
    unset, prompted, refused = result["prompt"]
    assert unset["poll"] is False and unset["status"] == wrong["status"]  # no endpoint: no Prompt
    assert prompted["status"] == "wrote the text block motionprog_prompt from the language model"
    assert prompted["text"] == 'import "interaction"\n\n# go there\nreach: at end: distance(pelvis.xz, goal.xz) < 30 cm\n'
    asked = json.dumps(llm.requests[0]["body"]["messages"])
    assert "--walk to the goal" in asked and "bar = box(center = (0.0, 1.5, 2.0)" in asked  # the selected scene
    assert refused["status"] == (f"motionprog prompt failed: the language model at {llm.url} rejected the API key "
                                 "(HTTP 401): scripted failure")
    assert refused["text"] == prompted["text"] and refused["objects"] == first["objects"]


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
def test_addon_generates_an_armature_with_one_action_per_run(tmp_path, tiny_weights):
    unsatisfiable = "high: at frame 10: head.y > 3 m\n"
    steps = ["text:" + BAND, "edit:Post", "generate", "generate", f"render:{tmp_path / 'result.png'}",
             "text:" + unsatisfiable, "set:iterations=2", "generate", "cancel", "model:/nonexistent.safetensors",
             "generate"]  # no number of iterations satisfies 'high': two show the failure as well as 40
    result = run_addon(tmp_path, steps, ["Goal"], str(tiny_weights))
    first, second, failed, no_model = result["generate"]
    assert first["status"] == "satisfied: action 'motionprog: a person walks forward' on 'motionprog'"
    assert first["lines"][0].startswith("pelvis_band: +") and first["lines"][0].endswith("cm (holds)")
    assert second["status"].startswith("satisfied") and second["objects"] == first["objects"]  # same armature
    assert first["active"] == second["active"] == "Post:EDIT"  # building the armature gave the user's mode back
    outcome = result["result"]
    assert outcome["bones"] == 22 and outcome["fps"] == 20
    assert outcome["frame_range"] == [0.0, 39.0] and outcome["scene_range"] == [0, 39]
    assert len(outcome["actions"]) == 2  # one per run, both kept
    assert 1.0 - 1e-4 <= outcome["pelvis_10"] <= 1.02 + 1e-4  # the constraint, read from Blender's pose
    assert failed["status"] == "the result does not satisfy every hard constraint"
    assert failed["lines"][0].startswith("high: ") and failed["lines"][0].endswith("(NOT)")
    assert failed["objects"] == no_model["objects"] == sorted(second["objects"] + ["camera", "sun"])  # untouched
    assert no_model["status"] == ("the program or the job is not valid: "
                                  "/nonexistent.safetensors: no such model weights file")
    cancelled = result["cancel"]
    assert cancelled["status"] == "cancelled" and cancelled["done"] is False and cancelled["running"] is False
    assert cancelled["objects"] == failed["objects"]
    assert result["render"]["std"] > 0.05 and (tmp_path / "result.png").stat().st_size > 10_000


@pytest.mark.skipif(BLENDER is None, reason="blender is not installed")
def test_addon_poses_its_armature_on_the_engines_joints_without_any_importer(cli, tmp_path, tiny_weights):
    job = write_job(tmp_path, BAND, model=str(tiny_weights), **FAST)
    assert cli("blender-job", job)[0] == 0
    place = f"place:{tmp_path / 'result.json'}"
    result = run_addon(tmp_path / "blender", ["unit:0.01", place, "bone_paths", "body:20", place], [])  # centimetres
    assert result["importers"] == [] and result["actions"] == ["placed", "placed.001"]  # one armature, two actions
    paths = result["bone_paths"]
    assert sorted(paths) == sorted(JOINT_NAMES)
    heads = 0.01 * np.array([paths[name] for name in JOINT_NAMES]).transpose(1, 0, 2)  # [T, 22, 3], Blender's axes
    document = json.loads((tmp_path / "result.json").read_text())
    assert np.abs(heads - forward_kinematics(document)[0].numpy()).max() < 1e-5  # the GLB's pose
    assert np.abs(0.01 * np.array(result["body"]) - skinned_body(document, 20)).max() < 1e-5  # the skin follows
    x, y, z = np.moveaxis(load_npz(tmp_path / "motion.npz").joints, -1, 0)
    error = np.linalg.norm(heads - np.stack([x, -z, y], -1), axis=-1)
    assert heads.shape == (40, 22, 3) and error.max() < 1e-3, error.max()  # Motion.ROTATION_TOLERANCE
    assert 1.0 - 1e-4 <= heads[10, 0, 2] <= 1.02 + 1e-4  # pelvis_band: the engine's Y up is Blender's Z


DUCK = """duck: always: head.y < bar.bottom - 15 cm when head.z in [1.7, 2.3]
no_touch: always: not collide(body, bar)
arrive: at end: distance(pelvis.xz, goal.xz) < 30 cm
"""
"""The README's duck-under-the-bar program, on the harness's Bar (a 3 x 0.2 x 0.1 m cube whose
centre is 1.5 m up and 2 m ahead in the engine's frame, turned 0.3 rad about the vertical) and
Goal (an empty 4 m ahead)."""


def test_addon_ducks_under_the_bar_on_the_bundled_model(tmp_path):
    steps = ["set:prompt=a person walks forward and crouches down", "set:length=6.0", "set:seeds=4",
             "set:steps=0", "set:iterations=0", "set:natural_weight=0.1", "text:" + DUCK, "generate", "bone_paths",
             f"render:{tmp_path / 'duck.png'}"]
    result = run_addon(tmp_path, steps, ["Bar", "Goal"], "")
    (generated,) = result["generate"]
    assert generated["status"].startswith("satisfied"), generated
    outcome = result["result"]
    assert outcome["bones"] == 22 and outcome["scene_range"] == [0, 119]  # 6 s at 20 fps
    head_path = result["bone_paths"]["head"]
    under = [(x, y, z) for x, y, z in head_path if 1.7 <= -y <= 2.3]  # Blender -Y is the engine's +Z
    assert under, f"the head never reached the bar: {head_path[::20]}"
    bar_bottom = 1.5 - 0.05
    assert max(z for _, _, z in under) < bar_bottom - 0.15 + 1e-3  # read from Blender's evaluated pose
    assert result["render"]["std"] > 0.05  # docs/images/blender-result.png is this picture
