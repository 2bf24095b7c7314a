"""motionprog: programmable human-motion generation.

``motionprog.compile(source_or_path)`` returns a ``Program`` (see motionprog/lang/program.py).
Imports are lazy so ``import motionprog`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from motionprog.lang.program import Program


def compile(source_or_path: str | os.PathLike, *, filename: str | None = None,
            frames: int | None = None, allow_paths: Iterable[str | os.PathLike] = (),
            editing: bool = False) -> Program:
    """Compile a constraint program (text or ``.mprog`` path); see ``motionprog.lang.program.compile``."""
    from motionprog.lang.program import compile as compile_program

    return compile_program(source_or_path, filename=filename, frames=frames, allow_paths=allow_paths,
                           editing=editing)


def from_text(text: str, **options) -> tuple[str, Program]:
    """A program for a task in words, written by a language model and checked: ``(source, Program)``.

    Options (scene, model, base_url, api_key, rounds, timeout, ...): ``motionprog.llm.repair.from_text``.
    """
    from motionprog.llm.repair import from_text as program_from_text

    return program_from_text(text, **options)


def __getattr__(name: str):
    if name == "Program":
        from motionprog.lang.program import Program

        return Program
    if name == "batch":
        from motionprog.batching import batch

        return batch
    if name == "edit":
        from motionprog.optimize.edit import edit

        return edit
    if name == "generate":
        from motionprog.optimize import generate

        return generate
    raise AttributeError(f"module 'motionprog' has no attribute {name!r}")


__all__ = ["Program", "batch", "compile", "edit", "from_text", "generate"]
