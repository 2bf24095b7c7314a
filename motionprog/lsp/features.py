"""Answers to editor requests, each a small function of an :class:`Outline` and a position.

Positions are LSP's: 0-based line and character. Spans are the language's: 1-based line and
column, ``end_column`` one past the last character.
"""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types

from motionprog.body.skeleton import ALIASES, GROUPS, JOINT_NAMES
from motionprog.lang import ast
from motionprog.lang.builtins import ATOMS, COMPONENTS, FUNCTIONS, OBJECTS, PARAMETERS, PROPERTIES, Builtin
from motionprog.lang.checker import RELAX_ITEMS
from motionprog.lang.diagnostics import Diagnostic, Span
from motionprog.lang.formatter import format_module
from motionprog.lang.parser import all_keywords
from motionprog.lang.units import UNITS
from motionprog.lsp.context import Expected, expected
from motionprog.lsp.outline import Outline, on_disk

KEYWORDS = all_keywords()
"""The language's keywords (grammar/motionprog.lark, read from the parser)."""

BUILTINS = {b.name: b for b in (*FUNCTIONS, *OBJECTS, *ATOMS)}
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OWNER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\.$")
"""The name before the dot being completed."""


def to_range(span: Span) -> types.Range:
    """The LSP range of a language span."""
    return types.Range(types.Position(span.line - 1, span.column - 1),
                       types.Position(span.end_line - 1, span.end_column - 1))


def diagnostics(outline: Outline) -> list[types.Diagnostic]:
    """The checker's diagnostics, with their codes; notes and help follow the message. A problem
    inside an imported file is shown on the import line, with its place there as related information."""
    return [_diagnostic(d, outline) for d in outline.diagnostics]


def _diagnostic(found: Diagnostic, outline: Outline) -> types.Diagnostic:
    message = "\n".join([found.message, *(f"note: {r.span.location()}: {r.message}" for r in found.related),
                         *(f"note: {n}" for n in found.notes), *([f"help: {found.help}"] if found.help else [])])
    severity = types.DiagnosticSeverity.Error if found.level == "error" else types.DiagnosticSeverity.Warning
    where = types.Range(types.Position(0, 0), types.Position(0, 0))
    related = [_related(r.span, r.message) for r in found.related] or None
    if found.span is not None and found.span.file == outline.path:
        where = to_range(found.span)
    elif found.span is not None:
        message = f"{found.span.location()}: {message}"
        lines = [line for line, imported in outline.imports.items() if imported == on_disk(found.span.file)]
        where = types.Range(types.Position(lines[0] - 1, 0), types.Position(lines[0], 0)) if lines else where
        related = [_related(found.span, found.message)]
    return types.Diagnostic(where, message, severity=severity, code=found.code, source="motionprog",
                            related_information=related)


def _related(span: Span, message: str) -> types.DiagnosticRelatedInformation:
    """A place in a program or an imported file (the standard library's on disk) as related information."""
    return types.DiagnosticRelatedInformation(types.Location(Path(on_disk(span.file)).resolve().as_uri(),
                                                             to_range(span)), message)


def word_at(text: str, position: types.Position) -> tuple[str, str]:
    """(the word under the cursor, the text of its line before the word)."""
    lines = text.splitlines()
    line = lines[position.line] if position.line < len(lines) else ""
    for match in WORD.finditer(line):
        if match.start() <= position.character <= match.end():
            return match.group(), line[:match.start()]
    return "", line[:position.character]


def _builtin_doc(item: Builtin) -> str:
    return f"{item.signature}  [{item.unit}]\n\n{item.doc}"


def _body_doc(name: str) -> str | None:
    if name in JOINT_NAMES:
        return f"joint {name} (index {JOINT_NAMES.index(name)}), position in m"
    if name in ALIASES:
        return f"alias of the joint {ALIASES[name]}, position in m"
    if name in GROUPS:
        return f"group of joints: {', '.join(JOINT_NAMES[i] for i in GROUPS[name])}"
    return None


def hover(outline: Outline, text: str, position: types.Position) -> types.Hover | None:
    """The doc and unit of the name under the cursor; elsewhere on a constraint, its explanation."""
    word, _ = word_at(text, position)
    doc = (_builtin_doc(BUILTINS[word]) if word in BUILTINS else _body_doc(word))
    if doc is None and word in outline.definitions:
        doc = outline.definitions[word].doc
    if doc is None and word in UNITS:
        doc = f"unit: 1 {word} = {UNITS[word][1]:.6g} {UNITS[word][0].symbol()}"
    if doc is None:
        doc = outline.descriptions.get(_statement_line(outline, position))
    return types.Hover(types.MarkupContent(types.MarkupKind.PlainText, doc)) if doc else None


def _statement_line(outline: Outline, position: types.Position) -> int | None:
    """The first line (1-based) of the statement that covers ``position``."""
    line = position.line + 1
    for statement in outline.module.statements if outline.module else ():
        if statement.span.line <= line <= statement.span.end_line:
            return statement.span.line
    return None


