"""`motionprog watch`: re-run a program on every save, warm-starting small edits.

When the header (prompt, length, model) is unchanged, the next solve starts from the last
result's optimised noise instead of fresh candidates, so a tweak of one constraint converges in
a few iterations. Outputs are replaced atomically: stopping (Ctrl-C) leaves the last good result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

import typer

from motionprog.cli.run import check_run_outputs, print_report, set_threads, stderr, stdout, warn_unknown_prompt
from motionprog.cli.lang import ALLOW_PATH_HELP
from motionprog.errors import InputError
from motionprog.lang.diagnostics import ProgramError, render_text
from motionprog.lang.program import compile as compile_program
from motionprog.lang.program import read_source
from motionprog.models.registry import load_model
from motionprog.motion import save_npz
from motionprog.optimize import OptimizeConfig, generate
from motionprog.render.viewer import write_viewer


@dataclass
class Session:
    """What one solve leaves to the next: the header it solved and its noise, the models loaded."""

    header: tuple[Any, ...] | None = None
    noise: Any = None
    models: dict[str, Any] = field(default_factory=dict)
    solves: int = 0


def compile_quietly(text: str, path: Path, allow_paths: list[Path]) -> Any:
    """The compiled program, or None with its diagnostics printed (the watch goes on)."""
    try:
        return compile_program(text, filename=str(path), allow_paths=allow_paths)
    except ProgramError as exc:
        for diagnostic in exc.diagnostics:
            stderr.print(render_text(diagnostic), markup=False)
        return None


def solve(program: Any, session: Session, model_spec: Optional[str], config: OptimizeConfig,
          out: Path, view: Optional[Path]) -> None:
    """One solve, warm when the header is the last one's; writes OUT (and the viewer) and the table."""
    spec = model_spec or program.model or "bundled"
    if spec not in session.models:
        session.models[spec] = load_model(spec, device=config.device)
        for part in program.parts:
            warn_unknown_prompt(session.models[spec], part.prompt)
    header = (program.text, program.frames, spec)
    start = session.noise if header == session.header else None
    result = generate(program, model=session.models[spec], config=config, start_noise=start)
    save_npz(result.motion, out)
    if view is not None:
        write_viewer(result.motion, view, scene=result.motion.metadata.get("scene"), live=True)
    session.header, session.noise, session.solves = header, result.noise, session.solves + 1
    print_report(stdout, result.report)
    stdout.print(f"solve {session.solves} ({'warm' if start is not None else 'cold'} start): "
                 f"{result.report['iterations']} iterations, "
                 f"{'satisfied' if result.report['satisfied'] else 'not satisfied'}; wrote {out}"
                 + (f" and {view}" if view else ""), markup=False)


def watch(
    program_file: Path = typer.Argument(..., help="The .mprog program to watch."),
    out: Path = typer.Option(..., "-o", "--out", help="Output motion (.npz), replaced after each solve."),
    view: Optional[Path] = typer.Option(None, "--view", help="Also keep an HTML viewer (.html) that reloads itself."),
    model: Optional[str] = typer.Option(
        None, "--model", help="'bundled' (default), 'mdm:DIR' or a trained .safetensors file."),
    steps: Optional[int] = typer.Option(OptimizeConfig.steps, "--steps", min=1,
                                        help="Search through K DDIM steps of the teacher (default: as run)."),
    iters: int = typer.Option(OptimizeConfig.iterations, "--iters", min=1, help="Most optimisation iterations."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    natural_weight: float = typer.Option(
        OptimizeConfig.natural_weight, "--natural-weight", min=0.0, help="Weight of the naturalness penalty."),
    allow_path: list[Path] = typer.Option([], "--allow-path", help=ALLOW_PATH_HELP),
    poll: float = typer.Option(0.3, "--poll", min=0.05, help="Seconds between looks at the file."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads for torch (default: torch's)."),
) -> None:
    """Re-run PROGRAM_FILE on every save, warm-starting a small edit from the last result."""
    set_threads(threads)
    config = OptimizeConfig(steps=steps, iterations=iters, device=device, natural_weight=natural_weight)
    session, seen = Session(), None
    try:
        while True:
            text = read_source(program_file)[0]
            if text is not None and text != seen:
                seen = text
                rerun(text, program_file, session, model, config, out, view, allow_path)
            time.sleep(poll)
    except KeyboardInterrupt:
        if session.solves:
            stderr.print(f"stopped; {out} holds the last good result", markup=False)
        raise


def rerun(text: str, program_file: Path, session: Session, model: Optional[str], config: OptimizeConfig,
          out: Path, view: Optional[Path], allow_paths: list[Path]) -> None:
    """Compile and solve one version of the program; errors are printed and the watch goes on."""
    stderr.print(f"{program_file} changed, solving", markup=False)
    program = compile_quietly(text, program_file, allow_paths)
    if program is None:
        return
    try:
        check_run_outputs(program_file, program, model, {"--out": (out, (".npz",)), "--view": (view, (".html", ".htm"))})
        solve(program, session, model, config, out, view)
    except InputError as exc:
        stderr.print(f"error: {exc}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `motionprog watch` to the app."""
    app.command("watch")(watch)
