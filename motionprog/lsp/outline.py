"""What the server knows about one document: its syntax tree, diagnostics, checked constraints
and every name it defines or imports, each with where it is written."""

from __future__ import annotations

import functools
import importlib.resources
import os
from dataclasses import dataclass, field

from motionprog.lang import ast
from motionprog.lang.builtins import library
from motionprog.lang.diagnostics import Diagnostic, Span
from motionprog.lang.formatter import format_scene_object, format_statement
from motionprog.lang.imports import STDLIB_PREFIX, allowed_roots, locate_import, parse_file
from motionprog.lang.checker import EDIT_ONLY
from motionprog.lang.program import check_text

stdlib_docs = functools.cache(library)
"""The standard library's defs with the comment above each (read once per server)."""


@dataclass(frozen=True)
class Definition:
    """A name a program can use: a ``let``, a ``def`` (its own or imported) or a scene object.

    ``doc`` is what hover shows: the statement in canonical form, and for a library ``def`` the
    comment written above it. ``path`` is the file it is written in (None: this document);
    ``object_kind`` the constructor of a scene object (``box``)."""

    name: str
    kind: str
    span: Span
    doc: str
    path: str | None = None
    object_kind: str | None = None


@dataclass(frozen=True)
class Outline:
    """One reading of a document: ``module`` is None when it does not parse."""

    path: str
    module: ast.Module | None
    diagnostics: tuple[Diagnostic, ...]
    descriptions: dict[int, str] = field(default_factory=dict)
    definitions: dict[str, Definition] = field(default_factory=dict)
    imports: dict[int, str] = field(default_factory=dict)


def read(text: str, path: str) -> Outline:
    """Parse and check ``text`` (written at ``path``, so its imports and meshes resolve).

    An editor has no ``--edit`` flag: a program that reads ``input.x`` or says ``keep`` is
    checked as a program for ``motionprog edit``."""
    module, diagnostics = parse_file(text, path)
    if module is None:
        return Outline(path, None, tuple(diagnostics))
    program, diagnostics = check_text(text, path)
    if any(EDIT_ONLY in d.message for d in diagnostics):
        program, diagnostics = check_text(text, path, editing=True)
    descriptions = {}
    if program is not None:
        descriptions = {int(c.source.rsplit(":", 1)[1]): c.description for c in program.constraints}
    definitions, imports = _imported(module, path)
    definitions.update(_own(module))
    return Outline(path, module, tuple(diagnostics), descriptions, definitions, imports)


def _own(module: ast.Module) -> dict[str, Definition]:
    """The lets, defs and scene objects written in ``module``."""
    found = {}
    for statement in module.statements:
        if isinstance(statement, ast.Let | ast.Def):
            kind = "let" if isinstance(statement, ast.Let) else "def"
            found[statement.name] = Definition(statement.name, kind, statement.span, format_statement(statement))
        elif isinstance(statement, ast.Scene):
            for item in statement.objects:
                found[item.name] = Definition(item.name, "object", item.span, format_scene_object(item).strip(),
                                              object_kind=item.call.function)
    return found


def _imported(module: ast.Module, path: str) -> tuple[dict[str, Definition], dict[int, str]]:
    """The defs of every module ``module`` imports, and the file each import line reads."""
    definitions, imports = {}, {}
    for statement in module.statements:
        if not isinstance(statement, ast.Import):
            continue
        text, where, problem = locate_import(statement.path, path, allowed_roots(path))
        if text is None or problem:
            continue
        file = on_disk(where)
        imports[statement.span.line] = file
        imported, _ = parse_file(text, where)
        comments = {entry["signature"].split("(")[0]: entry["doc"] for entry in stdlib_docs().get(statement.path, [])}
        for item in imported.statements if imported else ():
            if isinstance(item, ast.Def) and item.name not in definitions:
                doc = "\n\n".join(filter(None, (format_statement(item), comments.get(item.name))))
                definitions[item.name] = Definition(item.name, "def", item.span, doc, file)
    return definitions, imports


def on_disk(where: str) -> str:
    """The real file of an import: the standard library's ``<stdlib>/x.mprog`` is a package file."""
    if not where.startswith(STDLIB_PREFIX):
        return where
    return os.fspath(importlib.resources.files("motionprog.constraints") / where.removeprefix(STDLIB_PREFIX))
