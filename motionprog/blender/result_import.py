"""The engine's ``result.json`` -> one armature in the scene carrying the new action, with bpy alone.

No importer is involved: Blender's glTF importer needs numpy, and Debian's Blender 3.4 cannot
run its BVH importer. The file (``motionprog.io.blender_result``) gives the rig's bones, each
bone's rotation relative to its parent at every frame and the pelvis position, in Blender's
axes. The first run builds the armature and its skinned body from that rig; later runs keep
the armature and add their action to it, so variants stay side by side in the action list.
Whatever a failing run made is removed again, and the frame rate and range are set only once
the action is in place, so a failure leaves the scene as it was.

Pose: a Blender bone turns in its own rest frame B (its Y axis along the bone, X and Z set by
the roll), so a rotation L given in the armature's axes is the pose quaternion (w, B^T v) for
L = (w, v), that is B^T L B; the pelvis's location is B^T (root - rest head). B is read back
from each bone Blender made, so the pose is the file's whatever roll Blender chose.
"""

from __future__ import annotations

import json
from pathlib import Path

import bpy
from mathutils import Vector

ARMATURE_KEY = "motionprog_armature"
"""Scene property naming the armature that results are put on."""

REST_TOLERANCE = 1e-4
"""Metres an existing armature's bone heads may be from the rig's to carry a new action."""

BODY_COLOUR = (0.25, 0.5, 0.85, 1.0)


class ImportFailed(Exception):
    """The result could not be brought into the scene (message for the panel)."""


def read_result(path: Path) -> dict:
    """The engine's result document; ImportFailed when it is missing or not one."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
        if len(result["rotations"]) != len(result["root"]) or not result["bones"]:
            raise ValueError("rotations and root differ in length")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImportFailed(f"{path.name}: not a motionprog result ({exc})") from exc
    return result


def rest_heads(bones: list[dict]) -> list[Vector]:
    """Every bone's head in the bind pose (parents come first)."""
    heads: list[Vector] = []
    for bone in bones:
        offset = Vector(bone["offset"])
        heads.append(offset if bone["parent"] < 0 else heads[bone["parent"]] + offset)
    return heads


def tail_offset(index: int, bones: list[dict]) -> Vector:
    """Where bone ``index`` points, from its head: at its most central child (the spine rather
    than the hips, the neck rather than the collars), else on along its own offset, half as long."""
    children = [Vector(bone["offset"]) for bone in bones if bone["parent"] == index]
    if children:
        return min(children, key=lambda offset: abs(offset.x))
    return Vector(bones[index]["offset"]) * 0.5


def _switch_mode(obj, mode: str) -> None:
    bpy.context.view_layer.objects.active = obj
    if obj is not None and obj.mode != mode:
        bpy.ops.object.mode_set(mode=mode)


def add_bones(armature, bones: list[dict]) -> None:
    """Make ``bones`` in ``armature`` (edit mode, entered and left here; the active object and
    its mode are restored)."""
    previous = bpy.context.view_layer.objects.active
    previous_mode = previous.mode if previous is not None else "OBJECT"
    if previous is not None:
        _switch_mode(previous, "OBJECT")
    _switch_mode(armature, "EDIT")
    try:
        made = []
        for index, (bone, head) in enumerate(zip(bones, rest_heads(bones))):
            edit = armature.data.edit_bones.new(bone["name"])
            edit.head, edit.tail = head, head + tail_offset(index, bones)
            edit.parent = made[bone["parent"]] if bone["parent"] >= 0 else None
            made.append(edit)
    finally:
        _switch_mode(armature, "OBJECT")
        _switch_mode(previous, previous_mode)


def body_material():
    """The body's blue, in the viewport and in renders."""
    material = bpy.data.materials.new("motionprog body")
    material.diffuse_color = BODY_COLOUR
    material.use_nodes = True
    shader = material.node_tree.nodes.get("Principled BSDF")
    if shader is not None:
        shader.inputs["Base Color"].default_value = BODY_COLOUR
        shader.inputs["Roughness"].default_value = 0.7
    return material


