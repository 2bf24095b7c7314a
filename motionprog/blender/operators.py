"""The add-on's operators: starter text, Check, Generate (in the background) and Cancel.

Each writes what happened into the scene's ``motionprog`` settings (a status line and message
lines the panel shows); a failure is one readable line there, never a traceback, and leaves
the scene's objects as they were. Generate started from the UI runs modally on a timer, so
Blender stays responsive; run as ``bpy.ops.motionprog.generate()`` from a script (or a
background Blender) it waits for the engine instead.
"""

from __future__ import annotations

import time

import bpy

from . import engine, result_import, scene_export

RUNNING: dict = {}
"""The Generate in progress: ``job`` (engine.Job) and the non-progress ``records`` so far."""


def preferences(context):
    return context.preferences.addons[__package__].preferences


def show(settings, status: str, lines=(), icon: str = "INFO") -> None:
    """Replace the panel's status line and message lines."""
    settings.status = status
    settings.lines.clear()
    for text in lines:
        item = settings.lines.add()
        item.text, item.icon = text, icon


def readable(exc: Exception) -> str:
    """One line for the panel: our own errors as they are, others with their kind."""
    if isinstance(exc, (engine.EngineError, result_import.ImportFailed)):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else 'failed'}"


def job_description(context, folder) -> dict:
    """The selected objects, header settings, constraint text and run settings, as a job."""
    settings, unit = context.scene.motionprog, context.scene.unit_settings.scale_length or 1.0
    objects, _ = scene_export.describe_objects(context.selected_objects, folder, unit)
    return {"prompt": settings.prompt, "length_s": settings.length, "seeds": settings.seeds, "objects": objects,
            "constraints": settings.text.as_string() if settings.text else "",
            "run": {"model": settings.model, "iterations": settings.iterations, "steps": settings.steps,
                    "natural_weight": settings.natural_weight, "device": settings.device}}


def diagnostic_lines(record: dict) -> list[str]:
    """``constraints 3:5: error: message`` for each diagnostic, then its help."""
    lines = []
    for d in record.get("diagnostics", []):
        lines.append(f"{d['where']} {d['line']}:{d['column']}: {d['level']}: {d['message']}")
        if d.get("help"):
            lines.append(f"    help: {d['help']}")
    return lines


def report_lines(report: dict) -> list[str]:
    """One line per constraint: name, margin (cm for lengths) and whether it holds."""
    lines = []
    for row in report.get("constraints", []):
        margin = row.get("margin")
        value = "non-finite" if margin is None else (
            f"{margin * 100:+.2f} cm" if row.get("unit") == "m" else f"{margin:+.4g} {row.get('unit', '')}".rstrip())
        holds = "-" if row.get("satisfied") is None else ("holds" if row["satisfied"] else "NOT")
        lines.append(f"{row['name']}: {value} ({holds})")
    return lines


class ShortJob:
    """Shared by Check and Starter: run a short engine job, then ``answer`` its first record."""

    flags: tuple[str, ...] = ()

    def execute(self, context):
        records = self.run_short(context)
        if records is None:
            return {"CANCELLED"}
        self.answer(context, records[0])
        return {"FINISHED"}

    def run_short(self, context) -> list[dict] | None:
        settings = context.scene.motionprog
        folder = engine.new_job_folder()
        try:
            found = engine.find_engine(preferences(context).engine)
            job, records = engine.run_to_end(found, folder, job_description(context, folder), self.flags)
        except Exception as exc:  # noqa: BLE001 -- the add-on's boundary: the panel, not a traceback
            show(settings, readable(exc), icon="ERROR")
            return None
        finally:
            engine.remove_folder(folder)
        if job.process.returncode not in (0, 2) or not records:
            show(settings, job.failure() or "the engine gave no answer", job.stderr[-5:], "ERROR")
            return None
        return records