def definition(outline: Outline, text: str, position: types.Position) -> types.Location | None:
    """Where the name under the cursor is defined (a let, a def, a scene object), or the file
    an ``import`` line reads."""
    word, _ = word_at(text, position)
    found = outline.definitions.get(word)
    if found is not None:
        return types.Location(Path(found.path or outline.path).resolve().as_uri(), to_range(found.span))
    imported = outline.imports.get(position.line + 1)
    if imported is not None:
        return types.Location(Path(imported).as_uri(), types.Range(types.Position(0, 0), types.Position(0, 0)))
    return None


def completion(outline: Outline, text: str, position: types.Position) -> list[types.CompletionItem]:
    """After ``name.``: components, and a scene object's properties. Elsewhere what the grammar
    accepts at the cursor (:mod:`motionprog.lsp.context`): its keywords, names in scope where a
    value may start, the kinds of scene objects after ``name =`` in a scene, a constructor's
    parameter names, units after a number; everything when the line does not parse so far."""
    before = word_at(text, position)[1]
    if before.endswith("."):
        owner = OWNER.search(before)
        return _members(outline, owner.group(1) if owner else "")
    lines = text.split("\n")[:position.line]
    found = expected("".join(line + "\n" for line in lines) + before)
    if found is None:
        found = Expected(KEYWORDS, values=True, kinds=True, units=True)
    return [*(types.CompletionItem(k, kind=types.CompletionItemKind.Keyword) for k in found.keywords),
            *(_value_items(outline) if found.values else ()),
            *(_builtin_items(OBJECTS) if found.kinds else ()),
            *(types.CompletionItem(p, kind=types.CompletionItemKind.EnumMember, detail="relax") for p in
              (RELAX_ITEMS if found.placements else ())),
            *(types.CompletionItem(p, kind=types.CompletionItemKind.Field, detail=f"{found.call}() parameter",
                                   insert_text=f"{p} = ") for p in PARAMETERS.get(found.call, ())),
            *(types.CompletionItem(u, kind=types.CompletionItemKind.Unit) for u in (UNITS if found.units else ()))]


def _value_items(outline: Outline) -> list[types.CompletionItem]:
    """Every name that may start a value: functions, atoms, lets, defs, scene objects, the body."""
    return [*_builtin_items((*FUNCTIONS, *ATOMS)), *_defined_items(outline), *_body_items()]


def _members(outline: Outline, owner: str) -> list[types.CompletionItem]:
    found = outline.definitions.get(owner)
    kind = found.object_kind if found else None
    items = [types.CompletionItem(c, kind=types.CompletionItemKind.Field, detail="component") for c in COMPONENTS]
    return items + [types.CompletionItem(p, kind=types.CompletionItemKind.Property, detail=f"{kind} property")
                    for p in PROPERTIES.get(kind, ())]


def _builtin_items(builtins: tuple[Builtin, ...]) -> list[types.CompletionItem]:
    kinds = {"function": types.CompletionItemKind.Function, "object": types.CompletionItemKind.Class,
             "atom": types.CompletionItemKind.Constant}
    return [types.CompletionItem(b.name, kind=kinds[b.kind], detail=f"{b.signature}  [{b.unit}]", documentation=b.doc)
            for b in builtins]


def _defined_items(outline: Outline) -> list[types.CompletionItem]:
    kinds = {"let": types.CompletionItemKind.Variable, "def": types.CompletionItemKind.Function,
             "object": types.CompletionItemKind.Variable}
    return [types.CompletionItem(d.name, kind=kinds[d.kind], detail=d.doc.split("\n")[0])
            for d in outline.definitions.values()]


def _body_items() -> list[types.CompletionItem]:
    names = [*JOINT_NAMES, *ALIASES, *GROUPS]
    return [types.CompletionItem(n, kind=types.CompletionItemKind.EnumMember, detail=_body_doc(n)) for n in names]


def formatting(outline: Outline, text: str) -> list[types.TextEdit]:
    """One edit that rewrites the document in canonical form (none when it is, or does not parse)."""
    if outline.module is None:
        return []
    formatted = format_module(outline.module)
    if formatted == text:
        return []
    end = types.Position(len(text.splitlines()) + 1, 0)
    return [types.TextEdit(types.Range(types.Position(0, 0), end), formatted)]


def symbols(outline: Outline) -> list[types.DocumentSymbol]:
    """Constraints, objectives and scene objects, each with its range."""
    found = []
    for statement in outline.module.statements if outline.module else ():
        if isinstance(statement, ast.Constraint | ast.Objective):
            name = statement.label or text_of(statement.span)
            kind = types.SymbolKind.Event if isinstance(statement, ast.Objective) else types.SymbolKind.Property
            found.append(types.DocumentSymbol(name, kind, to_range(statement.span), to_range(statement.span)))
        elif isinstance(statement, ast.Scene):
            found += [types.DocumentSymbol(item.name, types.SymbolKind.Object, to_range(item.span), to_range(item.span))
                      for item in statement.objects]
    return found


def text_of(span: Span) -> str:
    """The first line of a span's source text (a constraint without a label is named by its text)."""
    return span.text[span.column - 1:].strip()
