"""Plain-words descriptions of constraints: ``motionprog explain`` and ``ConstraintInfo.description``."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace

from motionprog.body.skeleton import FPS
from motionprog.lang import ast, ir
from motionprog.lang.formatter import format_expr

RELATION_WORDS = {
    "<": "is below", "<=": "is at most", ">": "is above", ">=": "is at least",
    "inside": "is inside", "outside": "is outside", "above": "is above", "below": "is below",
}


MAX_EXPANSION = 3
"""How many levels of user-function calls a description spells out."""


def substitute(node, bindings: dict[str, ast.Expr]):
    """``node`` with every ``Name`` bound in ``bindings`` replaced (a user function's body at a call)."""
    if isinstance(node, ast.Name):
        return bindings.get(node.name, node)
    if isinstance(node, tuple):
        return tuple(substitute(item, bindings) for item in node)
    if not is_dataclass(node):
        return node
    changes = {f.name: substitute(getattr(node, f.name), bindings) for f in fields(node) if f.name != "span"}
    return replace(node, **changes)


def _chain(node: ast.Expr, op: str) -> list[ast.Expr]:
    """The operands of a chain of one logical operator: ``a and b and c`` -> [a, b, c]."""
    if isinstance(node, ast.Binary) and node.op == op:
        return _chain(node.left, op) + _chain(node.right, op)
    return [node]


def phrase(node: ast.Expr, defs: dict[str, ast.Def] | None = None, depth: int = 0) -> str:
    """A predicate in words: ``head.y is below bar.bottom - 10 cm``; calls of user functions
    (``defs``) are spelled out, ``MAX_EXPANSION`` levels deep."""
    defs = defs or {}
    if isinstance(node, ast.Binary) and node.op == "implies":
        return f"if {phrase(node.left, defs, depth)}, then {phrase(node.right, defs, depth)}"
    if isinstance(node, ast.Binary) and node.op in ("and", "or"):
        parts = [phrase(p, defs, depth) for p in _chain(node, node.op)]
        if len(parts) == 2:
            return f"{'both' if node.op == 'and' else 'either'} {parts[0]} {node.op} {parts[1]}"
        return f"{'all' if node.op == 'and' else 'at least one'} of: {'; '.join(parts)}"
    if isinstance(node, ast.Unary) and node.op == "not":
        return f"it is not the case that {phrase(node.operand, defs, depth)}"
    if isinstance(node, ast.Call) and node.function in defs and depth < MAX_EXPANSION:
        definition = defs[node.function]
        body = substitute(definition.body, dict(zip(definition.params, node.args)))
        return f"{format_expr(node)} ({phrase(body, defs, depth + 1)})"
    if isinstance(node, ast.Relation):
        left, right = format_expr(node.left), format_expr(node.right)
        if node.op == "==":
            within = f" within {format_expr(node.extra)}" if node.extra is not None else " (default tolerance)"
            return f"{left} equals {right}{within}"
        if node.op == "near":
            within = format_expr(node.extra) if node.extra is not None else "5 cm"
            return f"{left} is within {within} of {right}"
        return f"{left} {RELATION_WORDS[node.op]} {right}"
    if isinstance(node, ast.InRange):
        return f"{format_expr(node.value)} is between {format_expr(node.low)} and {format_expr(node.high)}"
    if isinstance(node, ast.Call) and node.function == "collide":
        return f"{format_expr(node.args[0])} touches {format_expr(node.args[1])}"
    return format_expr(node)


def window_words(quantifier: str, frames: tuple[int, ...], total: int) -> str:
    """``at every frame``, ``at some frame from 1.00 s to 3.00 s``, ``at frames 0, 40``."""
    if not frames:
        return "at no frame"
    some = quantifier == "eventually"
    which = "some frame" if some else "every frame"
    if len(frames) == total:
        return "averaged over the whole motion" if quantifier == "mean" else f"at {which} of the motion"
    step = frames[1] - frames[0] if len(frames) > 1 else 1
    contiguous = all(b - a == step for a, b in zip(frames, frames[1:]))
    if len(frames) <= 4 or not contiguous:
        listed = ", ".join(f"{f} ({f / FPS:.2f} s)" for f in frames[:8]) + (" ..." if len(frames) > 8 else "")
        return f"at {'one of ' if some else ''}frame{'s' if len(frames) > 1 else ''} {listed}"
    every = f"every {step}th frame" if step > 1 and not some else which
    span = f"from {frames[0] / FPS:.2f} s to {frames[-1] / FPS:.2f} s"
    return f"averaged over the frames {span}" if quantifier == "mean" else f"at {every} {span}"


def prompt_words(program: ir.Program) -> str:
    """The prompt, or each part's prompt with its stretch of the timeline:
    ``"walks" for 6 s (frames 0-119), then "sits down" for 4 s (frames 120-199)``."""
    if not program.parts:
        return f'"{program.prompt}"'
    return ", then ".join(f'"{part.prompt}" for {part.frames / FPS:g} s (frames {part.start}-'
                          f'{part.start + part.frames - 1})' for part in program.parts)


def relax_words(relax: ir.Relax) -> str:
    """``holds up to a turn about Y and a shift along the ground`` (what a relaxed program frees)."""
    turn = ""
    if relax.yaw:
        through = "" if relax.pivot == (0.0, 0.0) else f" through ({relax.pivot[0]:g}, {relax.pivot[1]:g})"
        turn = f"a turn about Y{through}"
    shift = "a shift along the ground" if relax.xz else ""
    return "holds up to " + " and ".join(part for part in (turn, shift) if part)


def keep_words(changes: tuple[int, ...]) -> str:
    """``keeps the input motion outside 2.00 s .. 4.00 s`` (an edit's ``keep``)."""
    return f"keeps the input motion outside {changes[0] / FPS:.2f} s .. {changes[-1] / FPS:.2f} s"


def describe(statement: ast.Constraint | ast.Objective, frames: tuple[int, ...], total: int,
             defs: dict[str, ast.Def] | None = None) -> str:
    """One sentence for a constraint or objective (window resolved to frames; ``defs`` the
    user functions in scope, spelled out in the sentence)."""
    if isinstance(statement, ast.Objective):
        what = f"{statement.goal} {format_expr(statement.value)}"
        if statement.until is not None:
            bound = "at most" if statement.goal == "minimize" else "at least"
            what += f" until it is {bound} {format_expr(statement.until)}"
        what += f", {window_words('mean', frames, total)}"
    else:
        quantifier = statement.time.quantifier if statement.time.quantifier != "at" else "always"
        what = f"{phrase(statement.predicate, defs)}, {window_words(quantifier, frames, total)}"
    if statement.when is not None:
        what += f", whenever {phrase(statement.when, defs)}"
    return what
