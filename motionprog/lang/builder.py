"""Build programs from Python instead of text; the result checks and compiles exactly as text.

The builder makes the syntax tree the parser would make and hands it to the checker as it is.

Expressions are ``Expr`` wrappers around AST nodes with Python operators::

    from motionprog.lang import builder as mb

    program = mb.ProgramBuilder("a person walks forward", length=mb.q(6, "s"), seeds=4)
    # then=[("sits down", mb.q(4, "s"))] would add a later part with its own prompt
    program.scene(bar=mb.box(center=(0, 1.25, 2.5), size=(3, 0.1, 0.3)), goal=mb.point(0, 0, 5))
    head, pelvis, bar = mb.name("head"), mb.name("pelvis"), mb.name("bar")
    program.constraint(mb.always(), head.y < bar.bottom - mb.q(10, "cm"),
                       when=pelvis.z.in_range(2, 3), label="duck")
    program.constraint(mb.at("end"), mb.call("distance", pelvis.xz, mb.name("goal").xz) < mb.q(20, "cm"))
    program.objective("maximize", mb.call("max", pelvis.y), weight=0.1)
    compiled = program.compile()          # a motionprog.lang.Program
    text = program.source()               # the same program as canonical text

Operators: ``+ - * /``, unary ``-``, ``< <= > >=`` (relations), ``&`` (and), ``|`` (or), ``~`` (not);
methods ``eq(other, within=None)``, ``near(other, within=None)``, ``in_range(low, high)``,
``inside/outside/above/below(obj)``, ``implies(other)``, ``at(instant)`` (``x @ instant``); attributes ``.x .y .z .xz ...`` and
object properties (``.top``). Python numbers become bare numbers; ``q(value, unit)`` adds a unit.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import fields, is_dataclass, replace

from motionprog.lang import ast
from motionprog.lang.diagnostics import Span
from motionprog.lang.formatter import format_module, format_statement
from motionprog.lang.program import Program, compile_module

SPAN = Span("<builder>", 1, 1, 1, 1, "")
"""Builder nodes have no source text."""

def _node(value) -> ast.Expr:
    """An AST node for a builder operand: Expr, number, or tuple of operands (a vector)."""
    if isinstance(value, Expr):
        return value.node
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ast.Quantity(float(value), None, SPAN, repr(float(value)) if isinstance(value, float) else str(value))
    if isinstance(value, (tuple, list)):
        return ast.Vector(tuple(_node(v) for v in value), SPAN)
    raise TypeError(f"cannot use {value!r} in a motionprog expression")


class Expr:
    """A value or predicate expression under construction (wraps an AST node)."""

    __slots__ = ("node",)

    def __init__(self, node: ast.Expr):
        self.node = node

    def __getattr__(self, name: str) -> Expr:
        if name.startswith("_"):
            raise AttributeError(name)
        return Expr(ast.Attr(self.node, name, SPAN))

    def _binary(self, op: str, other, swap: bool = False) -> Expr:
        left, right = (_node(other), self.node) if swap else (self.node, _node(other))
        return Expr(ast.Binary(op, left, right, SPAN))

    def __add__(self, other) -> Expr:
        return self._binary("+", other)

    def __radd__(self, other) -> Expr:
        return self._binary("+", other, swap=True)

    def __sub__(self, other) -> Expr:
        return self._binary("-", other)

    def __rsub__(self, other) -> Expr:
        return self._binary("-", other, swap=True)

    def __mul__(self, other) -> Expr:
        return self._binary("*", other)

    def __rmul__(self, other) -> Expr:
        return self._binary("*", other, swap=True)

    def __truediv__(self, other) -> Expr:
        return self._binary("/", other)

    def __rtruediv__(self, other) -> Expr:
        return self._binary("/", other, swap=True)

    def __neg__(self) -> Expr:
        return Expr(ast.Unary("neg", self.node, SPAN))

    def _relation(self, op: str, other, extra=None) -> Expr:
        return Expr(ast.Relation(op, self.node, _node(other), None if extra is None else _node(extra), SPAN))

    def __lt__(self, other) -> Expr:
        return self._relation("<", other)

    def __le__(self, other) -> Expr:
        return self._relation("<=", other)

    def __gt__(self, other) -> Expr:
        return self._relation(">", other)

    def __ge__(self, other) -> Expr:
        return self._relation(">=", other)

    def eq(self, other, within=None) -> Expr:
        """``self == other within tolerance``."""
        return self._relation("==", other, within)

    def near(self, other, within=None) -> Expr:
        """``self near other within distance``."""
        return self._relation("near", other, within)

    def inside(self, obj: Expr) -> Expr:
        return self._relation("inside", obj)

    def outside(self, obj: Expr) -> Expr:
        return self._relation("outside", obj)

    def above(self, obj: Expr) -> Expr:
        return self._relation("above", obj)

    def below(self, obj: Expr) -> Expr:
        return self._relation("below", obj)

    def at(self, instant) -> Expr:
        """``self @ instant``: the value at one instant (``"start"``, ``("end", "-", q(1, "s"))``, ...)."""
        return Expr(ast.At(self.node, _instant(instant), SPAN))

    def in_range(self, low, high) -> Expr:
        """``self in [low, high]``."""
        return Expr(ast.InRange(self.node, _node(low), _node(high), SPAN))

    def __and__(self, other: Expr) -> Expr:
        return self._binary("and", other)

    def __or__(self, other: Expr) -> Expr:
        return self._binary("or", other)

    def __invert__(self) -> Expr:
        return Expr(ast.Unary("not", self.node, SPAN))

    def implies(self, other: Expr) -> Expr:
        return self._binary("implies", other)

    __hash__ = None  # relations overload comparison, so Exprs are not hashable


def name(identifier: str) -> Expr:
    """A joint, alias, group, ``com``, ``facing``, scene object, ``let`` or parameter."""
    return Expr(ast.Name(identifier, SPAN))


def q(value: float, unit: str | None = None) -> Expr:
    """A quantity: ``q(10, "cm")``; units as in the language (m, cm, mm, s, ms, frames, %, deg, rad, m/s, m/s^2)."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return Expr(ast.Quantity(float(value), unit, SPAN, f"{text} {unit}" if unit else text))


