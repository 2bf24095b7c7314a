"""The add-on's settings (on the scene), preferences (where the engine is) and sidebar panel."""

from __future__ import annotations

import bpy

from . import operators


class MotionprogLine(bpy.types.PropertyGroup):
    """One message line of the panel (a diagnostic, a constraint's margin)."""

    text: bpy.props.StringProperty()
    icon: bpy.props.StringProperty(default="INFO")


class MotionprogSettings(bpy.types.PropertyGroup):
    """The program's header, constraint text and run settings, and the last outcome."""

    prompt: bpy.props.StringProperty(name="Prompt", default="a person walks forward")
    length: bpy.props.FloatProperty(name="Length (s)", default=4.0, min=0.1, max=60.0)
    seeds: bpy.props.IntProperty(name="Seeds", default=4, min=1, max=64)
    text: bpy.props.PointerProperty(name="Constraints", type=bpy.types.Text,
                                    description="Text block holding the program's constraints")
    model: bpy.props.StringProperty(name="Model", default="",
                                    description="Empty: the program's or the bundled model; else a .safetensors file")
    iterations: bpy.props.IntProperty(name="Iterations", default=0, min=0, description="0: the engine's default")
    steps: bpy.props.IntProperty(name="Decode steps", default=0, min=0, description="0: the model's default")
    natural_weight: bpy.props.FloatProperty(name="Naturalness weight", default=-1.0, min=-1.0,
                                            description="Negative: the engine's default")
    device: bpy.props.EnumProperty(name="Device", default="auto", items=(
        ("auto", "Auto", "CUDA when available"), ("cpu", "CPU", ""), ("cuda", "CUDA", "")))
    status: bpy.props.StringProperty(default="")
    progress: bpy.props.FloatProperty(default=0.0, min=0.0, max=1.0)
    lines: bpy.props.CollectionProperty(type=MotionprogLine)


class MotionprogPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    engine: bpy.props.StringProperty(
        name="motionprog executable", subtype="FILE_PATH", default="",
        description="Path of the motionprog command (empty: found on PATH)")
    prompt_endpoint: bpy.props.StringProperty(
        name="Language model endpoint", default="",
        description="OpenAI-compatible base URL for the Prompt button (empty: no Prompt button)")
    prompt_model: bpy.props.StringProperty(name="Language model", default="",
                                           description="Model name at the endpoint (empty: motionprog's default)")
    prompt_key_variable: bpy.props.StringProperty(
        name="API key variable", default="OPENAI_API_KEY",
        description="Environment variable holding the API key (Blender never stores the key)")

    def draw(self, context):
        for name in ("engine", "prompt_endpoint", "prompt_model", "prompt_key_variable"):
            self.layout.prop(self, name)


class VIEW3D_PT_motionprog(bpy.types.Panel):
    """Sidebar panel: program settings, Check / Generate / Cancel, and the last outcome."""

    bl_space_type, bl_region_type, bl_category, bl_label = "VIEW_3D", "UI", "motionprog", "motionprog"

    def draw(self, context):
        settings, layout = context.scene.motionprog, self.layout
        row = layout.row(align=True)
        row.prop(settings, "prompt")
        if operators.preferences(context).prompt_endpoint.strip():
            row.operator("motionprog.prompt", text="", icon="OUTLINER_OB_LIGHT")
        for name in ("length", "seeds", "model"):
            layout.prop(settings, name)
        row = layout.row(align=True)
        row.prop(settings, "text")
        row.operator("motionprog.starter", text="", icon="FILE_NEW")
        row = layout.row(align=True)
        row.operator("motionprog.check", icon="CHECKMARK")
        if "job" in operators.RUNNING:
            row.operator("motionprog.cancel", icon="CANCEL")
            layout.label(text=f"{settings.progress * 100:.0f}%")
        else:
            row.operator("motionprog.generate", icon="PLAY")
        if settings.status:
            layout.label(text=settings.status)
        box = layout.box() if len(settings.lines) else None
        for line in settings.lines:
            box.label(text=line.text, icon=line.icon if line.icon in ("ERROR", "CHECKMARK", "INFO") else "NONE")


class VIEW3D_PT_motionprog_advanced(bpy.types.Panel):
    bl_space_type, bl_region_type, bl_category, bl_label = "VIEW_3D", "UI", "motionprog", "Advanced"
    bl_parent_id, bl_options = "VIEW3D_PT_motionprog", {"DEFAULT_CLOSED"}

    def draw(self, context):
        for name in ("iterations", "steps", "natural_weight", "device"):
            self.layout.prop(context.scene.motionprog, name)


CLASSES = (MotionprogLine, MotionprogSettings, MotionprogPreferences, VIEW3D_PT_motionprog,
           VIEW3D_PT_motionprog_advanced)
