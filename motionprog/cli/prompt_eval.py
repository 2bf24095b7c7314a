"""`motionprog prompt-eval`: the evaluation set against an endpoint, a benchmark run by hand.

Per task: a valid program or not, satisfied by the engine or not, the requests and the
seconds it took; overall: the grammar mode that ran, the prompt's size in tokens (as the
server counted it) and the median seconds per task after the first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from motionprog.cli.prompt import (ApiKeyEnv, BaseUrl, FirstTimeout, Grammar, MaxTokens, Model, Retries, Temperature,
                                   Timeout, check_grammar, endpoint, report_wait, stderr, stdout)
from motionprog.cli.terminal import one_line
from motionprog.io.atomic import write_text
from motionprog.io.outputs import check_outputs
from motionprog.llm.client import DEFAULT_MODEL
from motionprog.llm.repair import MAX_ROUNDS


def report_task(done: int, total: int, row: dict[str, Any]) -> None:
    """One line on stderr per finished task."""
    verdict = "valid" if row["valid"] else "invalid"
    if row["satisfied"] is not None:
        verdict += ", satisfied" if row["satisfied"] else ", not satisfied"
    stderr.print(one_line(f"[{done}/{total}] {row['id']}: {verdict} ({row['requests']} requests, "
                          f"{row['seconds']:.1f} s, mode {row['mode'] or '-'})"), markup=False)


def save_task(out: Path, done: int, total: int, row: dict[str, Any], so_far: dict[str, Any]) -> None:
    """Report a finished task and rewrite the results with it, so an interrupted run keeps them."""
    report_task(done, total, row)
    write_text(out, json.dumps(so_far, indent=2))


def summary_table(summary: dict[str, Any]) -> Table:
    """The results as a table: one row per task, the totals in the title."""
    tasks = summary["tasks"]
    title = f"{summary['valid']}/{tasks} valid programs"
    if summary["satisfied"] is not None:
        title += f", {summary['satisfied']}/{tasks} satisfied"
    table = Table(title=title)
    for column in ("task", "valid", "satisfied", "requests", "seconds"):
        table.add_column(column)
    for row in summary["results"]:
        table.add_row(row["id"], "yes" if row["valid"] else "no",
                      "-" if row["satisfied"] is None else ("yes" if row["satisfied"] else "no"),
                      str(row["requests"]), f"{row['seconds']:.1f}")
    return table


def prompt_eval(
    out: Path = typer.Option(..., "-o", "--out", help="Results (.json)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N tasks."),
    tasks_file: Optional[Path] = typer.Option(None, "--tasks", help="A JSON-lines task file (default: the shipped set)."),
    solve: bool = typer.Option(True, "--solve/--no-solve", help="Run the engine on each valid program."),
    motion_model: str = typer.Option("bundled", "--motion-model", help="Motion model for --solve."),
    rounds: int = typer.Option(3, "--rounds", min=1, max=MAX_ROUNDS, help="Most candidates per task."),
    model: Model = DEFAULT_MODEL, base_url: BaseUrl = None, api_key_env: ApiKeyEnv = "OPENAI_API_KEY",
    timeout: Timeout = 60.0, first_timeout: FirstTimeout = 900.0, retries: Retries = 2, max_tokens: MaxTokens = 512,
    grammar: Grammar = "auto", temperature: Temperature = None,
) -> None:
    """Run the evaluation set against the endpoint: valid programs, then satisfied ones.

    OUT is rewritten after every task, so an interrupted run keeps what it measured.
    """
    from motionprog.llm.evaluate import evaluate, load_tasks, optimizer_solver

    check_outputs([tasks_file], {"--out": (out, (".json",))})
    config = endpoint(base_url, api_key_env, model, timeout, retries, max_tokens, first_timeout, temperature)
    tasks = load_tasks(tasks_file, limit)
    solver = optimizer_solver(motion_model) if solve else None
    summary = evaluate(tasks, config, rounds=rounds, grammar=check_grammar(grammar), solve=solver,
                       progress=lambda done, row, so_far: save_task(out, done, len(tasks), row, so_far),
                       on_wait=report_wait)
    write_text(out, json.dumps(summary, indent=2))
    stdout.print(summary_table(summary))
    median = summary["median_seconds_after_first"]
    stdout.print(f"grammar mode: {', '.join(summary['modes']) or '-'}; prompt tokens: {summary['prompt_tokens'] or '?'}; "
                 f"requests: {summary['requests']}; median seconds per task after the first: "
                 + ("-" if median is None else f"{median:.1f}"), markup=False)
    stdout.print(f"wrote {out}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `motionprog prompt-eval` to the app."""
    app.command("prompt-eval")(prompt_eval)
