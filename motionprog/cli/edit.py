"""`motionprog edit IN PROGRAM -o OUT`: change a motion the user has only where the program asks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from motionprog.cli.lang import ALLOW_PATH_HELP
from motionprog.cli.run import EXIT_UNSATISFIED, compile_or_exit, iteration_progress, print_report, set_threads
from motionprog.errors import InputError
from motionprog.io.atomic import write_text
from motionprog.io.formats import READERS, read_motions, writer_for
from motionprog.io.outputs import check_outputs
from motionprog.models.registry import load_model
from motionprog.optimize.edit import EditConfig, edit
from motionprog.optimize.edit_input import edit_input
from motionprog.render.viewer import write_viewer

stdout = Console(highlight=False)


def moved_lines(moved: dict[str, Any]) -> list[str]:
    """The report's ``moved`` in words: overall, the joints that moved most, and when."""
    joints = sorted(moved["per_joint"].items(), key=lambda item: -item[1]["max_m"])[:3]
    when = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in moved["seconds"]) or "none"
    return [
        f"moved from the input: mean {moved['mean_m'] * 100:.2f} cm, max {moved['max_m'] * 100:.2f} cm",
        "most moved: " + ", ".join(f"{name} (mean {v['mean_m'] * 100:.1f} cm, max {v['max_m'] * 100:.1f} cm)"
                                   for name, v in joints),
        f"frames that moved more than {moved['threshold_m'] * 100:g} cm: {when} ({moved['frames_moved']} frames)",
    ]


def read_input(source: Path, from_format: Optional[str], index: Optional[int]) -> Any:
    """The one motion of IN to edit (``--index`` picks one of several), at 20 fps, checked."""
    motions = read_motions(source, from_format)
    if index is None and len(motions) > 1:
        raise InputError(f"{source}: the file holds {len(motions)} motions; choose one with --index")
    if index is not None and not 0 <= index < len(motions):
        raise InputError(f"{source}: --index {index} is out of range (the file holds {len(motions)} motions)")
    return edit_input(motions[index or 0])


def edit_command(
    source: Path = typer.Argument(..., metavar="IN", help="The motion to edit (.npz, .npy, .bvh, MDM results.npy)."),
    program_file: Path = typer.Argument(..., metavar="PROGRAM", help="The .mprog program (input.x and keep allowed)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output motion; its extension picks the format (.npz keeps "
                                                       "the report)."),
    from_format: Optional[str] = typer.Option(None, "--from", help=f"Input format: {', '.join(READERS)}."),
    index: Optional[int] = typer.Option(None, "--index", help="The motion to edit in a file that holds several."),
    model: str = typer.Option("bundled", "--model", help="'bundled' or a trained .safetensors of its architecture "
                                                        "(the edit needs its denoiser)."),
    iters: int = typer.Option(EditConfig.iterations, "--iters", min=1, help="Most optimisation iterations."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    report_path: Optional[Path] = typer.Option(None, "--report", help="Write the report JSON here."),
    view: Optional[Path] = typer.Option(None, "--view", help="Also write the interactive HTML viewer (.html)."),
    allow_path: list[Path] = typer.Option([], "--allow-path", help=ALLOW_PATH_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads for torch."),
) -> None:
    """Edit a motion so that PROGRAM holds, keeping it elsewhere; exit 0 if satisfied, 3 if not."""
    set_threads(threads)
    writer_for(out)
    weights = model if model.endswith(".safetensors") else None
    check_outputs([source, program_file, weights], {"--out": (out, ()), "--report": (report_path, (".json",)),
                                                    "--view": (view, (".html", ".htm"))})
    motion = read_input(source, from_format, index)
    program = compile_or_exit(program_file, allow_path, frames=motion.num_frames, editing=True)
    motion_model = load_model(model, device=device)
    with iteration_progress(iters + 1, 1) as on_iteration:
        result = edit(motion, program, model=motion_model, config=EditConfig(iterations=iters, device=device),
                      callback=on_iteration)
    writer_for(out)(result.motion, out)
    if report_path is not None:
        write_text(report_path, json.dumps(result.report, indent=2))
    print_report(stdout, result.report)
    for line in moved_lines(result.report["moved"]):
        stdout.print(line, markup=False)
    stdout.print(f"wrote {out}" + (f" and {report_path}" if report_path else ""), markup=False)
    if view is not None:
        write_viewer(result.motion, view, scene=result.motion.metadata.get("scene"))
        stdout.print(f"wrote {view} (open it in a browser)", markup=False)
    if not result.satisfied:
        raise typer.Exit(EXIT_UNSATISFIED)


def register(app: typer.Typer) -> None:
    """Add `motionprog edit` to the app."""
    app.command("edit")(edit_command)
