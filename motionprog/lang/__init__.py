"""The constraint language: parse, check, compile ``.mprog`` programs to differentiable margins."""

from motionprog.lang.builtins import catalogue
from motionprog.lang.diagnostics import Diagnostic, ProgramError, Span, render_json, render_text
from motionprog.lang.program import ConstraintInfo, Program, check_text, compile


def check_source(source: str, filename: str = "<program>") -> list[Diagnostic]:
    """Every diagnostic of a program text: errors and warnings (empty when all is well)."""
    return check_text(source, filename)[1]


__all__ = [
    "ConstraintInfo", "Diagnostic", "Program", "ProgramError", "Span", "catalogue", "check_source",
    "check_text", "compile", "render_json", "render_text",
]
