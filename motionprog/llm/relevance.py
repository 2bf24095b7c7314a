"""Whether a program that checks is about the task: it must constrain something, and its
constraints must mention what the task names: at least one of the body parts it names (a
constraint through a library function counts), the centre of mass if named, every scene
object the task names (a given scene may hold more, e.g. everything selected in Blender) and
every time.

A small model's favourite valid answer is a hollow one (a header and no constraint, or a
constraint about something else); these diagnostics send it back for repair like any error.
The task is read with plain word matching against the catalogue, never executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from motionprog.body.skeleton import FPS, JOINT_NAMES
from motionprog.lang import catalogue
from motionprog.lang import ir
from motionprog.lang.diagnostics import Diagnostic, error
from motionprog.llm.task_grammar import SCENE_BLOCK

COMMENT = re.compile(r"#[^\n]*")
TIME_LIST = re.compile(r"\b(?:at|from|after|before|until|by|between)\s+((?:\d+(?:\.\d+)?(?:\s*(?:,|and)\s*)?)+)"
                       r"\s*(?:s|secs?|seconds?)\b")
FRAME_LIST = re.compile(r"\bframes?\s+(\d+(?:\s*(?:,|and)\s*\d+)*)(?![\d.])")
"""``frame 0``, ``frames 20, 60 and 100``; not the ``1`` of ``frame 0 and 1.0 m``."""
NUMBER = re.compile(r"\d+(?:\.\d+)?")
COM_WORDS = ("centre of mass", "center of mass")
CODES = ("R001", "R002", "R003", "R004")
"""The codes of the errors below: the program checks, but misses what the task names."""


def body_names() -> dict[str, frozenset[int]]:
    """Each joint, alias and group as a phrase (``left hand``) and the joints it stands for."""
    table = catalogue()
    index = {name: i for i, name in enumerate(JOINT_NAMES)}
    names = {name: frozenset({index[name]}) for name in table["joints"]}
    names |= {alias: frozenset({index[joint]}) for alias, joint in table["aliases"].items()}
    names |= {group: frozenset(index[j] for j in joints) for group, joints in table["groups"].items()
              if group != "body"}
    return {name.replace("_", " "): joints for name, joints in names.items()}


def named_body_parts(task: str) -> dict[str, frozenset[int]]:
    """The body parts a task names (longest phrases first: ``left upper arm`` before ``left arm``)."""
    text, found = task.lower(), {}
    for phrase, joints in sorted(body_names().items(), key=lambda item: -len(item[0])):
        pattern = rf"\b{re.escape(phrase)}\b"
        if re.search(pattern, text):
            found[phrase] = joints
            text = re.sub(pattern, " ", text)
    return found


def named_times(task: str) -> list[float]:
    """The instants a task names, in seconds (``at 2 seconds``, ``frames 20, 60 and 100``)."""
    text = task.lower()
    seconds = [float(n) for match in TIME_LIST.finditer(text) for n in NUMBER.findall(match.group(1))]
    frames = [float(n) / FPS for match in FRAME_LIST.finditer(text) for n in NUMBER.findall(match.group(1))]
    return sorted(set(seconds + frames))


def names_com(task: str) -> bool:
    """Whether the task names the centre of mass."""
    return any(word in task.lower() for word in COM_WORDS)


def com_functions() -> str:
    """The standard-library functions about the centre of mass, as a repair suggests them."""
    found = [f"`{d['signature']}` (import \"{module}\")" for module, defs in catalogue()["library"].items()
             for d in defs if "centre of mass" in d["doc"]]
    return " or ".join(found)


def _uses_com(node: object) -> bool:
    return isinstance(node, ir.Com) or any(_uses_com(child) for child in ir.children(node))


def _numbers(source: str) -> set[float]:
    """Every number written in a program, outside strings and comments."""
    code = re.sub(r'"(\\.|[^"\\\n])*"|#[^\n]*', " ", source)
    return {float(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", code)}


def statements(source: str) -> str:
    """The program text outside its scene block and comments: where a use of an object is.
    (The IR cannot tell: ``goal.xz`` of a point folds to a constant, and ``source`` of a
    compiled constraint is its file and line, not its text.)"""
    return SCENE_BLOCK.sub(" ", COMMENT.sub("", source))


def _names(task: str, name: str) -> bool:
    """Whether ``task`` names the scene object ``name`` (as written, or with spaces for ``_``)."""
    return any(re.search(rf"\b{re.escape(form)}\b", task, re.IGNORECASE) for form in (name, name.replace("_", " ")))


def requirements(task: str, scene_objects: list[str]) -> list[str]:
    """What a valid program must mention, as the model is told before it answers: the body
    parts, ``com``, the scene objects and the times the task names (what the errors below ask)."""
    parts = [f"`{phrase.replace(' ', '_')}`" for phrase in named_body_parts(task)]
    com = ["`com` (the centre of mass)"] if names_com(task) else []
    objects = [f"`{name}`" for name in scene_objects if _names(task, name)]
    times = [f"{t:g} s (frame {round(t * FPS)})" for t in named_times(task)]
    return parts + com + objects + ([f"the time{'s' if len(times) > 1 else ''} {', '.join(times)}"] if times else [])


def relevance_errors(task: str, scene_objects: list[str], source: str, program: ir.Program) -> list[Diagnostic]:
    """Errors for a program that checks but does not do ``task``: no constraint at all, none of
    the body parts the task names, or a scene object (of ``scene_objects``, named in the task,
    ``big_box`` as "big box" too) or a time it names that no constraint uses."""
    constraints = [c for c in program.constraints if c.kind == "constraint"]
    if not constraints:
        return [error("R001", "the program has no constraint", None,
                      help="add a line `TIME: PREDICATE` for each requirement of the task")]
    joints = set().union(*(ir.named_joints(c.body) | (ir.named_joints(c.when) if c.when else set())
                           for c in program.constraints))
    parts = named_body_parts(task)
    problems = []
    if parts and not any(wanted & joints for wanted in parts.values()):
        names = " or ".join(f"`{phrase.replace(' ', '_')}`" for phrase in parts)
        problems.append(error("R002", f"no constraint mentions {names}, which the task names", None,
                              help="constrain the body parts the task names"))
    if names_com(task) and not any(_uses_com(c) for c in program.constraints):
        problems.append(error("R002", "no constraint mentions the centre of mass `com`, which the task names", None,
                              help=f"constrain `com` as the task says: `com.xz`, or {com_functions()}"))
    used = statements(source)
    problems += [error("R003", f"no constraint uses the scene object '{name}'", None,
                       help=f"constrain the body relative to `{name}` as the task says")
                 for name in scene_objects if _names(task, name) and not re.search(rf"\b{re.escape(name)}\b", used)]
    numbers = _numbers(source)
    problems += [error("R004", f"the program never mentions the time {t:g} s (frame {round(t * FPS)}) the task names",
                       None, help=f"constrain it `at {t:g} s` (or `at frame {round(t * FPS)}`) as the task says")
                 for t in named_times(task)
                 if t not in numbers and round(t * FPS) not in numbers and not (t == 0 and "start" in source)]
    return problems


def only_missing(diagnostics: Iterable[Diagnostic]) -> bool:
    """Whether every error is one of :data:`CODES` (so the program needs lines added, not fixed)."""
    errors = [d for d in diagnostics if d.level == "error"]
    return bool(errors) and all(d.code in CODES for d in errors)
