"""The natural-language front end: a task in words -> a checked motionprog program.

``from_text(text, ...) -> (source, Program)``; ``synthesize`` gives every round; a ``Session``
keeps the grammar mode a server accepted across tasks. The CLI commands are ``motionprog
prompt`` and ``motionprog prompt-eval``. See docs/llm.md.
"""

from motionprog.llm.client import DEFAULT_MODEL, LLMConfig, configure
from motionprog.llm.modes import MODES, Session
from motionprog.llm.repair import NoValidProgram, Synthesis, from_text, synthesize

__all__ = ["DEFAULT_MODEL", "MODES", "LLMConfig", "NoValidProgram", "Session", "Synthesis", "configure", "from_text",
           "synthesize"]
