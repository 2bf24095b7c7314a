"""Function calls: built-ins (units, sizes and arity checked) and user ``def``s, expanded at each
call with recursion refused (the checker's calls room).

A problem found while expanding a ``def`` is reported at the call, where the caller can fix it
(a standard library line is not theirs to change), with the line inside the ``def`` as related.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from motionprog.lang import ast, ir
from motionprog.lang.builtins import FUNCTIONS
from motionprog.lang.diagnostics import Diagnostic, Related, Span
from motionprog.lang.relations import distance
from motionprog.lang.scene import OBJECT_KINDS
from motionprog.lang.suggestions import described, function_fix, joint_angle_fix
from motionprog.lang.typed import Typed, const, value
from motionprog.lang.units import ANGLE, LENGTH, NONE, Dim

if TYPE_CHECKING:
    from motionprog.lang.checker import Checker, Env

SMOOTH_FUNCTIONS = {f.name: f for f in FUNCTIONS}


def call(c: Checker, node: ast.Call, env: Env) -> Typed:
    """Check ``function(args)``: a user function, else a built-in of the catalogue."""
    name = node.function
    if name in c.defs:
        return user_call(c, node, env)
    if name in OBJECT_KINDS:
        raise c.fail("E206", f"{name}(...) makes a scene object; define it inside 'scene {{ }}'", node.span)
    if name not in SMOOTH_FUNCTIONS:
        raise c.fail("E202", f"unknown function '{name}'", node.name_span,
                     *function_fix(node, c.defs, SMOOTH_FUNCTIONS))
    fewest, most = SMOOTH_FUNCTIONS[name].arity
    if not fewest <= len(node.args) <= (most if most >= 0 else len(node.args)):
        expected = str(fewest) if fewest == most else f"{fewest} or more" if most < 0 else f"{fewest} to {most}"
        help, hint = joint_angle_fix(node)
        raise c.fail("E204", f"{name}() takes {expected} argument{'s' if expected != '1' else ''}, "
                     f"got {len(node.args)}", node.span, help or f"signature: {SMOOTH_FUNCTIONS[name].signature}", hint)
    args = [c.expr(arg, env) for arg in node.args]
    return BUILTINS[name](c, node, args)


def user_call(c: Checker, node: ast.Call, env: Env) -> Typed:
    """A ``def`` expanded with its parameters bound to the checked arguments."""
    definition = c.defs[node.function]
    if node.function in c.calls:
        chain = " -> ".join([*c.calls[c.calls.index(node.function):], node.function])
        raise c.fail("E208", f"recursive function '{node.function}' ({chain})", node.span,
                     "a function cannot call itself, directly or through others")
    if len(node.args) != len(definition.params):
        count = len(definition.params)
        raise c.fail("E204", f"{node.function}() takes {count} argument{'s' if count != 1 else ''}, got "
                     f"{len(node.args)}", node.span, f"{described(definition)} (defined at {definition.span.location()})")
    bound = {param: c.expr(arg, env) for param, arg in zip(definition.params, node.args)}
    found = len(c.diagnostics)
    c.calls.append(node.function)
    try:
        return c.expr(definition.body, bound)
    finally:
        c.calls.pop()
        c.diagnostics[found:] = [at_call_site(d, node, definition) for d in c.diagnostics[found:]]


def at_call_site(found: Diagnostic, node: ast.Call, definition: ast.Def) -> Diagnostic:
    """A diagnostic from inside ``definition``'s body moved to the call ``node``, its place in the
    body kept as related. Recursion stays where the definitions call each other: that is the fault."""
    if found.code == "E208" or found.span is None or not _inside(found.span, definition.span):
        return found
    inside = Related(found.span, f"inside {described(definition)}")
    hint = found.hint if all(edit.span.file == node.span.file for edit in found.hint) else ()
    return replace(found, span=node.span, related=(inside, *found.related), hint=hint)


def _inside(span: Span, outer: Span) -> bool:
    """Whether ``span`` lies within ``outer`` (same file)."""
    return (span.file == outer.file and (outer.line, outer.column) <= (span.line, span.column)
            and (span.end_line, span.end_column) <= (outer.end_line, outer.end_column))


def positions(c: Checker, node: ast.Call, args: list[Typed], what: str) -> tuple[Typed, Typed, Dim | None]:
    """Two positions of one size (2 or 3) and their shared unit."""
    a = c.need_value(args[0], node.args[0].span, what, (2, 3))
    b = c.need_value(args[1], node.args[1].span, what, (a.size,))
    return a, b, c.unify(a.dim, b.dim, node.span, what)


def pair(name: str, size: Callable[[Typed], int], dim: Callable[[Dim | None], Dim | None]):
    """A built-in of two positions: ``midpoint``, ``direction``, ``angle``."""
    def check(c: Checker, node: ast.Call, args: list[Typed]) -> Typed:
        a, b, shared = positions(c, node, args, name)
        return value(ir.Fn(name, (a.ir, b.ir)), size(a), dim(shared), c.combine_joints(a, b, node.span))
    return check


def midpoint(c: Checker, node: ast.Call, args: list[Typed]) -> Typed:
    """``midpoint(a, b)``, folded when both are constants (scene points) as arithmetic is, so a
    pivot such as ``midpoint(grip_a, grip_b).xz`` is known without evaluating anything."""
    typed = pair("midpoint", lambda a: a.size, lambda dim: dim)(c, node, args)
    a, b = typed.ir.args
    if isinstance(a, ir.Const) and isinstance(b, ir.Const):
        return const(tuple((x + y) / 2 for x, y in zip(a.values, b.values)), typed.dim)
    return typed


def derivative(name: str, order: int):
    """``velocity``/``speed`` (order 1) and ``acceleration`` (order 2): unit divided by s^order."""
    def check(c: Checker, node: ast.Call, args: list[Typed]) -> Typed:
        x = c.need_value(args[0], node.args[0].span, name)
        size = 1 if name == "speed" else x.size
        return value(ir.Fn(name, (x.ir,)), size, (x.dim or LENGTH) / Dim(time=order), x.joints)
    return check


def magnitude(name: str, sizes: tuple[int, ...]):
    """``norm`` of a vector and ``abs`` of a number: the unit of the argument."""
    def check(c: Checker, node: ast.Call, args: list[Typed]) -> Typed:
        x = c.need_value(args[0], node.args[0].span, name, sizes)
        return value(ir.Fn(name, (x.ir,)), 1, x.dim, x.joints)
    return check


def extremum(name: str):
    """``min``/``max``/``mean``: over the window's frames (one argument, per component) or
    pointwise (several numbers)."""
    def check(c: Checker, node: ast.Call, args: list[Typed]) -> Typed:
        if len(args) == 1:
            x = c.need_value(args[0], node.args[0].span, name)
            return value(ir.Aggregate(name, x.ir), x.size, x.dim, x.joints)
        values = [c.need_value(a, s.span, name, (1,)) for a, s in zip(args, node.args)]
        dim, joints = None, 1
        for item, source in zip(values, node.args):
            dim = c.unify(dim, item.dim, source.span, f"{name}()")
            joints = c.combine_joints(replace(item, joints=joints), item, source.span)
        return value(ir.Fn(name, tuple(v.ir for v in values)), 1, dim, joints)
    return check


def across(name: str, op: str, sizes: tuple[int, ...]):
    """``highest``/``lowest``/``centroid``: max/min/mean over a group's joints at each frame."""
    def check(c: Checker, node: ast.Call, args: list[Typed]) -> Typed:
        x = c.need_value(args[0], node.args[0].span, f"{name}()", sizes)
        return value(ir.Across(op, x.ir), x.size, x.dim)
    return check