def call(function: str, *args, **keywords) -> Expr:
    """A built-in or user function call (keywords only for scene objects)."""
    nodes = tuple(_node(a) for a in args) + tuple(
        ast.KeywordArg(k, _node(v) if not isinstance(v, str) else ast.String(v, SPAN), SPAN) for k, v in keywords.items())
    return Expr(ast.Call(function, nodes, SPAN, SPAN))


def _object(kind: str):
    def build(*args, **keywords) -> ast.Call:
        positional = tuple(ast.String(a, SPAN) if isinstance(a, str) else _node(a) for a in args)
        return ast.Call(kind, positional + call(kind, **keywords).node.args, SPAN, SPAN)
    build.__doc__ = f"A {kind} scene object (parameters as in the language)."
    return build


point, line, plane, box, sphere, cylinder, mesh = (
    _object(k) for k in ("point", "line", "plane", "box", "sphere", "cylinder", "mesh"))


def _instant(value) -> ast.Instant:
    """``"start"``, ``"end"``, ``("frame", 30)``, a quantity such as ``q(2, "s")``, or a shifted
    instant ``(instant, "+" | "-", quantity)`` such as ``("end", "-", q(1, "s"))``."""
    if isinstance(value, str) and value in ("start", "end"):
        return ast.Instant(value, None, SPAN)
    if isinstance(value, tuple) and len(value) == 3 and value[1] in ("+", "-"):
        return ast.Instant(value[1], _node(value[2]), SPAN, _instant(value[0]))
    if isinstance(value, tuple) and value[0] == "frame":
        return ast.Instant("frame", ast.Quantity(float(value[1]), "frames", SPAN, f"{value[1]} frames"), SPAN)
    return ast.Instant("quantity", _node(value), SPAN)


def at(*instants) -> ast.Time:
    """``at i1, i2, ...``."""
    return ast.Time("at", tuple(_instant(i) for i in instants), None, SPAN)


def window(kind: str, a=None, b=None, step=None, inner: ast.Window | None = None) -> ast.Window:
    """``during a .. b`` (kind "during"), ``before a``, ``after a``, ``every step [inner]``."""
    return ast.Window(kind, None if a is None else _instant(a), None if b is None else _instant(b),
                      None if step is None else _node(step), inner, SPAN)


def always(within: ast.Window | None = None) -> ast.Time:
    """``always`` (optionally over a window)."""
    return ast.Time("always", (), within, SPAN)


def eventually(within: ast.Window | None = None) -> ast.Time:
    """``eventually`` (optionally over a window)."""
    return ast.Time("eventually", (), within, SPAN)