def add_body(armature, result: dict, made: list) -> None:
    """The capsule body, parented to ``armature`` and deformed by it: each vertex in the group
    of the one bone it follows."""
    body = result["body"]
    mesh = bpy.data.meshes.new(f"{armature.name} body")
    made.append(mesh)
    mesh.from_pydata([tuple(v) for v in body["vertices"]], [], [tuple(f) for f in body["faces"]])
    mesh.polygons.foreach_set("use_smooth", [True] * len(mesh.polygons))
    material = body_material()
    made.append(material)
    mesh.materials.append(material)
    obj = bpy.data.objects.new(mesh.name, mesh)
    made.append(obj)
    armature.users_collection[0].objects.link(obj)
    obj.parent = armature
    obj.modifiers.new("armature", "ARMATURE").object = armature
    members: dict[int, list[int]] = {}
    for vertex, bone in enumerate(body["bones"]):
        members.setdefault(bone, []).append(vertex)
    for bone, vertices in sorted(members.items()):
        obj.vertex_groups.new(name=result["bones"][bone]["name"]).add(vertices, 1.0, "REPLACE")


def add_armature(scene, result: dict, unit: float, made: list):
    """A new armature object named ``motionprog`` in the scene: the rig in its bind pose, with
    its skinned body; its scale turns the file's metres into the scene's units."""
    data = bpy.data.armatures.new("motionprog")
    made.append(data)
    armature = bpy.data.objects.new("motionprog", data)
    made.append(armature)
    scene.collection.objects.link(armature)
    armature.scale = [1.0 / unit] * 3
    add_bones(armature, result["bones"])
    add_body(armature, result, made)
    return armature


def fits(armature, bones: list[dict]) -> bool:
    """Whether ``armature`` has the rig's bones with their heads where the rig has them."""
    if armature is None or armature.type != "ARMATURE":
        return False
    made = armature.data.bones
    return all(bone["name"] in made and (made[bone["name"]].head_local - head).length < REST_TOLERANCE
               for bone, head in zip(bones, rest_heads(bones)))


def add_keys(action, bone: str, prop: str, values: list) -> None:
    """One LINEAR F-curve per component of pose bone ``bone``'s ``prop``, keyed at frames 0, 1, ..."""
    path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"].{prop}'
    for axis in range(len(values[0])):
        curve = action.fcurves.new(path, index=axis, action_group=bone)
        curve.keyframe_points.add(len(values))
        curve.keyframe_points.foreach_set("co", [c for frame, value in enumerate(values) for c in (frame, value[axis])])
        for point in curve.keyframe_points:
            point.interpolation = "LINEAR"
        curve.update()


def add_action(armature, result: dict, name: str):
    """A new action named ``name`` (kept by a fake user) posing ``armature`` as the file does."""
    action = bpy.data.actions.new(name)
    action.use_fake_user = True  # kept when another action is shown
    rest = armature.data.bones
    for index, bone in enumerate(result["bones"]):
        to_bone = rest[bone["name"]].matrix_local.to_3x3().normalized().transposed()
        add_keys(action, bone["name"], "rotation_quaternion",
                 [(frame[index][0], *(to_bone @ Vector(frame[index][1:]))) for frame in result["rotations"]])
        if bone["parent"] < 0:
            head = rest[bone["name"]].head_local
            add_keys(action, bone["name"], "location", [to_bone @ (Vector(p) - head) for p in result["root"]])
    return action


def _remove(blocks: list) -> None:
    """Delete the data blocks a failed run made, newest first."""
    collections = {"OBJECT": bpy.data.objects, "ARMATURE": bpy.data.armatures, "MESH": bpy.data.meshes,
                   "MATERIAL": bpy.data.materials, "ACTION": bpy.data.actions}
    for block in reversed(blocks):
        collections[block.id_type].remove(block)


def place_result(scene, result: dict, name: str, unit: float) -> tuple[object, object]:
    """Put ``result``'s motion, as an action named ``name``, on the scene's result armature
    (made first when there is none that fits); set the frame rate and range to the motion's.
    Returns (armature, action)."""
    made: list = []
    try:
        armature = bpy.data.objects.get(scene.get(ARMATURE_KEY, ""))
        if not fits(armature, result["bones"]):
            armature = add_armature(scene, result, unit, made)
        action = add_action(armature, result, name)
        made.append(action)
        armature.animation_data_create().action = action
    except Exception:
        _remove(made)
        raise
    scene[ARMATURE_KEY] = armature.name
    fps = round(result["fps"])
    scene.render.fps, scene.render.fps_base = fps, fps / result["fps"]
    scene.frame_start, scene.frame_end = 0, len(result["rotations"]) - 1
    scene.frame_set(0)
    return armature, action
