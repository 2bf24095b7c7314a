"""Time selectors -> frame lists: instants, windows, quantifiers and ``value @ instant`` (the
checker's time room).

Instants outside the motion are clamped with a warning (W301); times are checked for their
unit (E205) and size (E211).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from motionprog.body.skeleton import FPS
from motionprog.lang import ast, ir
from motionprog.lang.diagnostics import warning
from motionprog.lang.formatter import format_instant
from motionprog.lang.typed import Typed
from motionprog.lang.units import TIME, UNITS

if TYPE_CHECKING:
    from motionprog.lang.checker import Checker, Env


def finite(c: Checker, quantity: ast.Quantity, limit: float = 1e12) -> float:
    """The quantity's number, or E211 when it is not finite or beyond ``limit``."""
    if not abs(quantity.value) <= limit:
        raise c.fail("E211", f"the number {quantity.text} is too large", quantity.span)
    return quantity.value


def time_quantity(c: Checker, quantity: ast.Quantity, allow_percent: bool = True) -> float:
    """Seconds of a time quantity (bare numbers are seconds), at most 10^6 s."""
    finite(c, quantity, 1e6 if quantity.unit in (None, "s", "%") else 1e9)
    if quantity.unit == "%" and allow_percent:
        return quantity.value / 100 * (c.frames - 1) / FPS
    dim, factor = UNITS.get(quantity.unit, (TIME, 1.0)) if quantity.unit != "%" else (None, 0.0)
    if dim != TIME:
        raise c.fail("E205", f"expected a time (s, ms, frames{', %' if allow_percent else ''}), got "
                     f"'{quantity.text}'", quantity.span)
    return quantity.value * factor


def seconds(c: Checker, node: ast.Instant) -> float:
    """The time of an instant in seconds from the first frame, before clamping.

    ``end`` is the last frame; a shift adds or subtracts a time (``%`` is a fraction of the
    motion's duration), so ``end - 1 s`` and ``start + 10 %`` are instants.
    """
    if node.kind == "start":
        return 0.0
    if node.kind == "end":
        return (c.frames - 1) / FPS
    if node.kind in ("+", "-"):
        shift = time_quantity(c, node.value)
        return seconds(c, node.base) + (shift if node.kind == "+" else -shift)
    return time_quantity(c, node.value)


def instant(c: Checker, node: ast.Instant) -> int:
    """The frame of an instant, clamped to the motion (W301 when it was outside)."""
    last = c.frames - 1
    frame = round(seconds(c, node) * FPS)
    if not 0 <= frame <= last:
        clamped = min(max(frame, 0), last)
        c.diagnostics.append(warning(
            "W301", f"{format_instant(node)} is outside the motion (frames 0 to {last}); using frame {clamped}",
            node.span))
    return min(max(frame, 0), last)


def window(c: Checker, node: ast.Window | None) -> tuple[int, ...]:
    """The frames of a window (the whole motion for None)."""
    last = c.frames - 1
    if node is None:
        return tuple(range(c.frames))
    if node.kind == "every":
        step = time_quantity(c, node.step, allow_percent=False)
        return window(c, node.inner)[::max(1, round(step * FPS))]
    a = instant(c, node.a)
    if node.kind == "before":
        return tuple(range(0, a + 1))
    if node.kind == "after":
        return tuple(range(a, last + 1))
    b = instant(c, node.b)
    if b < a:
        c.diagnostics.append(warning("W301", "the window ends before it starts; it covers no frame "
                                     f"and is replaced by frame {a}", node.span))
        return (a,)
    return tuple(range(a, b + 1))


def time(c: Checker, node: ast.Time | None) -> tuple[str, tuple[int, ...]]:
    """(quantifier, frames) of a statement's time selector (``always`` over the motion for None)."""
    if node is None:
        return "always", tuple(range(c.frames))
    if node.quantifier == "at":
        return "always", tuple(sorted({instant(c, i) for i in node.instants}))
    return node.quantifier, window(c, node.window)


def at_instant(c: Checker, node: ast.At, env: Env) -> Typed:
    """``value @ instant``: the value at that one frame, the same at every frame of the window."""
    subject = c.need_value(c.expr(node.value, env), node.value.span, "'@'")
    return replace(subject, ir=ir.At(subject.ir, instant(c, node.instant)), indices=None, obj=None)
