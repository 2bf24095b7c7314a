"""Diagnostics: one plain value per problem, rendered as text (rustc style) or JSON.

A diagnostic never prints itself; the CLI renders it. Messages start lowercase, end without
a period and make sense alone; only ``help`` suggests a fix, in words, and ``hint`` carries the
same fix as edits of the source when there is one (for editors and the LLM repair loop).
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

    def first(self, width: int) -> Span:
        """The span's first ``width`` characters (the name that starts a scene object or label)."""
        return Span(self.file, self.line, self.column, self.line, self.column + width, self.text)


@dataclass(frozen=True)
class Edit:
    """Replace the source from ``span``'s start up to its end by ``text``; an empty span inserts."""

    span: Span
    text: str


@dataclass(frozen=True)
class Related:
    """Another place a diagnostic concerns: the line inside a called function that failed."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """A problem found in a program: ``level`` is ``"error"`` or ``"warning"``.

    ``hint`` holds the edits that apply the fix ``help`` names, when it is a concrete one (a
    name, an operator, a missing import); ``related`` lists the places behind the primary span,
    outermost first: a problem inside an expanded function is reported at the call, with the
    function's line as related.
    """

    level: str
    code: str
    message: str
    span: Span | None = None
    notes: tuple[str, ...] = ()
    help: str | None = None
    hint: tuple[Edit, ...] = ()
    related: tuple[Related, ...] = ()


def error(code: str, message: str, span: Span | None, help: str | None = None,
          notes: tuple[str, ...] = (), hint: tuple[Edit, ...] = ()) -> Diagnostic:
    """An error diagnostic."""
    return Diagnostic("error", code, message, span, notes, help, hint)


def warning(code: str, message: str, span: Span | None, help: str | None = None) -> Diagnostic:
    """A warning diagnostic."""
    return Diagnostic("warning", code, message, span, (), help)


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    """Whether any diagnostic is an error."""
    return any(d.level == "error" for d in diagnostics)


def render_text(diagnostic: Diagnostic) -> str:
    """``file:line:col: error: message``, the source line, a caret, related places, notes and help."""
    lines = _located(diagnostic.span, f"{diagnostic.level}: {diagnostic.message}")
    for related in diagnostic.related:
        lines.extend(_located(related.span, f"note: {related.message}"))
    lines.extend(f"note: {note}" for note in diagnostic.notes)
    if diagnostic.help:
        lines.append(f"help: {diagnostic.help}")
    return "\n".join(lines)


def _located(span: Span | None, head: str) -> list[str]:
    """``file:line:col: head``, then the source line with a caret under the span."""
    if span is None:
        return [head]
    lines = [f"{span.location()}: {head}"]
    if span.text:
        shown = span.text.expandtabs(1)
        width = span.end_column - span.column if span.end_line == span.line else len(shown) - span.column + 1
        gutter = f"{span.line} | "
        lines.append(gutter + shown)
        lines.append(" " * (len(gutter) + span.column - 1) + "^" * max(1, width))
    return lines


def apply_edits(text: str, edits: tuple[Edit, ...] | list[Edit]) -> str:
    """``text`` with ``edits`` applied: each span counted in the original text, an edit given twice
    (two diagnostics asking for one import) applied once; distinct edits must not overlap."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(line: int, column: int) -> int:
        return min(starts[min(line, len(lines)) - 1] + column - 1, len(text))

    for edit in sorted(dict.fromkeys(edits), key=lambda e: (e.span.line, e.span.column), reverse=True):
        start, end = offset(edit.span.line, edit.span.column), offset(edit.span.end_line, edit.span.end_column)
        text = text[:start] + edit.text + text[end:]
    return text


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
