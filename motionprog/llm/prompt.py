"""The messages sent to the model: a fixed system message (rules and the generated language
reference), then the user's task with its scene and a few example programs chosen by
similarity to it, then the diagnostics of each rejected candidate.

The system message is the same for every task so that a server caching the prompt prefix
(llama.cpp does) reads it once; what changes per task comes after it.
"""

from __future__ import annotations

import re
from pathlib import Path

from motionprog.lang import check_source, render_text
from motionprog.lang.diagnostics import Diagnostic, has_errors
from motionprog.llm.reference import language_reference

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
"""The repository's example programs (absent from an installed wheel: then none are shown)."""
EXAMPLES_SHOWN = 2
"""Examples per task: enough to show the shape, few enough for a 4,096-token context."""
ERRORS_SHOWN = 3
"""Diagnostics per repair request: the first few, so the request stays short."""

RULES = """You write programs in motionprog, a small constraint language for human motion \
(.mprog files). Answer with the program only: motionprog, never Python or prose, no loops. \
Use only the joints, groups, functions, scene objects and units listed below; give lengths \
and times a unit (`10 cm`, `1.2 m`, `2 s`). Write one constraint for each requirement of the \
task, naming the body parts, objects and times the task names."""

WORD = re.compile(r"[a-z]{3,}")
COMMON = frozenset("the and with a person for its his her from then that this while stays both "
                   "are is on in at of to".split())


def words(text: str) -> set[str]:
    """The content words of a text (lowercase, three letters or more, common words dropped)."""
    return set(WORD.findall(text.lower())) - COMMON


def checked_examples(directory: Path = EXAMPLES_DIR) -> list[tuple[str, str]]:
    """(file name, source) of every ``directory/*.mprog`` that checks without errors, in name
    order, so a broken example never teaches the model."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.mprog")):
        source = path.read_text(encoding="utf-8")
        if not has_errors(check_source(source, str(path))):
            found.append((path.name, source.strip()))
    return found


def similar_examples(task: str, examples: list[tuple[str, str]], limit: int = EXAMPLES_SHOWN
                     ) -> list[tuple[str, str]]:
    """The ``limit`` examples sharing the most content words with ``task`` (ties by name)."""
    wanted = words(task)

    def score(example: tuple[str, str]) -> tuple[float, str]:
        name, source = example
        theirs = words(name.replace("_", " ") + " " + source)
        return (-len(wanted & theirs) / (1 + len(theirs)) ** 0.5, name)

    return sorted(examples, key=score)[:limit]


def brief(source: str) -> str:
    """An example without its comment lines but the first (the one saying what it does)."""
    lines = source.splitlines()
    kept = [line for number, line in enumerate(lines) if number == 0 or not line.lstrip().startswith("#")]
    return "\n".join(kept).strip()


def system_message() -> str:
    """The rules and the language reference: identical for every task."""
    return f"{RULES}\n\n{language_reference()}"


def task_message(task: str, scene: str | None = None, examples: list[tuple[str, str]] = ()) -> str:
    """Example programs, then the user's request and the scene block the program must use."""
    parts = [f"Example ({name}):\n```mprog\n{brief(source)}\n```" for name, source in examples]
    parts.append(f"Write a motionprog program for this task:\n{task.strip()}")
    if scene:
        parts.append("The program must contain this scene block exactly as given, and refer to its "
                     f"objects by these names:\n```mprog\n{scene.strip()}\n```")
    return "\n\n".join(parts)


def repair_message(diagnostics: list[Diagnostic]) -> str:
    """The first few errors of the last candidate, each with its line and the checker's help,
    and a request for the whole fixed program."""
    errors = [d for d in diagnostics if d.level == "error"]
    rendered = "\n\n".join(render_text(d) for d in errors[:ERRORS_SHOWN])
    more = f"\n\n(and {len(errors) - ERRORS_SHOWN} more)" if len(errors) > ERRORS_SHOWN else ""
    return ("That program is rejected. The checker reports:\n\n"
            f"{rendered}{more}\n\nFollow each help line. Answer with the whole corrected program only.")


def build_messages(task: str, scene: str | None = None,
                   examples: list[tuple[str, str]] | None = None) -> list[dict[str, str]]:
    """The first request: ``[system, user]``. ``examples`` defaults to the checked examples
    most similar to the task."""
    shown = similar_examples(task + " " + (scene or ""), checked_examples()) if examples is None else examples
    return [{"role": "system", "content": system_message()},
            {"role": "user", "content": task_message(task, scene, shown)}]
