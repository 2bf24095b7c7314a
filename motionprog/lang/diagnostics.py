"""Diagnostics: one plain value per problem, rendered as text (rustc style) or JSON.

A diagnostic never prints itself; the CLI renders it. Messages start lowercase, end without
a period and make sense alone; only ``help`` suggests a fix.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from motionprog.errors import MotionprogError


@dataclass(frozen=True)
class Span:
    """A source range: 1-based line and column of its first and last character.

    ``text`` is the whole first source line, kept so a diagnostic renders without the file.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    text: str = field(default="", compare=False)

    def location(self) -> str:
        """``file:line:col``."""
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """A problem found in a program: ``level`` is ``"error"`` or ``"warning"``."""

    level: str
    code: str
    message: str
    span: Span | None = None
    notes: tuple[str, ...] = ()
    help: str | None = None


def error(code: str, message: str, span: Span | None, help: str | None = None,
          notes: tuple[str, ...] = ()) -> Diagnostic:
    """An error diagnostic."""
    return Diagnostic("error", code, message, span, notes, help)


def warning(code: str, message: str, span: Span | None, help: str | None = None) -> Diagnostic:
    """A warning diagnostic."""
    return Diagnostic("warning", code, message, span, (), help)


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    """Whether any diagnostic is an error."""
    return any(d.level == "error" for d in diagnostics)


def render_text(diagnostic: Diagnostic) -> str:
    """``file:line:col: error: message``, the source line, a caret, notes and help."""
    span = diagnostic.span
    head = f"{diagnostic.level}: {diagnostic.message}"
    lines = [f"{span.location()}: {head}" if span else head]
    if span and span.text:
        shown = span.text.expandtabs(1)
        width = span.end_column - span.column if span.end_line == span.line else len(shown) - span.column + 1
        gutter = f"{span.line} | "
        lines.append(gutter + shown)
        lines.append(" " * (len(gutter) + span.column - 1) + "^" * max(1, width))
    lines.extend(f"note: {note}" for note in diagnostic.notes)
    if diagnostic.help:
        lines.append(f"help: {diagnostic.help}")
    return "\n".join(lines)


def render_json(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> str:
    """A JSON list of diagnostics (for editors and the LLM repair loop)."""
    return json.dumps([asdict(d) for d in diagnostics], indent=2)


class ProgramError(MotionprogError):
    """A program with errors; ``diagnostics`` holds every diagnostic found (errors first)."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
        self.diagnostics = tuple(diagnostics)
        first = next((d for d in self.diagnostics if d.level == "error"), None)
        where = f"{first.span.location()}: " if first and first.span else ""
        super().__init__(where + (first.message if first else "invalid program"))
