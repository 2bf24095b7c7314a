"""`motionprog bench`: fast optimizer vs the ProgMoGen reference on the example programs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from motionprog.cli.run import set_threads
from motionprog.models.registry import load_model
from motionprog.errors import InputError
from motionprog.io.atomic import write_text
from motionprog.optimize import OptimizeConfig
from motionprog.optimize.bench import markdown, run_bench

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

QUICK_PROGRAMS = 2
"""Programs run by ``--quick`` (the first ones by name)."""


def select_tasks(programs: list[Path], tasks: list[str]) -> list[Path]:
    """The programs named by ``tasks`` (stems, each item may be comma-separated); unknown names raise."""
    wanted = [name.strip() for item in tasks for name in item.split(",") if name.strip()]
    known = {path.stem: path for path in programs}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise InputError(f"--tasks: no program named {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return [known[name] for name in dict.fromkeys(wanted)]


def bench(
    out: Path = typer.Option(Path("bench"), "--out", help="Directory for bench.md and bench.json."),
    quick: bool = typer.Option(False, "--quick", help="A small subset: the first two programs."),
    tasks: Optional[list[str]] = typer.Option(
        None, "--tasks", help="Only these programs (file stems, e.g. duck_under_bar); repeat or comma-separate."),
    examples: Path = typer.Option(Path("examples"), "--examples", help="Directory of .mprog programs."),
    model: str = typer.Option("bundled", "--model", help="'bundled', 'mdm:DIR' or a .safetensors file."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    seeds: int = typer.Option(4, "--seeds", min=1, help="Seeds of the fast method."),
    steps: Optional[int] = typer.Option(
        OptimizeConfig.steps, "--steps", min=1,
        help="Fast method: K DDIM steps of the teacher in the search (default: the distilled student)."),
    iters: int = typer.Option(OptimizeConfig.iterations, "--iters", min=1, help="Most iterations of the fast method."),
    reference_steps: int = typer.Option(
        OptimizeConfig.progmogen_steps, "--reference-steps", min=1, help="DDIM steps of the reference (ProgMoGen: 100)."),
    reference_iters: int = typer.Option(
        OptimizeConfig.progmogen_iterations, "--reference-iters", min=1, help="Iterations of the reference (ProgMoGen: 100)."),
    reference: bool = typer.Option(True, "--reference/--no-reference",
                                   help="Also run the ProgMoGen reference on every task (the speed ratios)."),
    language: bool = typer.Option(True, "--language/--no-language", help="Also time the language part."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads for torch (default: torch's)."),
    batch_mode: bool = typer.Option(False, "--batch", help="Instead: batch throughput with 1 and 2 local workers."),
) -> None:
    """Run every example with both methods on the same model; write Markdown and JSON."""
    set_threads(threads)
    programs = sorted(examples.glob("*.mprog"))
    if not programs:
        raise InputError(f"{examples}: no .mprog programs to benchmark")
    if tasks:
        programs = select_tasks(programs, tasks)
    if quick:
        programs = programs[:QUICK_PROGRAMS]
    fast = OptimizeConfig(seeds=seeds, steps=steps, iterations=iters, device=device)
    if batch_mode:  # motionprog/cli/batch.py (issue 8)
        from motionprog.cli.batch import bench_batch

        return bench_batch(programs, model, fast, out, threads)
    reference_config = replace(fast, method="progmogen", progmogen_steps=reference_steps,
                               progmogen_iterations=reference_iters) if reference else None
    motion_model = load_model(model, device=device)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=stderr, transient=True)
    with progress:
        task = progress.add_task("benchmark", total=2 * len(programs))

        def on_run(done: int, total: int, description: str) -> None:
            progress.update(task, completed=done, total=total, description=description)

        results = run_bench(programs, motion_model, fast, reference_config, progress=on_run, language=language,
                            checkpoint=lambda partial: write_results(out, partial))
    write_results(out, results)
    stdout.print(markdown(results), markup=False)
    stdout.print(f"wrote {out / 'bench.md'} and {out / 'bench.json'}", markup=False)


def write_results(out: Path, results: dict) -> None:
    """bench.json and bench.md in ``out`` (rewritten after every task, so a long run leaves what it measured)."""
    write_text(out / "bench.json", json.dumps(results, indent=2))
    write_text(out / "bench.md", markdown(results))


def register(app: typer.Typer) -> None:
    """Add `motionprog bench` to the app."""
    app.command("bench")(bench)
