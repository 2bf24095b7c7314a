"""motionprog for Blender: author a program from the scene, check it, and generate motion.

This folder is not imported by motionprog: ``motionprog blender-addon`` zips its files as the
``motionprog_blender`` add-on, which runs only inside Blender and drives the user's
``motionprog`` command as a subprocess (nothing is installed into Blender's Python).
"""

bl_info = {
    "name": "motionprog",
    "author": "motionprog",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "3D View > Sidebar > motionprog",
    "description": "Generate human motion that satisfies constraints on the scene's objects",
    "category": "Animation",
}

import bpy  # noqa: E402

from . import operators, panel  # noqa: E402

CLASSES = panel.CLASSES + operators.CLASSES


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.motionprog = bpy.props.PointerProperty(type=panel.MotionprogSettings)


def unregister() -> None:
    if "job" in operators.RUNNING:
        operators.RUNNING["job"].cancel()
    del bpy.types.Scene.motionprog
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
