"""The engine's skinned GLB -> one armature in the scene carrying the new action.

The first run imports the armature (and its skinned body); later runs keep that armature and
add their action to it, so variants stay side by side in the action list. Anything the
importer made is removed again when the import fails, so the scene is left as it was.
"""

from __future__ import annotations

from pathlib import Path

import bpy

ARMATURE_KEY = "motionprog_armature"
"""Scene property naming the armature that results are put on."""


class ImportFailed(Exception):
    """The GLB could not be brought into the scene (message for the panel)."""


def _numpy_for_gltf() -> None:
    """Blender's glTF importer needs numpy, and older importers call ``numpy.bool``, which
    NumPy 1.24 removed (Debian's Blender 3.4 with its numpy); restore that alias."""
    try:
        import numpy
    except ImportError as exc:
        raise ImportFailed("Blender's glTF importer needs numpy, which this Blender cannot import") from exc
    if "bool" not in vars(numpy):  # hasattr would trigger NumPy 1.24's FutureWarning
        numpy.bool = numpy.bool_


def _remove(objects) -> None:
    for obj in objects:
        data = obj.data
        bpy.data.objects.remove(obj, do_unlink=True)
        if data is not None and data.users == 0:
            getattr(bpy.data, "armatures" if isinstance(data, bpy.types.Armature) else "meshes").remove(data)


def _import_glb(path: Path) -> list:
    """Run the glTF importer; the objects it made (removed again if it fails)."""
    _numpy_for_gltf()
    before = set(bpy.data.objects)
    try:
        bpy.ops.import_scene.gltf(filepath=str(path))
    except Exception as exc:  # the importer raises RuntimeError and others; the panel gets one line
        _remove([o for o in bpy.data.objects if o not in before])
        raise ImportFailed(f"Blender's glTF importer failed on {path.name}: {str(exc).splitlines()[-1]}") from exc
    return [o for o in bpy.data.objects if o not in before]


def place_result(scene, path: Path, name: str, fps: int, frames: int, unit: float) -> tuple[object, object]:
    """Import ``path`` and put its action, named ``name``, on the scene's result armature;
    set the frame rate and range. Returns (armature, action)."""
    scene.render.fps, scene.render.fps_base = fps, 1.0  # before importing: glTF keys land on frames
    made = _import_glb(path)
    armature = next((o for o in made if o.type == "ARMATURE"), None)
    if armature is None or armature.animation_data is None or armature.animation_data.action is None:
        _remove(made)
        raise ImportFailed(f"{path.name} holds no animated armature")
    action = armature.animation_data.action
    action.name, action.use_fake_user = name, True  # kept when another action is shown
    existing = bpy.data.objects.get(scene.get(ARMATURE_KEY, ""))
    if existing is not None and existing.type == "ARMATURE" and existing not in made:
        existing.animation_data_create().action = action
        _remove(made)
        armature = existing
    else:
        armature.name = "motionprog"
        armature.scale = [1.0 / unit] * 3  # the file is in metres; the scene's unit may not be
        scene[ARMATURE_KEY] = armature.name
    scene.frame_start, scene.frame_end = 0, frames - 1
    scene.frame_set(0)
    return armature, action
