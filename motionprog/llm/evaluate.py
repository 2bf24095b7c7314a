"""The evaluation set: task descriptions run against a configured endpoint.

For each task: did the model produce a valid program (within the repair rounds), and did the
optimizer (``motionprog.optimize.generate``) then satisfy it? It needs a live endpoint and
minutes of optimisation, so it runs by hand (``motionprog prompt-eval``), never in CI.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from motionprog.errors import InputError
from motionprog.lang import compile
from motionprog.llm.client import LLMConfig
from motionprog.llm.modes import Session
from motionprog.llm.repair import NoValidProgram, synthesize

EVALSET = "evalset.jsonl"


@dataclass(frozen=True)
class Task:
    """One description to turn into a program; ``scene`` is a scene block the program must use."""

    id: str
    text: str
    scene: str | None = None


def load_tasks(path: Path | None = None, limit: int | None = None) -> list[Task]:
    """The tasks of a JSON-lines file (default: the shipped ``evalset.jsonl``), the first ``limit``."""
    source = path.read_text(encoding="utf-8") if path else (
        resources.files("motionprog.llm").joinpath(EVALSET).read_text(encoding="utf-8"))
    name = str(path or EVALSET)
    tasks = []
    for number, line in enumerate(source.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            tasks.append(Task(id=str(row["id"]), text=str(row["text"]), scene=row.get("scene")))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{name}:{number}: not a task line with 'id' and 'text' ({exc})") from None
    return tasks[:limit]


def evaluate_task(task: Task, session: Session, rounds: int, solve: Callable[[Any], dict[str, Any]] | None
                  ) -> dict[str, Any]:
    """One task's row: id, valid, rounds, requests, mode, seconds (asking the model), source,
    errors, and (with ``solve``) satisfied, violated and solve_seconds (running the engine)."""
    row: dict[str, Any] = {"id": task.id, "valid": False, "rounds": 0, "requests": 0, "mode": None,
                           "source": None, "errors": [], "satisfied": None}
    start, before = time.perf_counter(), session.requests
    try:
        synthesis = synthesize(task.text, session.config, scene=task.scene, rounds=rounds,
                               filename=f"{task.id}.mprog", session=session)
    except NoValidProgram as exc:
        last = exc.attempts[-1]
        row.update(rounds=len(exc.attempts), source=last.source, mode=last.mode, repeated=exc.repeated,
                   errors=[d.message for d in last.diagnostics if d.level == "error"])
        return row | {"requests": session.requests - before, "seconds": time.perf_counter() - start}
    except InputError as exc:
        return row | {"errors": [str(exc)], "requests": session.requests - before,
                      "seconds": time.perf_counter() - start}
    row.update(valid=True, rounds=len(synthesis.attempts), requests=synthesis.requests,
               mode=synthesis.attempts[-1].mode, source=synthesis.source, seconds=time.perf_counter() - start)
    if solve is not None:
        started = time.perf_counter()
        report = solve(compile(synthesis.source, filename=f"{task.id}.mprog"))
        row.update(satisfied=bool(report["satisfied"]), violated=list(report.get("violated", [])),
                   solve_seconds=time.perf_counter() - started)
    return row


def optimizer_solver(model: str = "bundled", device: str = "auto") -> Callable[[Any], dict[str, Any]]:
    """A ``solve`` for :func:`evaluate`: runs ``motionprog.optimize.generate`` with the default
    configuration on a model loaded once, and returns the report."""
    from motionprog.models.registry import load_model
    from motionprog.optimize import generate

    loaded = load_model(model, device=device)
    return lambda program: generate(program, model=loaded).report


def evaluate(tasks: list[Task], config: LLMConfig, *, rounds: int = 3, grammar: str = "auto",
             solve: Callable[[Any], dict[str, Any]] | None = None,
             progress: Callable[[int, dict[str, Any], dict[str, Any]], None] | None = None,
             on_wait: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Run every task in one session (the grammar mode is found once); the summary counts valid
    programs and (with ``solve``) satisfied ones, with the median seconds per task after the
    first (whose first request may wait for the server to load) and the prompt size.

    progress: called with (tasks done, the row just finished, the summary so far), so a long run
    can be saved as it goes. The endpoint's key is never part of the result.
    """
    session = Session(config, grammar, on_wait=on_wait)
    rows: list[dict[str, Any]] = []
    for done, task in enumerate(tasks, start=1):
        rows.append(evaluate_task(task, session, rounds, solve))
        if progress is not None:
            progress(done, rows[-1], summarize(rows, session, rounds, grammar, solve is not None))
    return summarize(rows, session, rounds, grammar, solve is not None)


def summarize(rows: list[dict[str, Any]], session: Session, rounds: int, grammar: str, solved: bool
              ) -> dict[str, Any]:
    """The evaluation's summary over the task rows so far."""
    later = [row["seconds"] for row in rows[1:]] or [row["seconds"] for row in rows]
    return {
        "model": session.config.model, "base_url": session.config.base_url, "rounds": rounds, "grammar": grammar,
        "modes": sorted({row["mode"] for row in rows if row["mode"]}), "rejected": session.rejections,
        "prompt_tokens": session.prompt_tokens, "tasks": len(rows),
        "valid": sum(row["valid"] for row in rows),
        "satisfied": sum(bool(row["satisfied"]) for row in rows) if solved else None,
        "requests": sum(row["requests"] for row in rows),
        "median_seconds_after_first": statistics.median(later) if later else None,
        "results": rows,
    }
