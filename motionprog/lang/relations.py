"""Relations -> margins: comparisons, ``==``/``near`` with tolerances, ranges, regions of scene
objects, and ``distance`` (the checker's relations room). docs/language.md section 4 states
each margin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from motionprog.lang import ast, ir
from motionprog.lang.builtins import PROPERTIES
from motionprog.lang.typed import Typed, arith, margin, neg, value
from motionprog.lang.units import DEFAULT_NEAR, DEFAULT_TOLERANCE, FALLBACK_TOLERANCE, LENGTH, Dim

if TYPE_CHECKING:
    from motionprog.lang.checker import Checker, Env

REGIONS = ("inside", "outside", "above", "below")


def relation(c: Checker, node: ast.Relation, env: Env) -> Typed:
    """The margin of ``left op right`` (op: comparison, ``==``, ``near`` or a region)."""
    left, right = c.expr(node.left, env), c.expr(node.right, env)
    if node.op in REGIONS:
        return region(c, node, left, right)
    if node.op == "near":
        c.need_value(left, node.left.span, "'near'", (2, 3))
        tolerance = tolerance_of(c, node.extra, env, LENGTH, DEFAULT_NEAR)
        return margin(arith("-", tolerance, distance(c, left, right, node).ir), LENGTH)
    dim = comparable(c, node, left, right)
    if node.op == "==":
        tolerance = tolerance_of(c, node.extra, env, dim, DEFAULT_TOLERANCE.get(dim, FALLBACK_TOLERANCE))
        return margin(arith("-", tolerance, error_size(left, right)), dim)
    if node.op in ("<", "<="):
        return margin(arith("-", right.ir, left.ir), dim)
    return margin(arith("-", left.ir, right.ir), dim)


def error_size(left: Typed, right: Typed) -> ir.Value:
    """``|left - right|``: the Euclidean norm for vectors."""
    difference = arith("-", left.ir, right.ir)
    return ir.Fn("norm" if left.size > 1 else "abs", (difference,))


def comparable(c: Checker, node: ast.Relation, left: Typed, right: Typed) -> Dim | None:
    """The shared unit of two values a comparison or ``==`` relates (E205/E206 otherwise)."""
    op = node.op
    c.need_value(left, node.left.span, f"'{op}'")
    c.need_value(right, node.right.span, f"'{op}'")
    if op != "==" and max(left.size, right.size) > 1:
        raise c.fail("E206", f"'{op}' compares numbers; pick a component such as .y, or use '=='", node.span)
    c.combine_joints(left, right, node.span)
    dim = c.unify(left.dim, right.dim, node.span, f"'{op}'")
    if left.size != right.size:
        raise c.fail("E206", f"'{op}' compares values of the same size, got {left.size} and {right.size} "
                     "components", node.span)
    return dim


def region(c: Checker, node: ast.Relation, left: Typed, right: Typed) -> Typed:
    """``p inside|outside|above|below obj``: signed distances and heights of scene objects."""
    op = node.op
    c.need_value(left, node.left.span, f"'{op}'", (3,))
    c.unify(left.dim, LENGTH, node.left.span, f"'{op}'")
    obj = c.need_object(right, node.right.span, f"'{op}'")
    kind = c.kinds[obj]
    if op in ("inside", "outside"):
        if kind in ("point", "line", "plane"):
            raise c.fail("E206", f"a {kind} has no inside; use 'near', 'above' or 'below'", node.right.span)
        distance_to = ir.SignedDistance(obj, left.ir)
        return margin(neg(distance_to) if op == "inside" else distance_to, LENGTH)
    if kind == "plane":
        distance_to = ir.SignedDistance(obj, left.ir)
        return margin(distance_to if op == "above" else neg(distance_to), LENGTH)
    if "top" not in PROPERTIES[kind]:
        raise c.fail("E206", f"'{op}' needs an object with a top and bottom (box, sphere, cylinder, mesh) "
                     "or a plane", node.right.span)
    height = ir.Component(left.ir, (1,))
    if op == "above":
        return margin(arith("-", height, ir.Const((float(c.objects[obj].top),))), LENGTH)
    return margin(arith("-", ir.Const((float(c.objects[obj].bottom),)), height), LENGTH)


def tolerance_of(c: Checker, extra: ast.Expr | None, env: Env, dim: Dim | None, default: float) -> ir.Value:
    """The ``within`` tolerance (in the relation's unit), or ``default``."""
    if extra is None:
        return ir.Const((default,))
    tolerance = c.need_value(c.expr(extra, env), extra.span, "'within'", (1,))
    c.unify(tolerance.dim, dim, extra.span, "the tolerance")
    return tolerance.ir


def in_range(c: Checker, node: ast.InRange, env: Env) -> Typed:
    """``value in [low, high]``: ``min(value - low, high - value)``, minimum over components."""
    subject = c.need_value(c.expr(node.value, env), node.value.span, "'in'")
    low = c.need_value(c.expr(node.low, env), node.low.span, "'in'")
    high = c.need_value(c.expr(node.high, env), node.high.span, "'in'")
    dim = c.unify(c.unify(subject.dim, low.dim, node.low.span, "'in'"), high.dim, node.high.span, "'in'")
    if not low.size == high.size == subject.size:
        raise c.fail("E206", f"the range of a {subject.size}-component value needs bounds of the same size",
                     node.span)
    body = ir.Fn("min", (arith("-", subject.ir, low.ir), arith("-", high.ir, subject.ir)))
    if subject.size > 1:
        body = ir.Fn("min_components", (body,))
    return margin(body, dim)


def distance(c: Checker, a: Typed, b: Typed, node: ast.Expr) -> Typed:
    """distance(a, b): two positions of one size, or a 3-position and an object (signed)."""
    if b.kind == "object" or (b.obj is not None and a.obj is None and a.kind == "value" and a.size == 3
                              and c.kinds[b.obj] != "point"):
        a, b = b, a
    if a.kind == "object":
        c.need_value(b, node.span, "distance to an object", (3,))
        c.unify(b.dim, LENGTH, node.span, "distance")
        return value(ir.SignedDistance(a.obj, b.ir), 1, LENGTH, b.joints)
    c.need_value(a, node.span, "distance", (2, 3))
    c.need_value(b, node.span, "distance", (2, 3))
    if a.size != b.size:
        raise c.fail("E206", f"distance between a {a.size}-vector and a {b.size}-vector; use .xz on both "
                     "or on neither", node.span)
    dim = c.unify(a.dim, b.dim, node.span, "distance")
    joints = c.combine_joints(a, b, node.span)
    return value(ir.Fn("distance", (a.ir, b.ir)), 1, dim if dim is not None else LENGTH, joints)
