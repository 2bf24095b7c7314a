"""`motionprog prompt` (words -> a checked program, optionally run) and `motionprog prompt-eval`.

The only place that reads the endpoint from the environment: ``--base-url`` or
``OPENAI_BASE_URL``, and the key from the variable named by ``--api-key-env`` (default
``OPENAI_API_KEY``). The key is passed to the client and never printed or written.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from motionprog.errors import InputError
from motionprog.io.atomic import write_text
from motionprog.io.limits import check_file_size
from motionprog.io.outputs import check_outputs
from motionprog.cli.lang import explain
from motionprog.cli.terminal import one_line, printable
from motionprog.lang import render_text
from motionprog.llm.client import DEFAULT_MODEL, LLMConfig, configure
from motionprog.llm.repair import MAX_ROUNDS, Attempt, NoValidProgram, synthesize

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False, soft_wrap=True)

EXIT_BAD_INPUT = 2


def endpoint(base_url: str | None, api_key_env: str, model: str, timeout: float, retries: int,
             max_tokens: int) -> LLMConfig:
    """The configured endpoint: flags first, then ``OPENAI_BASE_URL`` and ``$api_key_env``."""
    return configure(base_url or os.environ.get("OPENAI_BASE_URL"), os.environ.get(api_key_env) or None,
                     model=model, timeout_s=timeout, max_retries=retries, max_tokens=max_tokens)


def run_defaults() -> dict[str, Any]:
    """The default of every option of `motionprog run`, so --run calls it exactly as the CLI would."""
    from motionprog.cli.run import run

    return {name: param.default.default for name, param in inspect.signature(run).parameters.items()
            if isinstance(param.default, typer.models.ParameterInfo)}


def report_attempt(attempt: Attempt) -> None:
    """One line per round on stderr: valid, or how many errors the checker found."""
    errors = sum(d.level == "error" for d in attempt.diagnostics)
    how = "grammar tool" if attempt.constrained else "plain chat"
    stderr.print(f"round ({how}): " + ("valid program" if attempt.valid else f"{errors} error(s), asking for a repair"),
                 markup=False)


MAX_SCENE_BYTES = 1 << 20
"""Largest --scene file (1 MiB): its text is sent to the endpoint."""


def read_scene(path: Path) -> str:
    """The text of a --scene file; InputError when missing, too large or not UTF-8."""
    if not path.is_file():
        raise InputError(f"scene file not found: {path}")
    check_file_size(path, MAX_SCENE_BYTES)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


ENDPOINT_HELP = {
    "model": "Model name at the endpoint.",
    "base_url": "OpenAI-compatible base URL (default: $OPENAI_BASE_URL, else the OpenAI API when a key is set).",
    "api_key_env": "Environment variable holding the API key (a local server needs none).",
    "timeout": "Total seconds one HTTP request may take (connect and every read).",
    "retries": "Retries of a request on 429, 5xx and timeouts (backoff 0.5 s doubling, at most 8 s).",
}


def prompt(
    text: str = typer.Argument(..., help="The task in words."),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the program (.mprog)."),
    scene: Optional[Path] = typer.Option(None, "--scene", help="A file with a `scene { ... }` block the program must use."),
    run_program: bool = typer.Option(False, "--run", help="Then run it like `motionprog run` (motion beside OUT, .npz)."),
    motion_model: Optional[str] = typer.Option(None, "--motion-model", help="With --run: the motion model (as run's --model)."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", help=ENDPOINT_HELP["model"]),
    base_url: Optional[str] = typer.Option(None, "--base-url", help=ENDPOINT_HELP["base_url"]),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help=ENDPOINT_HELP["api_key_env"]),
    rounds: int = typer.Option(3, "--rounds", min=1, max=MAX_ROUNDS, help="Most requests, repairs included."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, help=ENDPOINT_HELP["timeout"]),
    retries: int = typer.Option(2, "--retries", min=0, max=8, help=ENDPOINT_HELP["retries"]),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=64, help="Most tokens of one answer."),
) -> None:
    """Write a program for TEXT with a language model, check it, save it to OUT and explain it."""
    check_outputs([scene], {"--out": (out, (".mprog",)), "--run": (out.with_suffix(".npz") if run_program else None, ())})
    config = endpoint(base_url, api_key_env, model, timeout, retries, max_tokens)
    scene_text = None if scene is None else read_scene(scene)
    try:
        synthesis = synthesize(text, config, scene=scene_text, rounds=rounds, filename=str(out),
                               on_attempt=report_attempt)
    except NoValidProgram as exc:
        for diagnostic in exc.attempts[-1].diagnostics:
            stderr.print(printable(render_text(diagnostic)), markup=False)
        stderr.print(f"error: {one_line(str(exc))}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    write_text(out, synthesis.source.rstrip() + "\n")
    stdout.print(printable(synthesis.source.rstrip()) + "\n", markup=False)
    explain(out)
    stdout.print(f"wrote {out}", markup=False)
    if run_program:
        from motionprog.cli.run import run

        run(**(run_defaults() | {"program_file": out, "out": out.with_suffix(".npz"), "model": motion_model}))


def prompt_eval(
    out: Path = typer.Option(..., "-o", "--out", help="Results (.json)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N tasks."),
    tasks_file: Optional[Path] = typer.Option(None, "--tasks", help="A JSON-lines task file (default: the shipped set)."),
    solve: bool = typer.Option(True, "--solve/--no-solve", help="Run the optimizer on each valid program."),
    motion_model: str = typer.Option("bundled", "--motion-model", help="Motion model for --solve."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", help=ENDPOINT_HELP["model"]),
    base_url: Optional[str] = typer.Option(None, "--base-url", help=ENDPOINT_HELP["base_url"]),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help=ENDPOINT_HELP["api_key_env"]),
    rounds: int = typer.Option(3, "--rounds", min=1, max=MAX_ROUNDS, help="Most requests per task."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, help=ENDPOINT_HELP["timeout"]),
    retries: int = typer.Option(2, "--retries", min=0, max=8, help=ENDPOINT_HELP["retries"]),
) -> None:
    """Run the evaluation set against the endpoint: valid programs, then satisfied ones."""
    from motionprog.llm.evaluate import evaluate, load_tasks, optimizer_solver

    check_outputs([tasks_file], {"--out": (out, (".json",))})
    config = endpoint(base_url, api_key_env, model, timeout, retries, 2048)
    tasks = load_tasks(tasks_file, limit)
    solver = optimizer_solver(motion_model) if solve else None
    progress = Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[last]}"), TimeElapsedColumn(), console=stderr, transient=True)
    with progress:
        bar = progress.add_task("evaluating", total=len(tasks), last="")
        summary = evaluate(tasks, config, rounds=rounds, solve=solver,
                           progress=lambda done, row: progress.update(bar, completed=done, last=row["id"]))
    write_text(out, json.dumps(summary, indent=2))
    table = Table(title=f"{summary['valid']}/{summary['tasks']} valid programs"
                        + (f", {summary['satisfied']} satisfied" if solve else ""))
    for column in ("task", "valid", "rounds", "satisfied"):
        table.add_column(column)
    for row in summary["results"]:
        table.add_row(row["id"], "yes" if row["valid"] else "no", str(row["rounds"]),
                      "-" if row["satisfied"] is None else ("yes" if row["satisfied"] else "no"))
    stdout.print(table)
    stdout.print(f"wrote {out}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `motionprog prompt` and `motionprog prompt-eval` to the app."""
    app.command("prompt")(prompt)
    app.command("prompt-eval")(prompt_eval)
