"""From words to a checked program: ask, extract the candidate, check it, send the diagnostics
back, for a bounded number of rounds.

A candidate is only ever parsed and checked (``motionprog.lang.check_text``): nothing the
model writes is executed, and anything that is not a valid program (Python included) is
rejected. A program that checks but is hollow (no constraint, or none about what the task
names) is rejected too (``relevance.py``). The answer is constrained to the grammar where the
server can (``modes.py``); a missing standard-library import is added and a repeated or reserved
label numbered before checking; a program that checks but misses what the task names gets
lines added, not rewritten; a model that sends the same rejected answer twice is not asked
again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from motionprog.errors import InputError
from motionprog.lang import catalogue, check_text, compile
from motionprog.lang.checker import reserved_words
from motionprog.lang.diagnostics import Diagnostic, has_errors
from motionprog.llm.client import DEFAULT_MODEL, LLMConfig, Reply, configure
from motionprog.llm.modes import Session
from motionprog.llm.prompt import ADDED_LINES, addition_message, build_messages, repair_message
from motionprog.llm.relevance import only_missing, relevance_errors
from motionprog.llm.task_grammar import HEADER, scene_names, task_grammar, with_scene

MAX_ROUNDS = 10
"""Most requests one synthesis may make (the first answer plus repairs)."""
FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)
THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)
LABEL = re.compile(r"^(\s*)([A-Za-z_]\w*)(\s*:)", re.MULTILINE)
SELECTORS = ("always", "eventually")
"""The time selectors that end in a colon at the start of a line, as a label does."""
PYTHON = re.compile(r"^\s*(import \w+\s*$|from [\w.]+ import |def \w+\(.*\)\s*:|for \w+ in .*:|class \w+|print\()",
                    re.MULTILINE)


@dataclass(frozen=True)
class Attempt:
    """One round: the candidate source, its diagnostics and the grammar mode it was asked in."""

    source: str
    diagnostics: tuple[Diagnostic, ...]
    mode: str

    @property
    def valid(self) -> bool:
        return not has_errors(self.diagnostics)


@dataclass(frozen=True)
class Synthesis:
    """A valid program's ``source``, every round that led to it (the last one valid) and the
    number of HTTP requests made (rejected grammar modes included)."""

    source: str
    attempts: tuple[Attempt, ...]
    requests: int


class NoValidProgram(InputError):
    """No round gave a valid program; ``attempts`` keeps them with their diagnostics and
    ``repeated`` says the model sent the same rejected answer twice (so it was not asked again)."""

    def __init__(self, attempts: tuple[Attempt, ...], repeated: bool = False):
        self.attempts = attempts
        self.repeated = repeated
        last = next((d for d in attempts[-1].diagnostics if d.level == "error"), None) if attempts else None
        where = f"{last.span.location()}: " if last and last.span else ""
        detail = f"; last error: {where}{last.message}" if last else ""
        how = ": it repeated a rejected answer after" if repeated else " in"
        super().__init__(f"the language model gave no valid program{how} {len(attempts)} rounds{detail}")


def extract_candidate(reply: Reply) -> str:
    """The program text of an answer: the tool input if the tool was called, else the fenced
    block (an ``mprog`` one first), else the whole text; reasoning in ``<think>`` is dropped."""
    if reply.tool_input is not None:
        return reply.tool_input.strip()
    text = THINKING.sub("", reply.text)
    blocks = FENCE.findall(text)
    if not blocks:
        return text.strip()
    labelled = [body for label, body in blocks if label.lower() in ("mprog", "motionprog")]
    return (labelled or [blocks[0][1]])[0].strip()


def looks_like_python(source: str) -> bool:
    """Whether a rejected candidate reads like Python (imports, defs with a colon, loops)."""
    return bool(PYTHON.search(source))


def add_missing_imports(source: str) -> str:
    """``source`` with an ``import "module"`` line added for each standard-library module whose
    functions it calls without importing it (small models often forget the import line); the
    result is checked like any candidate."""
    modules = {d["signature"].split("(")[0]: module for module, defs in catalogue()["library"].items() for d in defs}
    code = re.sub(r'"(\\.|[^"\\\n])*"|#[^\n]*', " ", source)
    defined = set(re.findall(r"\bdef\s+(\w+)", code))
    imported = set(re.findall(r'^\s*import\s+"(\w+)"', source, re.MULTILINE))
    needed = {modules[name] for name in re.findall(r"\b(\w+)\s*\(", code) if name in modules and name not in defined}
    missing = sorted(needed - imported)
    return "".join(f'import "{module}"\n' for module in missing) + source


def number_labels(source: str) -> str:
    """``source`` with the labels the checker would refuse, though meant, renamed: a label used
    again becomes ``label_2``, ``label_3``...; a reserved word as a label (``above:``, which the
    answer grammar's GBNF, without look-aheads, cannot exclude) becomes ``above_1``."""
    seen: dict[str, int] = {}

    def rename(match: re.Match[str]) -> str:
        label = match.group(2)
        if label in SELECTORS:
            return match.group(0)
        seen[label] = seen.get(label, 0) + 1
        keep = seen[label] == 1 and label not in reserved_words()
        return match.group(1) + (label if keep else f"{label}_{seen[label]}") + match.group(3)

    return LABEL.sub(rename, source)


def judge(task: str, scene: str | None, source: str, filename: str,
          allow_paths: Iterable[str | os.PathLike] = ()) -> tuple[Diagnostic, ...]:
    """Every diagnostic of a candidate: the checker's, then, if it checks, the relevance errors."""
    program, diagnostics = check_text(source, filename, allow_paths=allow_paths)
    if program is None or has_errors(diagnostics):
        return tuple(diagnostics)
    return (*relevance_errors(task, scene_names(scene), source, program), *diagnostics)


def synthesize(task: str, config: LLMConfig, *, scene: str | None = None, rounds: int = 3,
               filename: str = "prompt.mprog", examples: list[tuple[str, str]] | None = None,
               grammar: str = "auto", allow_paths: Iterable[str | os.PathLike] = (),
               session: Session | None = None, on_attempt: Callable[[Attempt], None] | None = None) -> Synthesis:
    """Ask ``config``'s model for a program doing ``task`` and repair it until it checks.

    rounds: most candidates (1 to MAX_ROUNDS); each invalid one goes back to the model with its
    diagnostics (the last one only), and an answer identical to an earlier rejected one ends
    the rounds early. A candidate that checks but misses what the task names (relevance.py)
    is kept: the model is asked for the constraint lines to add to it, under a grammar of
    constraint lines only.
    grammar: ``auto``, ``tool``, ``gbnf``, ``lark`` or ``none`` (``modes.py``); session: reuse
    one across tasks (it remembers the mode the server accepted), else a new one is made.
    filename / allow_paths: the name diagnostics use, where imports and meshes may be read.
    on_attempt: called after each round (progress). Raises NoValidProgram when no round is valid.
    """
    if not 1 <= rounds <= MAX_ROUNDS:
        raise InputError(f"rounds must be between 1 and {MAX_ROUNDS}, got {rounds}")
    session = session or Session(config, grammar)
    before = session.requests
    first = build_messages(task, scene, examples)
    objects = scene_names(scene) if scene else None
    whole, lines = task_grammar(task, objects), task_grammar(task, objects, added_lines=ADDED_LINES)
    messages, answer_grammar, base = first, whole, None
    attempts: list[Attempt] = []
    for _ in range(rounds):
        answer = extended(base, extract_candidate(session.ask(messages, answer_grammar)))
        source = with_scene(number_labels(add_missing_imports(answer)), scene)
        repeated = any(source == earlier.source for earlier in attempts)
        attempt = Attempt(source, judge(task, scene, source, filename, allow_paths), session.mode)
        attempts.append(attempt)
        if on_attempt is not None:
            on_attempt(attempt)
        if attempt.valid:
            return Synthesis(source, tuple(attempts), session.requests - before)
        if repeated:
            raise NoValidProgram(tuple(attempts), repeated=True)
        diagnostics = list(attempt.diagnostics)
        if only_missing(diagnostics):   # it checks: ask for the lines it lacks, keep the rest
            feedback, answer_grammar, base = addition_message(diagnostics), lines, answer
        else:
            feedback, answer_grammar, base = repair_message(diagnostics), whole, None
        if looks_like_python(source):
            feedback += " Python is not accepted and is never run."
        # only the last candidate and its diagnostics: the request stays within a small context
        messages = [*first, {"role": "assistant", "content": answer}, {"role": "user", "content": feedback}]
    raise NoValidProgram(tuple(attempts))


def extended(base: str | None, answer: str) -> str:
    """The candidate of an answer: ``answer`` itself, or when lines were asked for, ``base``
    with them added (unless the model sent a whole program anyway: it has a header)."""
    if base is None or HEADER.search(answer):
        return answer
    return base.rstrip() + "\n" + answer.strip()


def from_text(text: str, *, scene: str | None = None, model: str = DEFAULT_MODEL, base_url: str | None = None,
              api_key: str | None = None, rounds: int = 3, timeout: float = 60.0, max_retries: int = 2,
              max_tokens: int = 512, filename: str = "prompt.mprog", grammar: str = "auto",
              first_timeout: float = 900.0, allow_paths: Iterable[str | os.PathLike] = ()) -> tuple[str, object]:
    """A program for the task ``text``, written by a language model: ``(source, Program)``.

    base_url / api_key: an OpenAI-compatible endpoint (a key alone means the OpenAI API; a
    local server needs no key). timeout: seconds per request (first_timeout for the first,
    which may wait for a CPU server to load); max_retries: retries on 429, 5xx and timeouts;
    rounds: most candidates, repairs included; grammar: how the answer is constrained
    (``auto``, ``tool``, ``gbnf``, ``lark``, ``none``). Raises InputError when nothing is
    configured or the endpoint fails, NoValidProgram when no round gave a valid program.
    """
    config = configure(base_url, api_key, model=model, timeout_s=timeout, max_retries=max_retries,
                       max_tokens=max_tokens, first_timeout_s=first_timeout)
    synthesis = synthesize(text, config, scene=scene, rounds=rounds, filename=filename, grammar=grammar,
                           allow_paths=allow_paths)
    return synthesis.source, compile(synthesis.source, filename=filename, allow_paths=allow_paths)