class ProgramBuilder:
    """Collects statements; ``source()`` prints them, ``compile()`` checks and compiles them."""

    def __init__(self, prompt: str | None = None, length: Expr | None = None, seeds: int | None = None,
                 model: str | None = None, then: Sequence[tuple[str, Expr]] = ()):
        """``then``: the later parts of the motion as (prompt, length), e.g. ``[("sits down", q(4, "s"))]``."""
        self.statements: list[ast.Statement] = []
        if prompt is not None:
            parts = tuple(ast.Then(text, part.node) for text, part in then)
            self.statements.append(ast.Header(prompt, None if length is None else length.node,
                                              None if seeds is None else _node(seeds), model, SPAN, parts))

    def imports(self, library: str) -> ProgramBuilder:
        self.statements.append(ast.Import(library, SPAN))
        return self

    def relax(self, *items: str, about=None) -> ProgramBuilder:
        """``relax yaw, xz``; ``about=(x, z)`` turns the yaw about that ground point."""
        pivots = tuple(_node(about) if item == "yaw" else None for item in items) if about is not None else ()
        self.statements.append(ast.Relax(tuple(items), SPAN, pivots))
        return self

    def scene(self, **objects: ast.Call) -> ProgramBuilder:
        """Scene objects by name, e.g. ``scene(bar=box(center=(0, 1, 2), size=(1, 1, 1)))``."""
        items = tuple(ast.SceneObject(n, c, SPAN) for n, c in objects.items())
        self.statements.append(ast.Scene(items, SPAN))
        return self

    def let(self, identifier: str, value) -> Expr:
        self.statements.append(ast.Let(identifier, _node(value), SPAN, SPAN))
        return name(identifier)

    def define(self, identifier: str, params: Sequence[str], body: Expr) -> ProgramBuilder:
        """``def identifier(params) = body`` (use ``name(param)`` inside the body)."""
        self.statements.append(ast.Def(identifier, tuple(params), body.node, SPAN, SPAN, (SPAN,) * len(params)))
        return self

    def constraint(self, time: ast.Time, predicate: Expr, when: Expr | None = None, weight: float | None = None,
                   label: str | None = None, soft: bool = False) -> ProgramBuilder:
        self.statements.append(ast.Constraint(
            label, "soft" if soft else None, time, predicate.node, None if when is None else when.node,
            None if weight is None else _node(weight), SPAN))
        return self

    def objective(self, goal: str, value: Expr, time: ast.Time | None = None, when: Expr | None = None,
                  weight: float | None = None, label: str | None = None, until=None) -> ProgramBuilder:
        """``maximize`` or ``minimize`` a scalar, ``until`` a value that is enough (or without end)."""
        self.statements.append(ast.Objective(
            label, time, goal, value.node, None if when is None else when.node,
            None if weight is None else _node(weight), SPAN, None if until is None else _node(until)))
        return self

    def keep_outside(self, a, b) -> ProgramBuilder:
        """``keep outside a .. b`` (editing): only frames from ``a`` to ``b`` may change."""
        self.statements.append(ast.Keep(window("during", a, b), SPAN))
        return self

    def source(self) -> str:
        """The program as canonical text."""
        return format_module(ast.Module(tuple(self.statements), (), "<builder>", ""))

    def module(self, filename: str = "<builder>") -> ast.Module:
        """The statements as a syntax tree; statement k is "line" k of ``filename`` in diagnostics,
        with its canonical text as the quoted line."""
        statements = tuple(_located(statement, filename, k) for k, statement in enumerate(self.statements, 1))
        return ast.Module(statements, (), filename, "")

    def compile(self, frames: int | None = None, filename: str = "<builder>",
                allow_paths: Iterable[str | os.PathLike] = (), editing: bool = False) -> Program:
        """Check and compile the syntax tree as it is (no text is printed or parsed); raises
        ProgramError with diagnostics on errors. Relative mesh and import paths start at the
        directory of ``filename`` (the current one for ``<builder>``)."""
        return compile_module(self.module(filename), frames, allow_paths, editing)


def _located(statement: ast.Statement, filename: str, line: int) -> ast.Statement:
    """``statement`` with every span replaced by one covering its canonical text at ``line``."""
    text = format_statement(statement).splitlines()[0]
    return _respan(statement, Span(filename, line, 1, line, len(text) + 1, text))


def _respan(node, span: Span):
    """``node`` with every ``span`` / ``name_span`` field, at any depth, set to ``span``."""
    if isinstance(node, tuple):
        return tuple(_respan(item, span) for item in node)
    if not is_dataclass(node) or isinstance(node, Span):
        return node
    changes = {f.name: span if f.name in ("span", "name_span") else _respan(getattr(node, f.name), span)
               for f in fields(node)}
    return replace(node, **changes)