class MOTIONPROG_OT_check(ShortJob, bpy.types.Operator):
    """Check the program made of the selected objects and the constraint text"""

    bl_idname = "motionprog.check"
    bl_label = "Check"
    flags = ("--check",)

    def answer(self, context, record: dict) -> None:
        lines = diagnostic_lines(record)
        names = ", ".join(f"{k} -> {v}" for k, v in record.get("names", {}).items())
        show(context.scene.motionprog, "errors in the program" if lines else f"ok ({names or 'no objects'})",
             lines, "ERROR" if lines else "CHECKMARK")


class MOTIONPROG_OT_starter(ShortJob, bpy.types.Operator):
    """Write a first constraint text from the selected objects' names into a new text block"""

    bl_idname = "motionprog.starter"
    bl_label = "Starter constraints"
    flags = ("--starter",)

    def answer(self, context, record: dict) -> None:
        text = bpy.data.texts.new("motionprog_constraints")
        text.from_string(record["starter"])
        context.scene.motionprog.text = text
        show(context.scene.motionprog, f"wrote the text block {text.name}")


def endpoint_flags(prefs) -> tuple[str, ...]:
    """`motionprog prompt`'s flags for the endpoint set in the preferences (the key stays in
    the environment variable they name)."""
    flags = ("--base-url", prefs.prompt_endpoint.strip(), "--api-key-env", prefs.prompt_key_variable.strip())
    return flags + (("--model", prefs.prompt_model.strip()) if prefs.prompt_model.strip() else ())


class MOTIONPROG_OT_prompt(bpy.types.Operator):
    """Ask the language model set in the preferences for constraints that do the prompt, on the selected objects"""

    bl_idname = "motionprog.prompt"
    bl_label = "Prompt"

    @classmethod
    def poll(cls, context):
        return bool(preferences(context).prompt_endpoint.strip())

    def execute(self, context):
        settings, prefs = context.scene.motionprog, preferences(context)
        folder = engine.new_job_folder()
        try:
            found = engine.find_engine(prefs.engine)
            text = engine.ask_model(found, folder, job_description(context, folder), endpoint_flags(prefs))
        except Exception as exc:  # noqa: BLE001 -- the add-on's boundary: the panel, not a traceback
            show(settings, readable(exc), icon="ERROR")
            return {"CANCELLED"}
        finally:
            engine.remove_folder(folder)
        block = bpy.data.texts.new("motionprog_prompt")
        block.from_string(text)
        settings.text = block
        show(settings, f"wrote the text block {block.name} from the language model")
        return {"FINISHED"}


def _status_bar(self, context) -> None:
    """A progress bar and Cancel in Blender's status bar while a Generate runs."""
    progress = context.scene.motionprog.progress
    row = self.layout.row(align=True)
    if hasattr(row, "progress"):  # Blender 4.0+
        row.progress(factor=progress, type="BAR", text=f"{progress * 100:.0f}%")
    else:
        row.label(text=f"{progress * 100:.0f}%")
    row.operator("motionprog.cancel", text="", icon="CANCEL")


def _redraw(context, status: str | None) -> None:
    """Redraw the panels, and the status bar by setting its text (None: Blender's own again)."""
    for area in getattr(context.screen, "areas", ()):
        area.tag_redraw()
    if context.workspace is not None:
        context.workspace.status_text_set(status)


def take_records(settings, job: engine.Job) -> list[dict]:
    """Move progress records into the settings; return the others."""
    others = []
    for record in job.drain():
        if "progress" in record:
            settings.progress = record["progress"] / max(1, record["total"])
            settings.status = f"optimising {record['progress']}/{record['total']}, {record['satisfied']} satisfied"
        else:
            others.append(record)
    return others


