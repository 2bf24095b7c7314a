"""`motionprog blender-addon` writes the Blender add-on; `motionprog blender-job` is the engine
side of that add-on, which runs it as a subprocess and reads JSON lines from its stdout.

A job is a folder holding ``job.json``: the scene in Blender's axes, the header settings, the
constraint text and the run settings (``motionprog.lang.scene_description``). The job writes
``program.mprog`` beside it, and when generating ``motion.npz`` and ``result.json`` (the rig,
its pose at every frame and the report, in Blender's axes: ``motionprog.io.blender_result``),
printing one ``{"progress": ...}`` line per optimiser iteration and a last ``{"result": ...}``
line. Exit status as for ``motionprog run``: 0, 2 (bad job or program, with
``{"diagnostics": [...]}``), 3 (unsatisfied).
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import replace
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Any, Optional

import typer

from motionprog.errors import InputError
from motionprog.io.atomic import write_bytes, write_text
from motionprog.lang.diagnostics import Diagnostic, ProgramError
from motionprog.lang.scene_description import SceneProgram, scene_program, starter_constraints

ADDON_FOLDER = "motionprog_blender"
"""The add-on's module name inside Blender (the folder at the root of the zip)."""

RESULT_FILE = "result.json"
"""What a generating job writes for the add-on to build its armature and action from."""

EXIT_BAD_INPUT = 2
EXIT_UNSATISFIED = 3


def addon_zip() -> bytes:
    """The installable zip: every ``.py`` of ``motionprog/blender`` under ``motionprog_blender/``."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sorted((resources.files("motionprog") / "blender").iterdir(), key=lambda f: f.name):
            if source.name.endswith(".py"):  # a fixed date: the same package gives the same zip
                entry = zipfile.ZipInfo(f"{ADDON_FOLDER}/{source.name}", date_time=(2020, 1, 1, 0, 0, 0))
                entry.external_attr = 0o644 << 16  # rw-r--r-- when unpacked
                archive.writestr(entry, source.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def blender_addon(
    out: Path = typer.Option(..., "-o", "--out", help="The add-on zip to write (install it in Blender's preferences)."),
) -> None:
    """Write the Blender add-on as an installable zip (Blender 3.x and 4.x)."""
    if out.suffix.lower() != ".zip":
        raise InputError(f"{out}: the add-on is a .zip file")
    write_bytes(out, addon_zip())
    typer.echo(f"wrote {out}: in Blender, Edit > Preferences > Add-ons > Install..., then enable 'motionprog'")


def _emit(record: dict[str, Any]) -> None:
    typer.echo(json.dumps(record), nl=True)


def diagnostic_record(diagnostic: Diagnostic, program: SceneProgram) -> dict[str, Any]:
    """One diagnostic for the panel: where it is (the constraint text, or the generated
    ``scene``), line and column there, level, code, message and help."""
    span = diagnostic.span
    line, column, where = (span.line, span.column, "constraints") if span else (0, 0, "program")
    if span and span.line >= program.user_line:
        line = span.line - program.user_line + 1
    elif span:
        where = "scene"
    return {"where": where, "line": line, "column": column, "level": diagnostic.level,
            "code": diagnostic.code, "message": diagnostic.message, "help": diagnostic.help}


def read_job(job: Path) -> tuple[dict[str, Any], SceneProgram]:
    """The job's description and its program, written to ``program.mprog`` beside it."""
    try:
        description = json.loads(job.read_text(encoding="utf-8"))
        program = scene_program(description)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{job}: not a valid Blender job ({type(exc).__name__}: {exc})") from exc
    write_text(job.parent / "program.mprog", program.source)
    return description, program


def compiled(path: Path, program: SceneProgram) -> Any:
    """The compiled program, or its diagnostics as one JSON line and exit status 2."""
    from motionprog.lang import compile as compile_program

    try:
        result = compile_program(path)
    except ProgramError as exc:
        _emit({"diagnostics": [diagnostic_record(d, program) for d in exc.diagnostics], "names": program.names})
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    _emit({"diagnostics": [], "names": program.names})
    return result


