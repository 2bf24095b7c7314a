"""The syntax tree of a program: frozen nodes, each with the ``Span`` it came from.

The parser builds these and nothing else; names, units and types are checked later
(``checker.py``). ``Span`` fields compare unequal between two parses of differently laid out
text, so AST equality is only meaningful for the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

from motionprog.lang.diagnostics import Span


@dataclass(frozen=True)
class Quantity:
    """A number with an optional unit word (``10 cm``; ``unit`` None for a bare number)."""

    value: float
    unit: str | None
    span: Span
    text: str


@dataclass(frozen=True)
class Name:
    """A joint, alias, group, ``com``, ``facing``, scene object, ``let`` or parameter."""

    name: str
    span: Span


@dataclass(frozen=True)
class String:
    """A quoted string (a mesh file name)."""

    value: str
    span: Span


@dataclass(frozen=True)
class Attr:
    """``value.name``: a component (``.y``, ``.xz``) or an object property (``.top``)."""

    value: Expr
    name: str
    span: Span


@dataclass(frozen=True)
class KeywordArg:
    """``name = value`` inside a call."""

    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class Call:
    """``function(args)``; ``args`` may hold ``KeywordArg``s."""

    function: str
    args: tuple[Expr | KeywordArg, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Vector:
    """``(a, b)`` or ``(a, b, c)``."""

    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Unary:
    """``-x`` (op ``"neg"``) or ``not p`` (op ``"not"``)."""

    op: str
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Binary:
    """Arithmetic (``+ - * /``) or logic (``and or implies``)."""

    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Relation:
    """A relation between two values: op in ``< <= > >= == near inside outside above below``.

    ``extra`` is the tolerance of ``==`` / ``near`` when written with ``within``.
    """

    op: str
    left: Expr
    right: Expr
    extra: Expr | None
    span: Span


@dataclass(frozen=True)
class InRange:
    """``value in [low, high]``."""

    value: Expr
    low: Expr
    high: Expr
    span: Span


@dataclass(frozen=True)
class At:
    """``value @ instant``: a value taken at one instant instead of at each frame."""

    value: Expr
    instant: Instant
    span: Span


Expr = Quantity | Name | String | Attr | Call | Vector | Unary | Binary | Relation | InRange | At
LOGIC = frozenset({"and", "or", "implies", "not"})
"""The operators of ``Binary`` and ``Unary`` whose operands and result are conditions."""


@dataclass(frozen=True)
class Instant:
    """A time instant: kind ``start``, ``end``, ``frame`` (value = frame number), ``quantity``,
    or ``+`` / ``-`` (the instant ``base`` shifted by the time ``value``: ``end - 1 s``)."""

    kind: str
    value: Quantity | None
    span: Span
    base: Instant | None = None


@dataclass(frozen=True)
class Window:
    """kind ``during`` (a..b), ``before`` (a), ``after`` (a) or ``every`` (step, inner window)."""

    kind: str
    a: Instant | None
    b: Instant | None
    step: Quantity | None
    inner: Window | None
    span: Span


@dataclass(frozen=True)
class Time:
    """quantifier ``at`` (with instants), ``always`` or ``eventually`` (with an optional window)."""

    quantifier: str
    instants: tuple[Instant, ...]
    window: Window | None
    span: Span


@dataclass(frozen=True)
class Constraint:
    """``[label:] [hard|soft] TIME: PREDICATE [when C] [weight W]``."""

    label: str | None
    strength: str | None
    time: Time
    predicate: Expr
    when: Expr | None
    weight: Quantity | None
    span: Span


@dataclass(frozen=True)
class Objective:
    """``[label:] [TIME:] maximize|minimize EXPR [until T] [when C] [weight W]``.

    ``until``: the value at which the goal is met (pushing stops), None to push without end.
    """

    label: str | None
    time: Time | None
    goal: str
    value: Expr
    when: Expr | None
    weight: Quantity | None
    span: Span
    until: Expr | None = None


@dataclass(frozen=True)
class Import:
    """``import "name"``."""

    path: str
    span: Span


@dataclass(frozen=True)
class Then:
    """``then "prompt" for 4 s``: a later part of the motion, with its own prompt and length."""

    prompt: str
    length: Quantity


@dataclass(frozen=True)
class Header:
    """``motion "prompt" for 6 s, seeds 4, model "m"``; ``then`` holds the later parts of
    ``motion "walks" for 6 s then "sits down" for 4 s``, in order."""

    prompt: str
    length: Quantity | None
    seeds: Quantity | None
    model: str | None
    span: Span
    then: tuple[Then, ...] = ()


@dataclass(frozen=True)
class Relax:
    """``relax yaw, xz`` or ``relax yaw about (x, z)``; ``pivots`` pairs each item with the point
    it turns about (None: the origin), empty when no item has one."""

    items: tuple[str, ...]
    span: Span
    pivots: tuple[Expr | None, ...] = ()


@dataclass(frozen=True)
class SceneObject:
    """``name = kind(args)`` inside ``scene { }``."""

    name: str
    call: Call
    span: Span


@dataclass(frozen=True)
class Scene:
    """``scene { ... }``."""

    objects: tuple[SceneObject, ...]
    span: Span


@dataclass(frozen=True)
class Let:
    """``let name = expr``; ``name_span`` is the name's own."""

    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Def:
    """``def name(params) = body``; ``name_span`` and ``param_spans`` are the names' own."""

    name: str
    params: tuple[str, ...]
    body: Expr
    span: Span
    name_span: Span
    param_spans: tuple[Span, ...]


@dataclass(frozen=True)
class Keep:
    """``keep outside a .. b`` (editing): the input motion stays as it is outside ``window``
    (a ``during`` window); only the frames inside it may change."""

    window: Window
    span: Span


Statement = Import | Header | Relax | Scene | Let | Def | Constraint | Objective | Keep


@dataclass(frozen=True)
class Comment:
    """A ``#`` comment, kept for the formatter."""

    text: str
    line: int
    column: int


@dataclass(frozen=True)
class Module:
    """A parsed file: its statements in order, its comments, its name and text."""

    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...]
    file: str
    text: str
