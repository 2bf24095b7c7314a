"""The messages sent to the model: a fixed system message (rules and the generated language
reference), then a few example programs chosen by similarity to the task, each as an earlier
exchange (its description asked, its program answered, as a model should answer), then the
task with its scene, then the diagnostics of each rejected candidate.

The system message is the same for every task so that a server caching the prompt prefix
(llama.cpp does) reads it once; what changes per task comes after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from motionprog.lang import check_source, render_text
from motionprog.lang.diagnostics import Diagnostic, has_errors
from motionprog.llm.reference import language_reference
from motionprog.llm.relevance import requirements
from motionprog.llm.task_grammar import HEADER, fits, scene_names, split_scene
from motionprog.llm.task_words import stem, words

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
"""The repository's example programs (absent from an installed wheel: then none are shown)."""
EXAMPLES_SHOWN = 2
"""Examples per task: enough to show the shape, few enough for a 4,096-token context."""
ERRORS_SHOWN = 3
"""Diagnostics per repair request: the first few, so the request stays short."""
ADDED_LINES = 3
"""Most constraint lines a model adds to a program that misses what the task names."""

RULES = """You write programs in motionprog, a small constraint language for human motion \
(.mprog files). Answer with the program only: motionprog, never Python or prose, no loops. \
Use only the joints, groups, functions, scene objects and units listed below; give lengths \
and times a unit (`10 cm`, `1.2 m`, `2 s`). Write one constraint for each requirement of the \
task, naming the body parts, objects and times the task names."""


def description(source: str) -> str:
    """What an example does: its leading comment lines, joined."""
    lines = []
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def answer(source: str) -> str:
    """An example as a model should answer it: no comments, no blank lines, no scene."""
    code = split_scene(source)[0]
    return "\n".join(line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#"))


@cache
def checked_examples(directory: Path = EXAMPLES_DIR) -> tuple[tuple[str, str], ...]:
    """(file name, source) of every ``directory/*.mprog`` that checks without errors and that a
    model could answer under its task's grammar (no ``let``, ``def``, meshes...), in name order,
    so an example never teaches what a model cannot write."""
    if not directory.is_dir():
        return ()
    sources = {path: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.mprog"))}
    checked = {path: source for path, source in sources.items() if not has_errors(check_source(source, str(path)))}
    # one answer grammar for all: a checked example only names the objects of its own scene
    objects = sorted({name for source in checked.values() for name in scene_names(split_scene(source)[1])})
    return tuple((path.name, source.strip()) for path, source in checked.items() if fits(answer(source), objects))


def topic(text: str, objects: Iterable[str]) -> set[str]:
    """What a task or an example is about, to match one with the other: the stems of its
    content words and of its scene objects' names (never the scene's syntax: ``box``,
    ``center`` and ``size`` made every task with a box scene look alike)."""
    return {stem(word) for word in words(text) | {name.lower() for name in objects}}


def similar_examples(task: str, examples: Iterable[tuple[str, str]], scene: str | None = None,
                     limit: int = EXAMPLES_SHOWN) -> list[tuple[str, str]]:
    """The ``limit`` examples whose description, motion text, name and objects share the most
    with ``task`` and its ``scene`` (ties by name)."""
    wanted = topic(task, scene_names(scene))

    def score(example: tuple[str, str]) -> tuple[float, str]:
        name, source = example
        said = " ".join([name.removesuffix(".mprog").replace("_", " "), description(source), *HEADER.findall(source)])
        theirs = topic(said, scene_names(split_scene(source)[1]))
        return (-len(wanted & theirs) / (1 + len(theirs)) ** 0.5, name)

    return sorted(examples, key=score)[:limit]


def system_message() -> str:
    """The rules and the language reference: identical for every task."""
    return f"{RULES}\n\n{language_reference()}"


def task_message(task: str, scene: str | None = None, hints: bool = True) -> str:
    """The request: the task, with ``hints`` what its constraints should mention (the body
    parts, objects and times it names: a small model otherwise constrains the pelvis for a task
    about the head; an example's description gets none, its program may not follow them) and,
    if it has one, the scene the program is given."""
    text = f"Write a motionprog program for this task:\n{task.strip()}"
    objects = scene_names(scene)
    wanted = requirements(task, objects) if hints else []
    if wanted:
        text += f"\n\nIts constraints should mention {', '.join(wanted)}."
    if scene:
        text += ("\n\nThis scene is added to your program as given (do not write it); refer to its "
                 f"objects by their names ({', '.join(objects)}):\n```mprog\n{scene.strip()}\n```")
    return text


def example_turns(examples: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Each example as an earlier exchange: its description (and scene) asked, its program answered."""
    turns = []
    for _, source in examples:
        turns.append({"role": "user", "content": task_message(description(source), split_scene(source)[1], hints=False)})
        turns.append({"role": "assistant", "content": answer(source)})
    return turns


def _reported(diagnostics: list[Diagnostic]) -> str:
    """The first few errors, each with its line and the checker's help."""
    errors = [d for d in diagnostics if d.level == "error"]
    rendered = "\n\n".join(render_text(d) for d in errors[:ERRORS_SHOWN])
    return rendered + (f"\n\n(and {len(errors) - ERRORS_SHOWN} more)" if len(errors) > ERRORS_SHOWN else "")


def repair_message(diagnostics: list[Diagnostic]) -> str:
    """The first few errors of the last candidate and a request for the whole fixed program."""
    return (f"That program is rejected. The checker reports:\n\n{_reported(diagnostics)}\n\n"
            "Follow each help line. Answer with the whole corrected program only.")


def addition_message(diagnostics: list[Diagnostic]) -> str:
    """For a program that checks but misses what the task names: the errors and a request for
    the lines to add only (asked for the whole program again, the small model sent the same
    one back)."""
    return (f"That program checks, but it does not do all the task says:\n\n{_reported(diagnostics)}\n\n"
            f"Answer with only the constraint lines to add to it (1 to {ADDED_LINES}, one per line), nothing else.")


def build_messages(task: str, scene: str | None = None,
                   examples: Iterable[tuple[str, str]] | None = None) -> list[dict[str, str]]:
    """The first request: the system message, the examples as earlier exchanges, the task.
    ``examples`` defaults to the checked examples most similar to the task."""
    shown = similar_examples(task, checked_examples(), scene) if examples is None else examples
    return [{"role": "system", "content": system_message()}, *example_turns(shown),
            {"role": "user", "content": task_message(task, scene)}]
