"""`motionprog batch`: many programs at once on a local process pool or a Ray cluster, with a
progress bar and a final summary; also the `motionprog bench --batch` throughput table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from motionprog.cli.lang import ALLOW_PATH_HELP
from motionprog.cli.terminal import printable

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_JOBS_FAILED = 1


def summary_table(summary: Any) -> Table:
    """Done, failed, skipped, satisfied, time and throughput of a batch run."""
    table = Table(title="batch", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    ran = summary.done + summary.failed
    rows = {
        "done": str(summary.done), "failed": str(summary.failed), "skipped (done before)": str(summary.skipped),
        "satisfied": f"{summary.satisfied}/{summary.done}", "time": f"{summary.time_s:.1f} s",
        "throughput": f"{summary.throughput * 60:.2f} jobs/min" if ran else "-",
    }
    for what, value in rows.items():
        table.add_row(what, value)
    return table


def batch(
    jobs: Path = typer.Argument(..., help="A directory of .mprog files or a JSONL manifest."),
    outdir: Path = typer.Option(..., "-o", "--out", help="Output folder: <job>.npz, reports/<job>.json, errors/<job>.json."),
    executor: str = typer.Option("local", "--executor", help="local (a process pool) or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (ray only), e.g. auto."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                          help="Worker processes or Ray actors (default: cores, or GPUs / gpus-per-job)."),
    gpus_per_job: float = typer.Option(0.0, "--gpus-per-job", min=0.0, help="GPUs per Ray actor (0.5 shares a GPU)."),
    model: str = typer.Option("bundled", "--model", help="'bundled', 'mdm:DIR' or a trained .safetensors file."),
    stats: Optional[Path] = typer.Option(None, "--stats", help="HumanML3D Mean.npy/Std.npy directory (mdm only)."),
    text_encoder: Optional[str] = typer.Option(None, "--text-encoder", help="'clip:PATH' or 'none' (mdm only)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda (local executor)."),
    steps: Optional[int] = typer.Option(
        None, "--steps", min=1, help="Search through K DDIM steps of the teacher (default: the distilled student)."),
    iters: int = typer.Option(150, "--iters", min=1, help="Most optimisation iterations per job."),
    seed: int = typer.Option(0, "--seed", help="Base random seed of every job (a manifest may override it)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                          help="Torch threads per worker (default: cores / workers; ray: 1)."),
    allow_path: list[Path] = typer.Option([], "--allow-path", help=ALLOW_PATH_HELP),
) -> None:
    """Generate a motion per job into OUTDIR; finished jobs are skipped, failed ones recorded.

    Exit 0 when every job is done, 1 when some failed (see OUTDIR/errors/<job>.json).
    """
    from motionprog.batching import ModelSpec
    from motionprog.batching.run import batch as run_batch
    from motionprog.optimize import OptimizeConfig

    config = OptimizeConfig(steps=steps, iterations=iters, seed=seed, device=device)
    spec = ModelSpec(model, stats=None if stats is None else str(stats), text_encoder=text_encoder)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("failed {task.fields[failed]}"), TimeElapsedColumn(), console=stderr,
                        transient=True)
    failures: list[Any] = []
    with progress:
        task = progress.add_task(f"batch ({executor})", total=None, failed=0)

        def on_job(outcome: Any, finished: int, total: int) -> None:
            if outcome.status == "failed":
                failures.append(outcome)
            progress.update(task, completed=finished, total=total, failed=len(failures),
                            description=f"{outcome.name} {outcome.status}")

        summary = run_batch(jobs, outdir, executor=executor, address=address, workers=workers,
                            gpus_per_job=gpus_per_job, callback=on_job, model=spec, config=config, threads=threads,
                            allow_paths=allow_path)
    for outcome in failures:
        stderr.print(f"failed: {outcome.name}: {printable(outcome.error or '')}", markup=False)
    stdout.print(summary_table(summary))
    stdout.print(f"outputs in {outdir}", markup=False)
    if summary.failed:
        raise typer.Exit(EXIT_JOBS_FAILED)


def bench_batch(programs: list[Path], model: str, config: Any, out: Path, threads: int | None = None) -> None:
    """`motionprog bench --batch`: throughput of ``programs`` with 1 and 2 local workers (``threads``
    torch threads each); writes ``out/batch.md`` and ``out/batch.json`` and prints the table."""
    from motionprog.batching.jobs import read_programs
    from motionprog.batching.run import throughput_bench, throughput_markdown
    from motionprog.io.atomic import write_text

    jobs = read_programs(programs)
    with stderr.status("batch throughput") as status:
        rows = throughput_bench(jobs, model=model, config=config, threads=threads,
                                callback=lambda workers: status.update(f"batch throughput, {workers} worker(s)"))
    table = throughput_markdown(rows)
    write_text(out / "batch.json", json.dumps(rows, indent=2))
    write_text(out / "batch.md", table)
    stdout.print(table, markup=False)
    stdout.print(f"wrote {out / 'batch.md'} and {out / 'batch.json'}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `motionprog batch` to the app."""
    app.command("batch")(batch)