def collide(c: Checker, node: ast.Call, args: list[Typed]) -> Typed:
    """``collide(part, obj)``: a predicate on the body capsules of a joint, group or ``body``."""
    part, target = args
    if part.indices is None:
        raise c.fail("E206", "the first argument of collide() is 'body', a group or a joint", node.args[0].span)
    obj = c.need_object(target, node.args[1].span, "collide()")
    return Typed("predicate", ir.Collide(part.indices, obj), dim=LENGTH)


BUILTINS: dict[str, Callable[[Checker, ast.Call, list[Typed]], Typed]] = {
    "distance": lambda c, node, args: distance(c, args[0], args[1], node),
    "midpoint": midpoint,
    "direction": pair("direction", lambda a: a.size, lambda dim: NONE),
    "angle": pair("angle", lambda a: 1, lambda dim: ANGLE),
    "velocity": derivative("velocity", 1),
    "speed": derivative("speed", 1),
    "acceleration": derivative("acceleration", 2),
    "norm": magnitude("norm", (2, 3)),
    "abs": magnitude("abs", (1,)),
    "min": extremum("min"),
    "max": extremum("max"),
    "mean": extremum("mean"),
    "highest": across("highest", "max", (1,)),
    "lowest": across("lowest", "min", (1,)),
    "centroid": across("centroid", "mean", (1, 2, 3)),
    "collide": collide,
}
"""The checking rule of each built-in function of the catalogue."""
