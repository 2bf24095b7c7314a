"""How a server is asked to keep its answer inside the language: the grammar modes, the
request fields of each, which one a server speaks, and the fallback when it refuses one.

- ``tool``: OpenAI's custom tool with a Lark grammar (``tool_grammar()``);
- ``gbnf``: llama.cpp's ``grammar`` field (and SGLang's ``ebnf``) with ``gbnf_grammar()``;
- ``lark``: vLLM's structured outputs, ``structured_outputs.grammar`` (and the older
  ``guided_grammar``) with the Lark grammar;
- ``none``: plain chat; the checker and the repair rounds do all the work.

The grammar in each is the task's answer grammar (``task_grammar.py``), a part of the language.

``auto`` asks the server's ``/models`` who it is (``owned_by``) and starts with its mode; any
4xx/5xx rejection of a mode (llama.cpp answers 500 to custom tools) moves to the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from motionprog.errors import InputError
from motionprog.llm.client import (TOOL_NAME, FeatureRejected, LLMConfig, Reply, complete, program_tool,
                                   server_owner, where)
from motionprog.llm.gbnf import gbnf_grammar
from motionprog.llm.reference import tool_grammar

MODES = ("tool", "gbnf", "lark", "none")
"""Every mode, in the order ``auto`` tries them on a server that does not say who it is."""
OWNER_MODES = {"llamacpp": ("gbnf", "none"), "me": ("gbnf", "none"), "sglang": ("gbnf", "none"),
               "vllm": ("lark", "gbnf", "none")}
"""The modes to try on a server whose ``/models`` says ``owned_by`` this (llama-cpp-python
says ``me``); other servers get :data:`MODES` in order."""


def mode_fields(mode: str, grammar: str) -> dict[str, Any]:
    """The request fields that constrain an answer to the Lark grammar ``grammar`` (a task's
    answer grammar, ``task_grammar.py``) in ``mode``."""
    if mode == "tool":
        return {"tools": [program_tool(tool_grammar(grammar))],
                "tool_choice": {"type": "custom", "custom": {"name": TOOL_NAME}}}
    if mode == "gbnf":
        text = gbnf_grammar(grammar)
        return {"grammar": text, "ebnf": text}
    if mode == "lark":
        text = tool_grammar(grammar)
        return {"structured_outputs": {"grammar": text}, "guided_grammar": text}
    return {}


def mode_order(grammar: str, config: LLMConfig) -> list[str]:
    """The modes to try for ``--grammar grammar``: one mode alone, or for ``auto`` the
    server's own modes first."""
    if grammar != "auto":
        if grammar not in MODES:
            raise InputError(f"unknown grammar mode {grammar!r}: use auto, {', '.join(MODES)}")
        return [grammar]
    return list(OWNER_MODES.get(server_owner(config) or "", MODES))


@dataclass
class Session:
    """Requests to one server for one or more tasks: the mode in use, what the server rejected,
    how many requests were made and the prompt size the server reported first.

    grammar: ``auto`` or one of :data:`MODES` (then a rejection is an error, not a fallback).
    on_wait: called with the seconds waited, every few seconds, while an answer is awaited.
    """

    config: LLMConfig
    grammar: str = "auto"
    on_wait: Callable[[float], None] | None = None
    requests: int = 0
    prompt_tokens: int | None = None
    rejections: list[str] = field(default_factory=list)
    _order: list[str] | None = None
    _answered: bool = False

    @property
    def mode(self) -> str:
        """The mode the next request uses."""
        if self._order is None:
            self._order = mode_order(self.grammar, self.config)
        return self._order[0]

    def ask(self, messages: list[dict[str, str]], grammar: str) -> Reply:
        """One answer held to the Lark grammar ``grammar``, in the first mode the server accepts."""
        while True:
            mode = self.mode
            self.requests += 1
            try:
                reply = complete(self.config, messages, mode_fields(mode, grammar), first=not self._answered,
                                 on_wait=self.on_wait)
            except FeatureRejected as rejected:
                self.rejections.append(f"{mode}: {rejected}")
                if len(self._order) == 1:
                    raise InputError(f"{where(self.config)} rejected grammar mode {mode!r}: {rejected} "
                                     "(try --grammar auto)") from None
                self._order.pop(0)
                continue
            self._answered = True
            if self.prompt_tokens is None:
                self.prompt_tokens = reply.prompt_tokens
            return reply

