"""From words to a checked program: ask, extract the candidate, check it, send the diagnostics
back, for a bounded number of rounds.

A candidate is only ever parsed and checked (``motionprog.lang.check_source``): nothing the
model writes is executed, and anything that is not a valid program (Python included) is
rejected. Where the server supports custom tools with a Lark grammar, the answer is
constrained to the project's grammar; a server that rejects the tool gets plain chat.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from motionprog.errors import InputError
from motionprog.lang import check_source, compile
from motionprog.lang.diagnostics import Diagnostic, has_errors
from motionprog.llm.client import DEFAULT_MODEL, LLMConfig, Reply, ToolsUnsupported, complete, configure
from motionprog.llm.prompt import build_messages, repair_message
from motionprog.llm.reference import tool_grammar

MAX_ROUNDS = 10
"""Most requests one synthesis may make (the first answer plus repairs)."""
FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)
THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)
PYTHON = re.compile(r"^\s*(import \w+\s*$|from [\w.]+ import |def \w+\(.*\)\s*:|for \w+ in .*:|class \w+|print\()",
                    re.MULTILINE)


@dataclass(frozen=True)
class Attempt:
    """One round: the candidate source, its diagnostics and whether the grammar tool was used."""

    source: str
    diagnostics: tuple[Diagnostic, ...]
    constrained: bool

    @property
    def valid(self) -> bool:
        return not has_errors(self.diagnostics)


@dataclass(frozen=True)
class Synthesis:
    """A valid program's ``source`` and every round that led to it (the last one valid)."""

    source: str
    attempts: tuple[Attempt, ...]


class NoValidProgram(InputError):
    """Every round gave an invalid candidate; ``attempts`` keeps them with their diagnostics."""

    def __init__(self, attempts: tuple[Attempt, ...]):
        self.attempts = attempts
        last = next((d for d in attempts[-1].diagnostics if d.level == "error"), None) if attempts else None
        where = f"{last.span.location()}: " if last and last.span else ""
        detail = f"; last error: {where}{last.message}" if last else ""
        super().__init__(f"the language model gave no valid program in {len(attempts)} rounds{detail}")


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


def synthesize(task: str, config: LLMConfig, *, scene: str | None = None, rounds: int = 3,
               filename: str = "prompt.mprog", examples: list[tuple[str, str]] | None = None,
               constrained: bool = True, on_attempt: Callable[[Attempt], None] | None = None) -> Synthesis:
    """Ask ``config``'s model for a program doing ``task`` and repair it until it checks.

    rounds: most requests (1 to MAX_ROUNDS); each invalid candidate's diagnostics go back to
    the model. constrained: offer the grammar tool first (plain chat if the server rejects it).
    filename: the name diagnostics use and relative mesh paths resolve against.
    on_attempt: called after each round (progress). Raises NoValidProgram after the last round.
    """
    if not 1 <= rounds <= MAX_ROUNDS:
        raise InputError(f"rounds must be between 1 and {MAX_ROUNDS}, got {rounds}")
    messages = build_messages(task, scene, examples)
    grammar = tool_grammar() if constrained else None
    attempts: list[Attempt] = []
    for _ in range(rounds):
        try:
            reply = complete(config, messages, grammar)
        except ToolsUnsupported:
            grammar = None
            reply = complete(config, messages)
        source = extract_candidate(reply)
        attempt = Attempt(source, tuple(check_source(source, filename)), grammar is not None)
        attempts.append(attempt)
        if on_attempt is not None:
            on_attempt(attempt)
        if attempt.valid:
            return Synthesis(source, tuple(attempts))
        feedback = repair_message(list(attempt.diagnostics))
        if looks_like_python(source):
            feedback += " Python is not accepted and is never run."
        messages = [*messages, {"role": "assistant", "content": source},
                    {"role": "user", "content": feedback}]
    raise NoValidProgram(tuple(attempts))


def from_text(text: str, *, scene: str | None = None, model: str = DEFAULT_MODEL, base_url: str | None = None,
              api_key: str | None = None, rounds: int = 3, timeout: float = 60.0, max_retries: int = 2,
              max_tokens: int = 2048, filename: str = "prompt.mprog") -> tuple[str, object]:
    """A program for the task ``text``, written by a language model: ``(source, Program)``.

    base_url / api_key: an OpenAI-compatible endpoint (a key alone means the OpenAI API; a
    local server needs no key). timeout: seconds per request; max_retries: retries on 429, 5xx
    and timeouts; rounds: most requests, repairs included. Raises InputError when nothing is
    configured or the endpoint fails, NoValidProgram when no round gave a valid program.
    """
    config = configure(base_url, api_key, model=model, timeout_s=timeout, max_retries=max_retries,
                       max_tokens=max_tokens)
    synthesis = synthesize(text, config, scene=scene, rounds=rounds, filename=filename)
    return synthesis.source, compile(synthesis.source, filename=filename)
