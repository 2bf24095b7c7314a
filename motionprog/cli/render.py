"""`motionprog render`, `motionprog view` and `motionprog plot`: see a motion and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from motionprog.motion import load_npz

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False)


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        stderr.print(f"warning: {warning}", markup=False, style="yellow")


def render_command(
    inputs: list[Path] = typer.Argument(..., help="Motion files (.npz); several render side by side."),
    output: Path = typer.Option(..., "-o", "--output", help="Output .mp4, .gif or .png."),
    width: int = typer.Option(640, help="Width of one panel, pixels."),
    height: int = typer.Option(480, help="Height, pixels."),
    camera: str = typer.Option("frame", help="'frame' (fixed, whole motion in view) or 'follow'."),
    trail: Optional[list[str]] = typer.Option(None, "--trail", help="Joint whose path to draw (repeatable); default: the constrained joints."),
    no_trails: bool = typer.Option(False, "--no-trails", help="Draw no trails."),
    fps: Optional[float] = typer.Option(None, help="Video frame rate; default: the motion's (one video frame per frame)."),
    smpl: Optional[Path] = typer.Option(None, "--smpl", help="SMPL/SMPL-H/SMPL-X model file to draw instead of capsules."),
) -> None:
    """Render motions offscreen to a video or an image."""
    from motionprog.render.video import RenderConfig, render_motion

    trails = () if no_trails else (tuple(trail) if trail else None)
    config = RenderConfig(width=width, height=height, camera=camera, trails=trails, fps=fps,
                          body_model=None if smpl is None else str(smpl))
    motions = [load_npz(path) for path in inputs]
    with Progress(TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=stderr) as bar:
        task = bar.add_task("render", total=None)
        result = render_motion(motions, output, config=config, progress=lambda done, total: bar.update(task, completed=done, total=total))
    _warn(result.warnings)
    stdout.print(f"wrote {result.path} ({result.frames} frames)", markup=False)


def view_command(
    inputs: list[Path] = typer.Argument(..., help="Motion files (.npz); several are overlaid."),
    output: Path = typer.Option(..., "-o", "--output", help="Output .html (self-contained)."),
) -> None:
    """Write an interactive HTML viewer (no network needed to open it)."""
    from motionprog.render.viewer import write_viewer

    warnings = write_viewer([load_npz(path) for path in inputs], output)
    _warn(warnings)
    stdout.print(f"wrote {output}", markup=False)


def plot_command(
    report: Path = typer.Argument(..., help="A report .json (from run --report) or a motion .npz carrying one."),
    output: Path = typer.Option(..., "-o", "--output", help="Output .png, .svg or .pdf."),
) -> None:
    """Plot margins per constraint over the optimisation and per frame."""
    from motionprog.render.plots import load_report, plot_report

    plot_report(load_report(report), output)
    stdout.print(f"wrote {output}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the render, view and plot commands to ``app``."""
    app.command("render")(render_command)
    app.command("view")(view_command)
    app.command("plot")(plot_command)
