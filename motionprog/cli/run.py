"""`motionprog run`: optimise a program into a motion, with a progress bar and a report table."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import torch
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from motionprog.cli.lang import ALLOW_PATH_HELP
from motionprog.errors import InputError
from motionprog.io.atomic import write_text
from motionprog.lang.diagnostics import ProgramError, render_text
from motionprog.models.registry import load_model
from motionprog.motion import save_npz
from motionprog.render.viewer import write_viewer
from motionprog.optimize import OptimizeConfig, generate

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False)

EXIT_UNSATISFIED = 3
EXIT_BAD_INPUT = 2


def _margin_text(row: dict[str, Any]) -> str:
    margin = row["margin"]
    if margin is None:
        return "non-finite"
    if row["unit"] == "m":
        return f"{margin * 100:+.2f} cm"
    return f"{margin:+.4g} {row['unit']}".rstrip()


def report_table(report: dict[str, Any]) -> Table:
    """Each constraint with its margin, unit and whether it holds."""
    table = Table(title=f"{'satisfied' if report['satisfied'] else 'NOT satisfied'} ({report['method']}, "
                        f"model {report['model']})")
    for column in ("constraint", "source", "kind", "margin", "holds"):
        table.add_column(column, justify="right" if column == "margin" else "left")
    for row in report["constraints"]:
        if row["satisfied"] is None:
            holds = "-"
        else:
            holds = "[green]yes[/]" if row["satisfied"] else ("[red]NO[/]" if row["hard"] else "[yellow]no (soft)[/]")
        kind = row["kind"] if row["hard"] or row["kind"] != "constraint" else "soft"
        table.add_row(row["name"], row["source"], kind, _margin_text(row), holds)
    return table


def metrics_table(report: dict[str, Any]) -> Table:
    """Naturalness metrics, time and peak memory of a run."""
    table = Table(title="naturalness and cost", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, value in report["metrics"].items():
        table.add_row(name.replace("_", " "), "n/a" if value is None else f"{value:.4g}")
    table.add_row("iterations", str(report["iterations"]))
    table.add_row("time", f"{report['time_s']:.2f} s")
    table.add_row("peak memory", f"{report['peak_memory_mb']:.0f} MB")
    table.add_row("seed chosen", str(report["best_seed"]))
    return table


def print_report(console: Console, report: dict[str, Any]) -> None:
    """The final tables, then what went wrong (conflicts, non-finite values) if anything."""
    console.print(report_table(report))
    console.print(metrics_table(report))
    if report["error"]:
        console.print(f"[red]stopped early:[/] {report['error']}")
    for first, second in report["conflicts"]:
        console.print(f"[red]conflict:[/] '{first}' and '{second}' pull the motion in opposite directions")
    if report["violated"]:
        console.print("[red]violated:[/] " + ", ".join(f"'{name}'" for name in report["violated"]))


def render_video(motion: Any, path: Path) -> None:
    """Render ``motion`` (with its scene) to ``path`` through motionprog.render, if installed."""
    try:
        from motionprog.render.video import render_motion
    except ImportError as exc:
        raise InputError(f"cannot render {path}: rendering is unavailable ({exc}); "
                         "install the extra with pip install 'motionprog[render]'") from exc
    render_motion(motion, path, scene=motion.metadata.get("scene"))


def set_threads(threads: int | None) -> None:
    """Use ``threads`` CPU threads in torch (None: leave torch's default)."""
    if threads is not None:
        torch.set_num_threads(threads)


def warn_unknown_prompt(model: Any, text: str) -> None:
    """Say in one line when ``text`` is far from every label the model was trained on."""
    from motionprog.models.vocabulary import model_prompt_match

    match = model_prompt_match(model, text)
    if match is not None and not match.known:
        stderr.print(f"note: {match.notice()}", markup=False)


def run(
    program_file: Path = typer.Argument(..., help="The .mprog program to run."),
    out: Path = typer.Option(..., "-o", "--out", help="Output motion (.npz)."),
    model: Optional[str] = typer.Option(
        None, "--model", help="'bundled' (default), 'mdm:DIR' or a trained .safetensors file."),
    stats: Optional[Path] = typer.Option(None, "--stats", help="HumanML3D Mean.npy/Std.npy directory (mdm only)."),
    text_encoder: Optional[str] = typer.Option(None, "--text-encoder", help="'clip:PATH' or 'none' (mdm only)."),
    seeds: Optional[int] = typer.Option(None, "--seeds", min=1, max=64,
                                        help="Seeds optimised together (default: the program's)."),
    allow_path: list[Path] = typer.Option([], "--allow-path", help=ALLOW_PATH_HELP),
    steps: Optional[int] = typer.Option(
        OptimizeConfig.steps, "--steps", min=1,
        help="Search through K DDIM steps of the teacher (default: the model's distilled one-step student "
             "when it has one, else its default steps)."),
    final_steps: Optional[int] = typer.Option(
        OptimizeConfig.final_steps, "--final-steps", min=0,
        help="DDIM steps of the teacher's final decode, kept per seed where preferred (default: the model's "
             "steps after a search through the student; 0: none)."),
    candidates: int = typer.Option(
        OptimizeConfig.candidates, "--candidates", min=0,
        help="Candidate noises scored before the search; it starts from the best (<= seeds: off)."),
    iters: int = typer.Option(OptimizeConfig.iterations, "--iters", min=1, help="Most optimisation iterations."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    seed: int = typer.Option(OptimizeConfig.seed, "--seed",
                             help="Base random seed (candidates are seeds s, s+1, ...)."),
    report_path: Optional[Path] = typer.Option(None, "--report", help="Write the report JSON here."),
    method: str = typer.Option("fast", "--method", help="fast (ours) or progmogen (the reference procedure)."),
    polish: bool = typer.Option(True, "--polish/--no-polish", help="Polish the chosen seed in feature space."),
    feet: bool = typer.Option(OptimizeConfig.clean_feet, "--foot-cleanup/--no-foot-cleanup",
                              help="Pin planted feet of the result where no hard constraint gets worse."),
    natural_weight: float = typer.Option(
        OptimizeConfig.natural_weight, "--natural-weight", min=0.0,
        help="Weight of the penalty on jerks above 50 m/s^2 and joints under the floor (0: off)."),
    checkpoint: bool = typer.Option(False, "--checkpoint", help="Gradient checkpointing (less memory, slower)."),
    render: Optional[Path] = typer.Option(None, "--render", help="Also render a video (.mp4/.gif)."),
    view: Optional[Path] = typer.Option(None, "--view", help="Also write the interactive HTML viewer (.html)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads for torch (default: torch's)."),
) -> None:
    """Generate a motion that satisfies PROGRAM_FILE; exit 0 if every hard constraint holds, 3 if not."""
    set_threads(threads)
    program = compile_or_exit(program_file, allow_path)
    check_run_outputs(program_file, program, model, {
        "--out": (out, (".npz",)), "--report": (report_path, (".json",)),
        "--render": (render, (".mp4", ".gif", ".png")), "--view": (view, (".html", ".htm"))})
    config = OptimizeConfig(
        method=method, seeds=seeds, seed=seed, steps=steps, final_steps=final_steps, candidates=candidates,
        iterations=iters, device=device, checkpoint=checkpoint, natural_weight=natural_weight, clean_feet=feet,
        polish_iterations=OptimizeConfig.polish_iterations if polish else 0,
        progmogen_iterations=iters if method == "progmogen" else OptimizeConfig.progmogen_iterations,
    )
    motion_model = load_model(model or program.model or "bundled", stats=stats, text_encoder=text_encoder, device=device)
    for part in program.parts:
        warn_unknown_prompt(motion_model, part.prompt)
    result = optimise_with_progress(program, motion_model, config)
    write_results(result, out, report_path, render, view)
    if not result.report["satisfied"]:
        raise typer.Exit(EXIT_UNSATISFIED)


def compile_or_exit(program_file: Path, allow_paths: list[Path], **options: Any) -> Any:
    """The compiled program (reading only where docs/security.md allows, plus ``allow_paths``;
    ``options`` of ``motionprog.lang.compile``), or its diagnostics printed and exit status 2."""
    from motionprog.lang import compile as compile_program

    try:
        return compile_program(program_file, allow_paths=allow_paths, **options)
    except ProgramError as exc:
        for diagnostic in exc.diagnostics:
            stderr.print(render_text(diagnostic), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from exc


def check_run_outputs(program_file: Path, program: Any, model: Optional[str], outputs: dict[str, Any]) -> None:
    """Refuse, before any work, outputs that are inputs (the program, its meshes, a weights
    file), have the wrong suffix, or cannot be written (``motionprog.io.outputs``)."""
    from motionprog.io.outputs import check_outputs

    meshes = [d["path"] for d in (obj.to_dict() for obj in program.scene) if d.get("kind") == "mesh"]
    weights = model if model and model.endswith(".safetensors") else None
    check_outputs([program_file, *meshes, weights], outputs)


@contextlib.contextmanager
def iteration_progress(total: int, batch: int) -> Iterator[Callable[[int, float, int], None]]:
    """A progress bar on stderr while the block runs; yields the optimizer callback that moves it
    (iteration, mean loss, seeds satisfied out of ``batch``)."""
    progress = Progress(
        TextColumn("optimising"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"), TextColumn("satisfied {task.fields[sat]}"), TimeElapsedColumn(),
        console=stderr, transient=True,
    )
    with progress:
        task = progress.add_task("optimising", total=total, loss="-", sat=f"0/{batch}")

        def on_iteration(iteration: int, loss: float, satisfied: int) -> None:
            progress.update(task, completed=iteration + 1, loss=f"{loss:.4g}", sat=f"{satisfied}/{batch}")

        yield on_iteration


def optimise_with_progress(program: Any, model: Any, config: OptimizeConfig) -> Any:
    """``generate`` with a progress bar on stderr (iteration, mean loss, seeds satisfied)."""
    total = (config.progmogen_iterations if config.method == "progmogen" else config.iterations) + 1
    batch = 1 if config.method == "progmogen" else (config.seeds or program.seeds)
    with iteration_progress(total, batch) as on_iteration:
        return generate(program, model=model, config=replace(config, seeds=batch), callback=on_iteration)


def write_results(result: Any, out: Path, report_path: Optional[Path], render: Optional[Path],
                  view: Optional[Path]) -> None:
    """The motion, the report, the tables, and the video and viewer when asked for."""
    save_npz(result.motion, out)
    if report_path is not None:
        write_text(report_path, json.dumps(result.report, indent=2))
    print_report(stdout, result.report)
    stdout.print(f"wrote {out}" + (f" and {report_path}" if report_path else ""), markup=False)
    if render is not None:
        render_video(result.motion, render)
        stdout.print(f"wrote {render}", markup=False)
    if view is not None:
        write_viewer(result.motion, view, scene=result.motion.metadata.get("scene"))
        stdout.print(f"wrote {view} (open it in a browser)", markup=False)


def register(app: typer.Typer) -> None:
    """Add `motionprog run` to the app."""
    app.command("run")(run)