def run_config(settings: dict[str, Any]) -> Any:
    """The optimiser settings of the job's ``run`` block (0 or a negative value: the default)."""
    from motionprog.optimize import OptimizeConfig

    config = OptimizeConfig(device=str(settings.get("device", "cpu")))
    if int(settings.get("iterations", 0)) > 0:
        config = replace(config, iterations=int(settings["iterations"]))
    if int(settings.get("steps", 0)) > 0:
        config = replace(config, steps=int(settings["steps"]))
    if float(settings.get("natural_weight", -1)) >= 0:
        config = replace(config, natural_weight=float(settings["natural_weight"]))
    return config


def generate_job(folder: Path, program: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """Optimise ``program`` with a progress line per iteration; write the motion and, for the
    add-on, ``result.json`` (its rig, pose and report) into ``folder``; returns the report."""
    from motionprog.io.blender_result import blender_result
    from motionprog.models.registry import load_model
    from motionprog.motion import save_npz
    from motionprog.optimize import generate

    config = run_config(settings)
    model = load_model(str(settings.get("model") or program.model or "bundled"), device=config.device)
    total = config.iterations + 1

    def on_iteration(iteration: int, loss: float, satisfied: int) -> None:
        _emit({"progress": iteration + 1, "total": total, "loss": loss, "satisfied": satisfied})

    result = generate(program, model=model, config=config, callback=on_iteration)
    save_npz(result.motion, folder / "motion.npz")
    write_text(folder / RESULT_FILE, json.dumps(blender_result(result.motion) | {"report": result.report}))
    return result.report


def scene_block(program: SceneProgram) -> str:
    """The ``scene { ... }`` block of the job's program ("" when the job has no objects)."""
    return "\n".join(program.source.splitlines()[1:program.user_line - 1]).strip()


def constraint_text(path: Path) -> str:
    """The program in ``path`` without its header and scene block: what the add-on's text
    block holds; InputError when it does not parse."""
    from motionprog.lang import ast
    from motionprog.lang.imports import read_text_file, refusal
    from motionprog.lang.parser import parse

    problem = refusal(path, (path.parent.resolve(),))  # a regular file, not too large
    source, problem = (None, problem) if problem else read_text_file(path)
    module, diagnostics = parse(source, str(path)) if source is not None else (None, [])
    if module is None:
        span = diagnostics[0].span
        raise InputError(problem or f"{span.location() if span else path}: {diagnostics[0].message}")
    generated = {line for statement in module.statements if isinstance(statement, (ast.Header, ast.Scene))
                 for line in range(statement.span.line, statement.span.end_line + 1)}
    kept = [line for number, line in enumerate(source.splitlines(), 1) if number not in generated]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept).strip("\n")) + "\n"  # one blank line where they were


def blender_job(
    job: Path = typer.Argument(..., help="The job.json the Blender add-on wrote."),
    check: bool = typer.Option(False, "--check", help="Only check the program; print its diagnostics."),
    starter: bool = typer.Option(False, "--starter", help="Print a first constraint text for the job's scene."),
    scene: bool = typer.Option(False, "--scene-block", help="Print the job's scene block (for `motionprog prompt --scene`)."),
    constraints_of: Optional[Path] = typer.Option(
        None, "--constraints-of", help="Print this program's text without its header and scene block."),
) -> None:
    """The engine side of the Blender add-on (JSON lines on stdout; see docs/blender.md)."""
    description, program = read_job(job)
    if starter:
        _emit({"starter": starter_constraints(description), "names": program.names})
        return
    if scene:
        _emit({"scene": scene_block(program)})
        return
    if constraints_of is not None:
        _emit({"constraints": constraint_text(constraints_of)})
        return
    compiled_program = compiled(job.parent / "program.mprog", program)
    if check:
        return
    report = generate_job(job.parent, compiled_program, description.get("run", {}))
    _emit({"result": {"satisfied": report["satisfied"], "file": RESULT_FILE, "fps": compiled_program.fps,
                      "frames": compiled_program.frames}})
    if not report["satisfied"]:
        raise typer.Exit(EXIT_UNSATISFIED)


def register(app: typer.Typer) -> None:
    """Add blender-addon and blender-job to the app."""
    app.command("blender-addon")(blender_addon)
    app.command("blender-job")(blender_job)
