"""`motionprog render`, `motionprog view` and `motionprog plot`: see a motion and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from motionprog.cli.terminal import printable
from motionprog.io.outputs import check_outputs
from motionprog.motion import load_npz

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False)

EXIT_BAD_INPUT = 2
PROGRAM_HELP = ("The program that made the motions: its scene is drawn, mesh files included (mesh files "
                "named only inside a motion file are never read).")


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        stderr.print(f"warning: {printable(warning)}", markup=False, style="yellow")


def program_scene(program: Path | None) -> list[dict[str, Any]] | None:
    """The scene dictionaries of ``program`` (None without one); its diagnostics end the command."""
    if program is None:
        return None
    from motionprog.lang import compile as compile_program
    from motionprog.lang.diagnostics import ProgramError, render_text

    try:
        return [item.to_dict() for item in compile_program(program).scene]
    except ProgramError as exc:
        for diagnostic in exc.diagnostics:
            stderr.print(printable(render_text(diagnostic)), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def render_command(
    inputs: list[Path] = typer.Argument(..., help="Motion files (.npz); several render side by side."),
    output: Path = typer.Option(..., "-o", "--output", help="Output .mp4, .gif or .png."),
    width: int = typer.Option(640, help="Width of one panel, pixels."),
    height: int = typer.Option(480, help="Height, pixels."),
    camera: str = typer.Option("frame", help="'frame' (fixed, whole motion in view) or 'follow'."),
    trail: Optional[list[str]] = typer.Option(None, "--trail", help="Joint whose path to draw (repeatable); default: the constrained joints."),
    no_trails: bool = typer.Option(False, "--no-trails", help="Draw no trails."),
    fps: Optional[float] = typer.Option(None, help="Video frame rate; default: the motion's (one video frame per frame)."),
    program: Optional[Path] = typer.Option(None, "--program", help=PROGRAM_HELP),
    smpl: Optional[Path] = typer.Option(
        None, "--smpl", help="SMPL/SMPL-H/SMPL-X model file (.npz of plain arrays, or a .pkl of numpy arrays and "
                             "scipy sparse matrices, loaded without running code) to draw instead of capsules."),
    trust_pickle: bool = typer.Option(
        False, "--trust-pickle", help="Open the --smpl file with Python's unrestricted pickle (official SMPL 1.0 "
                                      "files hold chumpy objects): it can run code, so only for files you trust."),
) -> None:
    """Render motions offscreen to a video or an image."""
    from motionprog.render.video import VIDEO_SUFFIXES, RenderConfig, render_motion

    check_outputs([*inputs, program, smpl], {"--output": (output, VIDEO_SUFFIXES)})
    trails = () if no_trails else (tuple(trail) if trail else None)
    config = RenderConfig(width=width, height=height, camera=camera, trails=trails, fps=fps,
                          body_model=None if smpl is None else str(smpl), trust_pickle=trust_pickle)
    motions = [load_npz(path) for path in inputs]
    scene = program_scene(program)
    with Progress(TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=stderr) as bar:
        task = bar.add_task("render", total=None)
        result = render_motion(motions, output, scene=scene, config=config,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    _warn(result.warnings)
    stdout.print(f"wrote {result.path} ({result.frames} frames)", markup=False)


def view_command(
    inputs: list[Path] = typer.Argument(..., help="Motion files (.npz); several are overlaid."),
    output: Path = typer.Option(..., "-o", "--output", help="Output .html (self-contained)."),
    program: Optional[Path] = typer.Option(None, "--program", help=PROGRAM_HELP),
) -> None:
    """Write an interactive HTML viewer (no network needed to open it); every value from a file is escaped."""
    from motionprog.render.viewer import VIEWER_SUFFIXES, write_viewer

    check_outputs([*inputs, program], {"--output": (output, VIEWER_SUFFIXES)})
    warnings = write_viewer([load_npz(path) for path in inputs], output, scene=program_scene(program))
    _warn(warnings)
    stdout.print(f"wrote {output}", markup=False)


def plot_command(
    report: Path = typer.Argument(..., help="A report .json (from run --report) or a motion .npz carrying one."),
    output: Path = typer.Option(..., "-o", "--output", help="Output .png, .svg or .pdf."),
) -> None:
    """Plot margins per constraint over the optimisation and per frame."""
    from motionprog.render.plots import PLOT_SUFFIXES, load_report, plot_report

    check_outputs([report], {"--output": (output, PLOT_SUFFIXES)})
    plot_report(load_report(report), output)
    stdout.print(f"wrote {output}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the render, view and plot commands to ``app``."""
    app.command("render")(render_command)
    app.command("view")(view_command)
    app.command("plot")(plot_command)