def finish(context, job: engine.Job, records: list[dict]) -> bool:
    """Show the outcome of a finished Generate and, when it succeeded, place the result."""
    settings = context.scene.motionprog
    failure = job.failure()
    written = next((r["result"]["file"] for r in records if "result" in r), None)  # also after exit 3
    try:
        result = result_import.read_result(job.folder / written) if written else {}
        report = result.get("report", {})
        diagnostics = next((diagnostic_lines(r) for r in records if r.get("diagnostics")), [])
        if failure:
            show(settings, failure, diagnostics or report_lines(report) or job.stderr[-5:], "ERROR")
            return False
        if not result:
            raise result_import.ImportFailed("the engine wrote no result")
        unit = context.scene.unit_settings.scale_length or 1.0
        armature, action = result_import.place_result(
            context.scene, result, f"motionprog: {settings.prompt}"[:60], unit)
        show(settings, f"satisfied: action '{action.name}' on '{armature.name}'", report_lines(report), "CHECKMARK")
        return True
    except Exception as exc:  # noqa: BLE001 -- the add-on's boundary: the panel, not a traceback
        show(settings, readable(exc), job.stderr[-5:], "ERROR")
        return False
    finally:
        engine.remove_folder(job.folder)


def start_generation(context) -> bool:
    """Start the engine on the scene's program (in ``RUNNING``), with the status-bar progress;
    False, with the reason in the panel, when it cannot start."""
    settings = context.scene.motionprog
    folder = engine.new_job_folder()
    try:
        found = engine.find_engine(preferences(context).engine)
        job = engine.Job(found, folder, job_description(context, folder))
    except Exception as exc:  # noqa: BLE001 -- the add-on's boundary: the panel, not a traceback
        engine.remove_folder(folder)
        show(settings, readable(exc), icon="ERROR")
        return False
    settings.progress = 0.0
    show(settings, "starting the engine")
    RUNNING.update(job=job, records=[])
    bpy.types.STATUSBAR_HT_header.append(_status_bar)
    return True


def tick(context) -> bool | None:
    """Take the running engine's news: None while it runs; once it ended, the outcome placed
    in the panel (and the result in the scene): True when it succeeded."""
    job, settings = RUNNING["job"], context.scene.motionprog
    RUNNING["records"].extend(take_records(settings, job))
    _redraw(context, f"motionprog: {settings.status}")
    if not job.finished():
        return None
    RUNNING["records"].extend(take_records(settings, job))
    bpy.types.STATUSBAR_HT_header.remove(_status_bar)
    records = RUNNING.pop("records")
    RUNNING.clear()
    done = finish(context, job, records)
    _redraw(context, None)
    return done


class MOTIONPROG_OT_generate(bpy.types.Operator):
    """Run the engine on the program in the background and add the motion as an action"""

    bl_idname = "motionprog.generate"
    bl_label = "Generate"

    @classmethod
    def poll(cls, context):
        return "job" not in RUNNING

    def execute(self, context):  # from a script: wait for the engine
        if not start_generation(context):
            return {"CANCELLED"}
        done = tick(context)
        while done is None:
            time.sleep(0.1)
            done = tick(context)
        return {"FINISHED"} if done else {"CANCELLED"}

    def invoke(self, context, event):  # from the UI: poll on a timer, Blender stays usable
        if not start_generation(context):
            return {"CANCELLED"}
        self.timer = context.window_manager.event_timer_add(0.2, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        done = tick(context) if event.type == "TIMER" else None
        if done is None:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self.timer)
        return {"FINISHED"} if done else {"CANCELLED"}


class MOTIONPROG_OT_cancel(bpy.types.Operator):
    """Stop the running Generate; the scene is left as it was"""

    bl_idname = "motionprog.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return "job" in RUNNING

    def execute(self, context):
        RUNNING["job"].cancel()  # the next tick sees the process end and cleans up
        return {"FINISHED"}


CLASSES = (MOTIONPROG_OT_check, MOTIONPROG_OT_starter, MOTIONPROG_OT_prompt, MOTIONPROG_OT_generate,
           MOTIONPROG_OT_cancel)
