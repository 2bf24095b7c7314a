"""Checked expressions: the IR of an expression together with its type, size, unit and group size.

The checker's rooms (``checker``, ``calls``, ``relations``, ``windows``, ``scene``) pass these
between them; ``Abandon`` stops checking the statement at hand once its error is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from motionprog.lang import ir
from motionprog.lang.units import NONE, Dim


class Abandon(Exception):
    """An error was reported; stop checking the current statement."""


@dataclass(frozen=True)
class Typed:
    """A checked expression: its IR and type.

    kind: ``value`` (size components, dimension ``dim``, None for a bare number; ``joints``
    is the group size), ``predicate`` (dim = the margin's dimension, None when mixed),
    ``object`` (scene object ``obj``) or ``string``. ``indices`` are the joints of a plain
    joint or group name (for ``collide``).
    """

    kind: str
    ir: ir.Value | ir.Predicate | None = None
    size: int = 1
    dim: Dim | None = None
    joints: int = 1
    obj: str | None = None
    indices: tuple[int, ...] | None = None
    text: str = ""


def value(node: ir.Value, size: int, dim: Dim | None, joints: int = 1) -> Typed:
    """A value of ``size`` components."""
    return Typed("value", node, size, dim, joints)


def const(values: tuple[float, ...], dim: Dim | None) -> Typed:
    """A constant value."""
    return value(ir.Const(values), len(values), dim)


def margin(node: ir.Value, dim: Dim | None) -> Typed:
    """A relation whose per-frame margin is ``node``."""
    return Typed("predicate", ir.Atom(node), dim=dim or NONE)


def neg(node: ir.Value) -> ir.Value:
    """``-node`` with constants folded."""
    return ir.Const(tuple(-v for v in node.values)) if isinstance(node, ir.Const) else ir.Fn("neg", (node,))


FOLD = {"+": float.__add__, "-": float.__sub__, "*": float.__mul__, "/": float.__truediv__}


def arith(op: str, left: ir.Value, right: ir.Value) -> ir.Value:
    """``left op right`` with constants folded."""
    if isinstance(left, ir.Const) and isinstance(right, ir.Const) and (
            len(left.values) == len(right.values) or 1 in (len(left.values), len(right.values))):
        n = max(len(left.values), len(right.values))
        a = left.values * n if len(left.values) == 1 else left.values
        b = right.values * n if len(right.values) == 1 else right.values
        if op != "/" or all(b):
            return ir.Const(tuple(FOLD[op](float(x), float(y)) for x, y in zip(a, b)))
    return ir.Arith(op, left, right)
