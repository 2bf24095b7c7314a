"""The messages sent to the model: rules, the generated language reference, example programs,
the user's task and scene, and the diagnostics of a rejected candidate."""

from __future__ import annotations

from pathlib import Path

from motionprog.lang import check_source, render_text
from motionprog.lang.diagnostics import Diagnostic, has_errors
from motionprog.llm.reference import language_reference

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
"""The repository's example programs (absent from an installed wheel: then none are shown)."""

RULES = """You write programs in motionprog, a small constraint language for human motion \
(.mprog files). A program has a header `motion "text prompt" for N s, seeds K`, an optional \
`scene { ... }` block and constraints `TIME: PREDICATE`, each checked over a time window, plus \
optional `maximize`/`minimize` objectives. Write only motionprog: never Python or any other \
language, no loops, no per-frame code. Use only the joints, aliases, groups, functions, scene \
objects and units of the reference below; give lengths a unit (`10 cm`, `1.2 m`). Put the whole \
program in one ```mprog fenced block (or in the tool input, when you are given the tool), with \
nothing else inside it."""


def example_programs(directory: Path = EXAMPLES_DIR, limit: int = 3) -> list[tuple[str, str]]:
    """Up to ``limit`` (file name, source) pairs of ``directory/*.mprog`` that check without
    errors, in name order, so a broken example never teaches the model."""
    if limit < 1 or not directory.is_dir():
        return []
    chosen = []
    for path in sorted(directory.glob("*.mprog")):
        source = path.read_text(encoding="utf-8")
        if not has_errors(check_source(source, str(path))):
            chosen.append((path.name, source.strip()))
        if len(chosen) == limit:
            break
    return chosen


def system_message(examples: list[tuple[str, str]]) -> str:
    """The rules, the language reference and the example programs."""
    shown = [f"### {name}\n```mprog\n{source}\n```" for name, source in examples]
    parts = [RULES, "# Language reference", language_reference()]
    if shown:
        parts += ["# Example programs", *shown]
    return "\n\n".join(parts)


def task_message(task: str, scene: str | None = None) -> str:
    """The user's request, and the scene block the program must use as given."""
    text = f"Write a motionprog program for this task:\n{task.strip()}"
    if scene:
        text += ("\n\nThe program must contain this scene block exactly as given, and refer to "
                 f"its objects by these names:\n```mprog\n{scene.strip()}\n```")
    return text


def repair_message(diagnostics: list[Diagnostic]) -> str:
    """The checker's diagnostics of the last candidate and a request for the whole fixed program."""
    rendered = "\n\n".join(render_text(d) for d in diagnostics if d.level == "error")
    return ("That is not a valid motionprog program. The checker reports:\n\n"
            f"{rendered}\n\nAnswer with the whole corrected program, in motionprog only.")


def build_messages(task: str, scene: str | None = None,
                   examples: list[tuple[str, str]] | None = None) -> list[dict[str, str]]:
    """The first request: ``[system, user]`` chat messages. ``examples`` defaults to
    :func:`example_programs`."""
    shown = example_programs() if examples is None else examples
    return [{"role": "system", "content": system_message(shown)},
            {"role": "user", "content": task_message(task, scene)}]
