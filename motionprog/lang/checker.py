"""The checker: AST -> typed IR plus diagnostics (names, arity, types, units, time windows).

A separate pass from parsing. It resolves joints, aliases, groups, scene objects, ``let``
bindings and user functions (expanded at each call, recursion is an error), converts units to
SI, checks dimensions, turns time selectors into frame lists, and builds scene geometry.
An error abandons only the statement it is in, so one run reports every broken statement.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from dataclasses import dataclass, fields, is_dataclass, replace

from motionprog import geometry
from motionprog.body.skeleton import ALIASES, FPS, GROUPS, JOINT_INDEX, suggest
from motionprog.errors import InputError
from motionprog.lang import ast, ir
from motionprog.lang.builtins import COMPONENTS, FUNCTIONS, OBJECTS, PARAMETERS, PROPERTIES
from motionprog.lang.diagnostics import Diagnostic, Span, error, warning
from motionprog.lang.explain import describe
from motionprog.lang.formatter import format_statement
from motionprog.lang.imports import allowed_roots, locate_import, program_directory, quotable, refusal, unquoted
from motionprog.lang.parser import parse
from motionprog.lang.units import (
    ANGLE, DEFAULT_NEAR, DEFAULT_TOLERANCE, FALLBACK_TOLERANCE, LENGTH, NONE, TIME, UNITS, Dim,
)

DEFAULT_FRAMES = 120
"""Length of a program without a header (6 s)."""
MIN_FRAMES, MAX_FRAMES = 2, 10_000
"""Motion lengths a program may ask for (velocities need two frames); models have their own maximum."""
MAX_SEEDS = 64
"""Most seeds a program may ask for (each seed is a whole motion optimised in one batch)."""
MAX_STATEMENT_NODES = 10_000
"""Largest expanded expression of one statement: nodes after every ``def`` call and ``let`` is inlined."""
MAX_PROGRAM_NODES = 50_000
"""Largest expanded program: the sum over its statements (margins cost time per node)."""
SMOOTH_FUNCTIONS = {f.name: f for f in FUNCTIONS}
OBJECT_KINDS = {o.name: o for o in OBJECTS}
RELAX_ITEMS = ("yaw", "xz")


class _Abandon(Exception):
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


def _value(node: ir.Value, size: int, dim: Dim | None, joints: int = 1) -> Typed:
    return Typed("value", node, size, dim, joints)


def _const(values: tuple[float, ...], dim: Dim | None) -> Typed:
    return _value(ir.Const(values), len(values), dim)


def _neg(node: ir.Value) -> ir.Value:
    return ir.Const(tuple(-v for v in node.values)) if isinstance(node, ir.Const) else ir.Fn("neg", (node,))


def _arith(op: str, left: ir.Value, right: ir.Value) -> ir.Value:
    """``left op right`` with constants folded."""
    if isinstance(left, ir.Const) and isinstance(right, ir.Const) and (
            len(left.values) == len(right.values) or 1 in (len(left.values), len(right.values))):
        n = max(len(left.values), len(right.values))
        a = left.values * n if len(left.values) == 1 else left.values
        b = right.values * n if len(right.values) == 1 else right.values
        if op != "/" or all(b):
            fold = {"+": float.__add__, "-": float.__sub__, "*": float.__mul__, "/": float.__truediv__}[op]
            return ir.Const(tuple(fold(float(x), float(y)) for x, y in zip(a, b)))
    return ir.Arith(op, left, right)


class Checker:
    """Checks one program (and the files it imports). Use :func:`check`."""

    def __init__(self, frames: int | None, roots: tuple[Path, ...]):
        self.diagnostics: list[Diagnostic] = []
        self.roots = roots
        self.nodes = 0
        self.statement_nodes = 0
        self.statement_span: Span | None = None
        self.sizes: dict[int, tuple[object, int]] = {}
        self.frames_override = frames
        self.frames = frames or DEFAULT_FRAMES
        self.objects: dict[str, object] = {}
        self.kinds: dict[str, str] = {}
        self.lets: dict[str, Typed] = {}
        self.defs: dict[str, ast.Def] = {}
        self.defined: dict[str, Span] = {}
        self.labels: set[str] = set()
        self.broken: set[str] = set()
        self.calls: list[str] = []
        self.loading: list[str] = []
        self.loaded: set[str] = set()

    # ---- reporting
    def fail(self, code: str, message: str, span: Span | None, help: str | None = None) -> _Abandon:
        self.diagnostics.append(error(code, message, span, help))
        return _Abandon()

    def _did_you_mean(self, name: str, candidates) -> str | None:
        hint = suggest(name, sorted(candidates))
        return f"did you mean '{hint}'?" if hint else None

    # ---- program
    def program(self, module: ast.Module) -> ir.Program | None:
        statements = module.statements
        if not statements:
            self.fail("E103", "the program is empty", Span(module.file, 1, 1, 1, 2, ""),
                      help='start with a header such as: motion "a person walks" for 4 s')
            return None
        headers = [s for s in statements if isinstance(s, ast.Header)]
        header = self._header(headers)
        relax = self._relax([s for s in statements if isinstance(s, ast.Relax)])
        self._definitions(module)
        constraints = []
        for statement in statements:
            try:
                if isinstance(statement, ast.Scene):
                    self._scene(statement, module.file)
                elif isinstance(statement, ast.Let):
                    self._let(statement)
                elif isinstance(statement, (ast.Constraint, ast.Objective)):
                    constraints.append(self._constraint(statement))
            except _Abandon:
                continue
        prompt, seeds, model = header
        scene = tuple(self.objects.items())
        return ir.Program(prompt, self.frames, FPS, seeds, model, relax, scene, tuple(constraints))

    def _header(self, headers: list[ast.Header]) -> tuple[str, int, str | None]:
        for extra in headers[1:]:
            self.diagnostics.append(error("E210", "a program has one 'motion' header", extra.span))
        if not headers:
            return "", 1, None
        header = headers[0]
        seeds = 1
        try:
            if header.length is not None and self.frames_override is None:
                seconds = self._time_quantity(header.length, allow_percent=False)
                self.frames = round(seconds * FPS)
                if not MIN_FRAMES <= self.frames <= MAX_FRAMES:
                    self.frames = DEFAULT_FRAMES
                    raise self.fail("E210", f"the motion length must be {MIN_FRAMES} to {MAX_FRAMES} frames "
                                    f"({MIN_FRAMES / FPS:g} s to {MAX_FRAMES / FPS:g} s)", header.length.span)
            if header.seeds is not None:
                seeds = int(self._finite(header.seeds))
                if seeds != header.seeds.value or not 1 <= seeds <= MAX_SEEDS:
                    seeds = 1
                    raise self.fail("E210", f"seeds must be a whole number from 1 to {MAX_SEEDS}",
                                    header.seeds.span)
        except _Abandon:
            pass
        return header.prompt, seeds, header.model

    def _relax(self, statements: list[ast.Relax]) -> tuple[str, ...]:
        items: list[str] = []
        for statement in statements:
            for item in statement.items:
                if item not in RELAX_ITEMS:
                    self.diagnostics.append(error(
                        "E210", f"cannot relax '{item}'; relaxed goals free 'yaw' and 'xz'",
                        statement.span, self._did_you_mean(item, RELAX_ITEMS)))
                elif item not in items:
                    items.append(item)
        return tuple(items)

    # ---- names
    def _claim(self, name: str, span: Span) -> None:
        """Register a new top-level name; duplicates and shadowed built-ins are errors."""
        builtin = (name in JOINT_INDEX or name in ALIASES or name in GROUPS or name in ("com", "facing")
                   or name in SMOOTH_FUNCTIONS or name in OBJECT_KINDS)
        if builtin:
            raise self.fail("E207", f"'{name}' is a built-in name and cannot be redefined", span)
        if name in self.defined:
            first = self.defined[name]
            raise self.fail("E207", f"'{name}' is already defined at line {first.line}"
                            + (f" of {first.file}" if first.file != span.file else ""), span)
        self.defined[name] = span

    def _definitions(self, module: ast.Module) -> None:
        """Imports and ``def``s first: functions may be used before their definition."""
        for statement in module.statements:
            try:
                if isinstance(statement, ast.Import):
                    self._import(statement, module.file)
                elif isinstance(statement, ast.Def):
                    self._claim(statement.name, statement.span)
                    if len(set(statement.params)) != len(statement.params):
                        raise self.fail("E207", f"'{statement.name}' repeats a parameter name", statement.span)
                    self.defs[statement.name] = statement
            except _Abandon:
                continue

    def _import(self, statement: ast.Import, importer: str) -> None:
        text, where, problem = locate_import(statement.path, importer, self.roots)
        if problem:
            raise self.fail("E209", problem, statement.span)
        if where in self.loaded or where in self.loading:
            if where in self.loading:
                raise self.fail("E209", f"import cycle: {' -> '.join([*self.loading, where])}", statement.span)
            return
        module, diagnostics = parse(text, where)
        self.diagnostics.extend(diagnostics if module or quotable(where) else unquoted(diagnostics, where))
        if module is None:
            raise _Abandon()
        self.loading.append(where)
        try:
            for inner in module.statements:
                if not isinstance(inner, (ast.Import, ast.Let, ast.Def)):
                    self.diagnostics.append(error(
                        "E209", "an imported file may only contain import, let and def", inner.span))
            self._definitions(module)
            for inner in module.statements:
                if isinstance(inner, ast.Let):
                    try:
                        self._let(inner)
                    except _Abandon:
                        continue
        finally:
            self.loading.pop()
        self.loaded.add(where)

    def _let(self, statement: ast.Let) -> None:
        self._start(statement.span)
        self._claim(statement.name, statement.span)
        try:
            typed = self.expr(statement.value, {})
        except _Abandon:
            self.broken.add(statement.name)
            raise
        self.lets[statement.name] = replace(typed, indices=None)

    # ---- scene
    def _scene(self, scene: ast.Scene, file: str) -> None:
        for item in scene.objects:
            try:
                self._start(item.span)
                self._claim(item.name, item.span)
                self.objects[item.name], self.kinds[item.name] = self._construct(item.call, file)
            except _Abandon:
                continue

    def _construct(self, call: ast.Call, file: str) -> tuple[object, str]:
        kind = call.function
        if kind not in OBJECT_KINDS:
            raise self.fail("E210", f"unknown scene object '{kind}'", call.name_span,
                            self._did_you_mean(kind, OBJECT_KINDS))
        names = PARAMETERS[kind]
        values: dict[str, tuple[Typed, Span]] = {}
        positional = [a for a in call.args if not isinstance(a, ast.KeywordArg)]
        if len(positional) > len(names):
            raise self.fail("E204", f"{kind}() takes at most {len(names)} arguments, got {len(positional)}", call.span)
        for name, arg in zip(names, positional):
            values[name] = (self.expr(arg, {}), arg.span)
        for arg in call.args:
            if isinstance(arg, ast.KeywordArg):
                if arg.name not in names:
                    raise self.fail("E210", f"{kind}() has no parameter '{arg.name}'", arg.span,
                                    self._did_you_mean(arg.name, names))
                if arg.name in values:
                    raise self.fail("E210", f"{kind}() got '{arg.name}' twice", arg.span)
                values[arg.name] = (self.expr(arg.value, {}), arg.span)
        required = names[:OBJECT_KINDS[kind].arity[0]]
        missing = [n for n in required if n not in values]
        if missing:
            raise self.fail("E210", f"{kind}() needs '{missing[0]}'", call.span)

        def get(name: str, size: int, dim: Dim, default=None):
            if name not in values:
                return default
            typed, span = values[name]
            if typed.kind == "string" or not isinstance(typed.ir, ir.Const):
                raise self.fail("E206", f"'{name}' of {kind}() must be a constant", span)
            if typed.size != size:
                raise self.fail("E206", f"'{name}' of {kind}() must be "
                                + ("a number" if size == 1 else f"a {size}-vector"), span)
            self._unify(typed.dim, dim, span, f"'{name}' of {kind}()")
            return typed.ir.values[0] if size == 1 else typed.ir.values

        def degrees(values):
            return tuple(math.degrees(v) for v in values)

        try:
            if kind == "point":
                return geometry.Point((get("x", 1, LENGTH), get("y", 1, LENGTH), get("z", 1, LENGTH))), kind
            if kind == "line":
                return geometry.Line(get("a", 3, LENGTH), get("b", 3, LENGTH)), kind
            if kind == "plane":
                return geometry.Plane(get("point", 3, LENGTH), get("normal", 3, NONE)), kind
            if kind == "box":
                return geometry.Box(get("center", 3, LENGTH), get("size", 3, LENGTH),
                                    geometry.rotation_matrix(degrees(get("rotation", 3, ANGLE, (0.0, 0.0, 0.0))))), kind
            if kind == "sphere":
                return geometry.Sphere(get("center", 3, LENGTH), get("radius", 1, LENGTH)), kind
            if kind == "cylinder":
                return geometry.Cylinder(get("center", 3, LENGTH), get("radius", 1, LENGTH), get("height", 1, LENGTH),
                                         geometry.rotation_matrix(degrees(get("rotation", 3, ANGLE, (0.0, 0.0, 0.0))))), kind
            return self._mesh(values, get, degrees, file, call), kind
        except InputError as exc:
            raise self.fail("E210", str(exc), call.span) from None

    def _mesh(self, values, get, degrees, file: str, call: ast.Call) -> object:
        typed, span = values["file"]
        if typed.kind != "string":
            raise self.fail("E206", "the first argument of mesh() is a file name in quotes", span)
        path = program_directory(file) / typed.text
        problem = refusal(path, self.roots)
        if problem:
            raise self.fail("E210", problem.replace("cannot find", "mesh file not found:"), span)
        return geometry.Mesh.load(path, position=get("position", 3, LENGTH, (0.0, 0.0, 0.0)),
                         rotation=degrees(get("rotation", 3, ANGLE, (0.0, 0.0, 0.0))), scale=get("scale", 1, NONE, 1.0))

    # ---- time
    def _finite(self, quantity: ast.Quantity, limit: float = 1e12) -> float:
        """The quantity's number, or E211 when it is not finite or beyond ``limit``."""
        if not abs(quantity.value) <= limit:
            raise self.fail("E211", f"the number {quantity.text} is too large", quantity.span)
        return quantity.value

    def _time_quantity(self, quantity: ast.Quantity, allow_percent: bool = True) -> float:
        """Seconds of a time quantity (bare numbers are seconds), at most 10^6 s."""
        self._finite(quantity, 1e6 if quantity.unit in (None, "s", "%") else 1e9)
        if quantity.unit == "%" and allow_percent:
            return quantity.value / 100 * (self.frames - 1) / FPS
        dim, factor = UNITS.get(quantity.unit, (TIME, 1.0)) if quantity.unit != "%" else (None, 0.0)
        if dim != TIME:
            raise self.fail("E205", f"expected a time (s, ms, frames{', %' if allow_percent else ''}), got '{quantity.text}'",
                            quantity.span)
        return quantity.value * factor

    def _instant(self, instant: ast.Instant) -> int:
        last = self.frames - 1
        if instant.kind == "start":
            return 0
        if instant.kind == "end":
            return last
        frame = round(self._time_quantity(instant.value) * FPS)
        if not 0 <= frame <= last:
            self.diagnostics.append(warning(
                "W301", f"{instant.value.text} is outside the motion (frames 0 to {last}); using frame "
                f"{min(max(frame, 0), last)}", instant.span))
        return min(max(frame, 0), last)

    def _window(self, window: ast.Window | None) -> tuple[int, ...]:
        last = self.frames - 1
        if window is None:
            return tuple(range(self.frames))
        if window.kind == "every":
            step = self._time_quantity(window.step, allow_percent=False)
            frames = max(1, round(step * FPS))
            return self._window(window.inner)[::frames]
        a = self._instant(window.a)
        if window.kind == "before":
            return tuple(range(0, a + 1))
        if window.kind == "after":
            return tuple(range(a, last + 1))
        b = self._instant(window.b)
        if b < a:
            self.diagnostics.append(warning("W301", "the window ends before it starts; it covers no frame "
                                            f"and is replaced by frame {a}", window.span))
            return (a,)
        return tuple(range(a, b + 1))

    def _time(self, time: ast.Time | None) -> tuple[str, tuple[int, ...]]:
        if time is None:
            return "always", tuple(range(self.frames))
        if time.quantifier == "at":
            return "always", tuple(sorted({self._instant(i) for i in time.instants}))
        return time.quantifier, self._window(time.window)

    # ---- statements
    def _constraint(self, statement: ast.Constraint | ast.Objective) -> ir.Constraint:
        self._start(statement.span)
        objective = isinstance(statement, ast.Objective)
        quantifier, frames = self._time(statement.time)
        name = statement.label or format_statement(replace(statement, label=None, weight=None))
        if statement.label:
            if statement.label in self.labels:
                raise self.fail("E207", f"a constraint named '{statement.label}' already exists", statement.span)
            self.labels.add(statement.label)
        weight = 1.0
        if statement.weight is not None:
            weight = self._finite(statement.weight)
            if not weight > 0 or not math.isfinite(weight):
                raise self.fail("E210", "a weight must be a positive number", statement.weight.span)
        when = None
        if statement.when is not None:
            when = self._predicate(statement.when, {}).ir
        if objective:
            typed = self.expr(statement.value, {})
            if typed.kind != "value" or typed.size != 1:
                raise self.fail("E206", f"{statement.goal} needs a number, such as pelvis.y or speed(pelvis)",
                                statement.value.span)
            body = typed.ir if statement.goal == "maximize" else _neg(typed.ir)
            kind, hard, quantifier = "objective", False, "mean"
        else:
            typed = self._predicate(statement.predicate, {})
            body, kind, hard = typed.ir, "constraint", statement.strength != "soft"
        unit = typed.dim.symbol() if typed.dim is not None else ("1" if objective else "mixed")
        if not _uses_body(body):
            self.diagnostics.append(warning("W302", "this does not depend on the motion, so the optimizer "
                                            "cannot change it", statement.span))
        return ir.Constraint(name, kind, hard, weight, unit, quantifier, frames, body, when,
                             source=f"{statement.span.file}:{statement.span.line}",
                             description=describe(statement, frames, self.frames, self.defs))

    def _predicate(self, node: ast.Expr, env: dict[str, Typed]) -> Typed:
        typed = self.expr(node, env)
        if typed.kind != "predicate":
            raise self.fail("E206", "expected a condition (a comparison such as head.y < 1 m), got a "
                            + typed.kind, node.span)
        return typed

    # ---- expressions
    def _unify(self, a: Dim | None, b: Dim | None, span: Span, what: str) -> Dim | None:
        if a is None or b is None or a == b:
            return a if a is not None else b
        raise self.fail("E205", f"unit mismatch in {what}: {a.symbol()} and {b.symbol()}", span)

    def _joints(self, a: Typed, b: Typed, span: Span) -> int:
        if a.joints == 1 or b.joints == 1 or a.joints == b.joints:
            return max(a.joints, b.joints)
        raise self.fail("E206", f"cannot combine groups of {a.joints} and {b.joints} joints", span)

    def _need_value(self, typed: Typed, span: Span, what: str, sizes: tuple[int, ...] = (1, 2, 3)) -> Typed:
        if typed.kind != "value":
            raise self.fail("E206", f"{what} needs a value, got a {typed.kind}", span)
        if typed.size not in sizes:
            shape = " or ".join("a number" if s == 1 else f"a {s}-vector" for s in sizes)
            raise self.fail("E206", f"{what} needs {shape}, got " + ("a number" if typed.size == 1 else f"a {typed.size}-vector"), span)
        return typed

    def _need_object(self, typed: Typed, span: Span, what: str) -> str:
        if typed.obj is None:
            raise self.fail("E206", f"{what} needs a scene object", span)
        return typed.obj

    def _start(self, span: Span) -> None:
        """A new top-level statement: its expansion budget starts at zero."""
        self.statement_nodes = 0
        self.statement_span = span
        if self.nodes > MAX_PROGRAM_NODES:
            raise _Abandon()

    def _charge(self, nodes: int) -> None:
        """Count ``nodes`` of expanded expression; E212 past the statement's or the program's limit."""
        self.statement_nodes += nodes
        self.nodes += nodes
        if self.statement_nodes > MAX_STATEMENT_NODES:
            raise self.fail("E212", f"this statement expands to more than {MAX_STATEMENT_NODES} nodes once its "
                            "def calls and lets are inlined", self.statement_span,
                            "a def or let that uses another one twice doubles its size at each level")
        if self.nodes > MAX_PROGRAM_NODES:
            raise self.fail("E212", f"the program expands to more than {MAX_PROGRAM_NODES} nodes once its def "
                            "calls and lets are inlined", self.statement_span)

    def _ir_size(self, node: object) -> int:
        """Nodes of an IR tree, a shared subtree counted at each use (what evaluation walks)."""
        known = self.sizes.get(id(node))
        if known is None:
            known = (node, 1 + sum(self._ir_size(child) for child in _children(node)))
            self.sizes[id(node)] = known
        return known[1]

    def expr(self, node: ast.Expr, env: dict[str, Typed]) -> Typed:
        """Check an expression; ``env`` binds user-function parameters."""
        self._charge(1)
        method = getattr(self, f"_expr_{type(node).__name__.lower()}", None)
        if method is None:
            raise self.fail("E206", "a call argument 'name = value' is only allowed in scene objects", node.span)
        return method(node, env)

    def _expr_quantity(self, node: ast.Quantity, env) -> Typed:
        if node.unit is None:
            return _const((self._finite(node),), None)
        if node.unit == "%":
            raise self.fail("E205", "'%' is only allowed in time instants such as 'at 50 %'", node.span)
        dim, factor = UNITS[node.unit]
        return _const((self._finite(node) * factor,), dim)

    def _expr_string(self, node: ast.String, env) -> Typed:
        return Typed("string", text=node.value)

    def _expr_name(self, node: ast.Name, env) -> Typed:
        name = node.name
        if name in self.broken and name not in env:
            raise _Abandon()  # its definition already reported an error
        bound = env.get(name) or self.lets.get(name)
        if bound is not None:
            self._charge(self._ir_size(bound.ir) if bound.ir is not None else 0)
            return bound
        if name in self.objects:
            if self.kinds[name] == "point":
                return replace(_const(self.objects[name].position, LENGTH), obj=name)
            return Typed("object", obj=name)
        canonical = ALIASES.get(name, name)
        if canonical in JOINT_INDEX:
            index = (JOINT_INDEX[canonical],)
            return replace(_value(ir.Joints(index), 3, LENGTH), indices=index)
        if name in GROUPS:
            indices = GROUPS[name]
            return replace(_value(ir.Joints(indices), 3, LENGTH, len(indices)), indices=indices)
        if name == "com":
            return _value(ir.Com(), 3, LENGTH)
        if name == "facing":
            return _value(ir.Facing(), 3, NONE)
        known = [*JOINT_INDEX, *ALIASES, *GROUPS, "com", "facing", *self.objects, *self.lets, *env]
        what = "joint" if name.startswith(("left", "right")) or "_" in name else "name"
        raise self.fail("E201", f"unknown {what} '{name}'", node.span, self._did_you_mean(name, known))

    def _expr_attr(self, node: ast.Attr, env) -> Typed:
        base = self.expr(node.value, env)
        if base.obj is not None and node.name in PROPERTIES[self.kinds[base.obj]]:
            value = getattr(self.objects[base.obj], node.name)
            values = tuple(float(v) for v in value) if isinstance(value, (tuple, list)) else (float(value),)
            return _const(values, NONE if node.name == "normal" else LENGTH)
        if node.name in COMPONENTS and base.kind == "value" and base.size in (2, 3):
            axes = COMPONENTS[node.name]
            if base.size == 2:
                if node.name not in ("x", "z"):
                    raise self.fail("E203", f"a 2-vector (x, z) has components .x and .z, not .{node.name}", node.span)
                axes = (0,) if node.name == "x" else (1,)
            if isinstance(base.ir, ir.Const):
                return replace(_const(tuple(base.ir.values[a] for a in axes), base.dim), joints=base.joints)
            return _value(ir.Component(base.ir, axes), len(axes), base.dim, base.joints)
        candidates = list(COMPONENTS) + (list(PROPERTIES[self.kinds[base.obj]]) if base.obj else [])
        what = f"object '{base.obj}'" if base.obj else f"this {base.kind}"
        raise self.fail("E203", f"{what} has no property or component '.{node.name}'", node.span,
                        self._did_you_mean(node.name, candidates))

    def _expr_vector(self, node: ast.Vector, env) -> Typed:
        if len(node.items) > 3:
            raise self.fail("E206", "vectors have 2 (x, z) or 3 (x, y, z) components", node.span)
        items = [self._need_value(self.expr(item, env), item.span, "a vector component", (1,)) for item in node.items]
        dim = None
        joints = 1
        for item, source in zip(items, node.items):
            dim = self._unify(dim, item.dim, source.span, "a vector")
            joints = self._joints(replace(item, joints=joints), item, source.span)
        if all(isinstance(i.ir, ir.Const) for i in items):
            return _const(tuple(i.ir.values[0] for i in items), dim)
        return _value(ir.Fn("stack", tuple(i.ir for i in items)), len(items), dim, joints)

    def _expr_unary(self, node: ast.Unary, env) -> Typed:
        operand = self.expr(node.operand, env)
        if node.op == "not":
            operand = self._predicate(node.operand, env) if operand.kind != "predicate" else operand
            return replace(operand, ir=ir.Not(operand.ir))
        self._need_value(operand, node.operand.span, "'-'")
        return replace(operand, ir=_neg(operand.ir), indices=None, obj=None)

    def _expr_binary(self, node: ast.Binary, env) -> Typed:
        if node.op in ("and", "or", "implies"):
            left, right = self._predicate(node.left, env), self._predicate(node.right, env)
            a = ir.Not(left.ir) if node.op == "implies" else left.ir
            op = "and" if node.op == "and" else "or"
            operands = tuple(x for p in (a, right.ir)
                             for x in (p.operands if isinstance(p, ir.Logic) and p.op == op else (p,)))
            dim = left.dim if left.dim == right.dim else None
            return Typed("predicate", ir.Logic(op, operands), dim=dim)
        left = self._need_value(self.expr(node.left, env), node.left.span, f"'{node.op}'")
        right = self._need_value(self.expr(node.right, env), node.right.span, f"'{node.op}'")
        joints = self._joints(left, right, node.span)
        if node.op in "+-":
            if left.size != right.size:
                raise self.fail("E206", f"cannot {'add' if node.op == '+' else 'subtract'} a {left.size}-vector "
                                f"and a {right.size}-vector" if min(left.size, right.size) > 1 else
                                f"'{node.op}' needs two numbers or two vectors of the same size", node.span)
            dim = self._unify(left.dim, right.dim, node.span, f"'{node.op}'")
            return _value(_arith(node.op, left.ir, right.ir), left.size, dim, joints)
        if left.size > 1 and right.size > 1:
            raise self.fail("E206", f"'{node.op}' needs a number on one side", node.span)
        if node.op == "/" and right.size > 1:
            raise self.fail("E206", "cannot divide by a vector", node.span)
        if left.dim is None and right.dim is None:
            dim = None
        else:
            a, b = left.dim or NONE, right.dim or NONE
            dim = a * b if node.op == "*" else a / b
        return _value(_arith(node.op, left.ir, right.ir), max(left.size, right.size), dim, joints)

    def _margin(self, margin: ir.Value, dim: Dim | None) -> Typed:
        return Typed("predicate", ir.Atom(margin), dim=dim or NONE)

    def _expr_relation(self, node: ast.Relation, env) -> Typed:
        left = self.expr(node.left, env)
        right = self.expr(node.right, env)
        op = node.op
        if op in ("inside", "outside", "above", "below"):
            self._need_value(left, node.left.span, f"'{op}'", (3,))
            self._unify(left.dim, LENGTH, node.left.span, f"'{op}'")
            obj = self._need_object(right, node.right.span, f"'{op}'")
            kind = self.kinds[obj]
            if op in ("inside", "outside"):
                if kind in ("point", "line", "plane"):
                    raise self.fail("E206", f"a {kind} has no inside; use 'near', 'above' or 'below'", node.right.span)
                distance = ir.SignedDistance(obj, left.ir)
                return self._margin(_neg(distance) if op == "inside" else distance, LENGTH)
            if kind == "plane":
                distance = ir.SignedDistance(obj, left.ir)
                return self._margin(distance if op == "above" else _neg(distance), LENGTH)
            if "top" not in PROPERTIES[kind]:
                raise self.fail("E206", f"'{op}' needs an object with a top and bottom (box, sphere, cylinder, "
                                "mesh) or a plane", node.right.span)
            height = ir.Component(left.ir, (1,))
            obj_value = self.objects[obj]
            if op == "above":
                return self._margin(_arith("-", height, ir.Const((float(obj_value.top),))), LENGTH)
            return self._margin(_arith("-", ir.Const((float(obj_value.bottom),)), height), LENGTH)
        if op == "near":
            self._need_value(left, node.left.span, "'near'", (2, 3))
            tolerance = self._tolerance(node.extra, env, LENGTH, DEFAULT_NEAR)
            return self._margin(_arith("-", tolerance, self._distance(left, right, node).ir), LENGTH)
        self._need_value(left, node.left.span, f"'{op}'")
        self._need_value(right, node.right.span, f"'{op}'")
        if op != "==" and max(left.size, right.size) > 1:
            raise self.fail("E206", f"'{op}' compares numbers; pick a component such as .y, or use '=='",
                            node.span)
        self._joints(left, right, node.span)
        dim = self._unify(left.dim, right.dim, node.span, f"'{op}'")
        if left.size != right.size:
            raise self.fail("E206", f"'{op}' compares values of the same size, got {left.size} and {right.size} "
                            "components", node.span)
        if op == "==":
            default = DEFAULT_TOLERANCE.get(dim, FALLBACK_TOLERANCE)
            tolerance = self._tolerance(node.extra, env, dim, default)
            difference = _arith("-", left.ir, right.ir)
            error_size = ir.Fn("norm" if left.size > 1 else "abs", (difference,))
            return self._margin(_arith("-", tolerance, error_size), dim)
        if op in ("<", "<="):
            return self._margin(_arith("-", right.ir, left.ir), dim)
        return self._margin(_arith("-", left.ir, right.ir), dim)

    def _tolerance(self, extra: ast.Expr | None, env, dim: Dim | None, default: float) -> ir.Value:
        if extra is None:
            return ir.Const((default,))
        tolerance = self._need_value(self.expr(extra, env), extra.span, "'within'", (1,))
        self._unify(tolerance.dim, dim, extra.span, "the tolerance")
        return tolerance.ir

    def _expr_inrange(self, node: ast.InRange, env) -> Typed:
        value = self._need_value(self.expr(node.value, env), node.value.span, "'in'")
        low = self._need_value(self.expr(node.low, env), node.low.span, "'in'")
        high = self._need_value(self.expr(node.high, env), node.high.span, "'in'")
        dim = self._unify(self._unify(value.dim, low.dim, node.low.span, "'in'"), high.dim, node.high.span, "'in'")
        if not low.size == high.size == value.size:
            raise self.fail("E206", f"the range of a {value.size}-component value needs bounds of the same size",
                            node.span)
        margin = ir.Fn("min", (_arith("-", value.ir, low.ir), _arith("-", high.ir, value.ir)))
        if value.size > 1:
            margin = ir.Fn("min_components", (margin,))
        return self._margin(margin, dim)

    def _distance(self, a: Typed, b: Typed, node) -> Typed:
        """distance(a, b): two positions of one size, or a 3-position and an object."""
        if b.kind == "object" or (b.obj is not None and a.obj is None and a.kind == "value" and a.size == 3
                                  and self.kinds[b.obj] != "point"):
            a, b = b, a
        if a.kind == "object":
            self._need_value(b, node.span, "distance to an object", (3,))
            self._unify(b.dim, LENGTH, node.span, "distance")
            return _value(ir.SignedDistance(a.obj, b.ir), 1, LENGTH, b.joints)
        self._need_value(a, node.span, "distance", (2, 3))
        self._need_value(b, node.span, "distance", (2, 3))
        if a.size != b.size:
            raise self.fail("E206", f"distance between a {a.size}-vector and a {b.size}-vector; use .xz on both "
                            "or on neither", node.span)
        dim = self._unify(a.dim, b.dim, node.span, "distance")
        return _value(ir.Fn("distance", (a.ir, b.ir)), 1, dim if dim is not None else LENGTH, self._joints(a, b, node.span))

    def _expr_call(self, node: ast.Call, env) -> Typed:
        name = node.function
        if name in self.defs:
            return self._user_call(node, env)
        if name in OBJECT_KINDS:
            raise self.fail("E206", f"{name}(...) makes a scene object; define it inside 'scene {{ }}'", node.span)
        if name not in SMOOTH_FUNCTIONS:
            raise self.fail("E202", f"unknown function '{name}'", node.name_span,
                            self._did_you_mean(name, [*SMOOTH_FUNCTIONS, *self.defs]))
        fewest, most = SMOOTH_FUNCTIONS[name].arity
        if not fewest <= len(node.args) <= (most if most >= 0 else len(node.args)):
            expected = str(fewest) if fewest == most else f"{fewest} or more" if most < 0 else f"{fewest} to {most}"
            raise self.fail("E204", f"{name}() takes {expected} argument{'s' if expected != '1' else ''}, "
                            f"got {len(node.args)}", node.span, f"signature: {SMOOTH_FUNCTIONS[name].signature}")
        args = [self.expr(arg, env) for arg in node.args]
        return getattr(self, f"_call_{name}")(node, args)

    def _user_call(self, node: ast.Call, env) -> Typed:
        definition = self.defs[node.function]
        if node.function in self.calls:
            chain = " -> ".join([*self.calls[self.calls.index(node.function):], node.function])
            raise self.fail("E208", f"recursive function '{node.function}' ({chain})", node.span,
                            "a function cannot call itself, directly or through others")
        if len(node.args) != len(definition.params):
            raise self.fail("E204", f"{node.function}() takes {len(definition.params)} argument"
                            f"{'s' if len(definition.params) != 1 else ''}, got {len(node.args)}", node.span,
                            f"defined at {definition.span.location()}")
        bound = {param: self.expr(arg, env) for param, arg in zip(definition.params, node.args)}
        self.calls.append(node.function)
        try:
            return self.expr(definition.body, bound)
        finally:
            self.calls.pop()

    # ---- built-in functions (arity already checked)
    def _call_distance(self, node, args) -> Typed:
        return self._distance(args[0], args[1], node)

    def _positions(self, node, args, what: str) -> tuple[Typed, Typed, Dim | None]:
        a = self._need_value(args[0], node.args[0].span, what, (2, 3))
        b = self._need_value(args[1], node.args[1].span, what, (a.size,))
        return a, b, self._unify(a.dim, b.dim, node.span, what)

    def _call_midpoint(self, node, args) -> Typed:
        a, b, dim = self._positions(node, args, "midpoint")
        return _value(ir.Fn("midpoint", (a.ir, b.ir)), a.size, dim, self._joints(a, b, node.span))

    def _call_direction(self, node, args) -> Typed:
        a, b, _ = self._positions(node, args, "direction")
        return _value(ir.Fn("direction", (a.ir, b.ir)), a.size, NONE, self._joints(a, b, node.span))

    def _call_angle(self, node, args) -> Typed:
        a, b, _ = self._positions(node, args, "angle")
        return _value(ir.Fn("angle", (a.ir, b.ir)), 1, ANGLE, self._joints(a, b, node.span))

    def _derivative(self, node, args, name: str, order: int) -> Typed:
        x = self._need_value(args[0], node.args[0].span, name)
        dim = (x.dim or LENGTH) / Dim(time=order)
        size = 1 if name == "speed" else x.size
        return _value(ir.Fn(name, (x.ir,)), size, dim, x.joints)

    def _call_velocity(self, node, args) -> Typed:
        return self._derivative(node, args, "velocity", 1)

    def _call_speed(self, node, args) -> Typed:
        return self._derivative(node, args, "speed", 1)

    def _call_acceleration(self, node, args) -> Typed:
        return self._derivative(node, args, "acceleration", 2)

    def _call_norm(self, node, args) -> Typed:
        x = self._need_value(args[0], node.args[0].span, "norm", (2, 3))
        return _value(ir.Fn("norm", (x.ir,)), 1, x.dim, x.joints)

    def _call_abs(self, node, args) -> Typed:
        x = self._need_value(args[0], node.args[0].span, "abs", (1,))
        return _value(ir.Fn("abs", (x.ir,)), 1, x.dim, x.joints)

    def _extremum(self, node, args, name: str) -> Typed:
        values = [self._need_value(a, s.span, name, (1,)) for a, s in zip(args, node.args)]
        if len(values) == 1:
            return _value(ir.Aggregate(name, values[0].ir), 1, values[0].dim, values[0].joints)
        dim, joints = None, 1
        for value, source in zip(values, node.args):
            dim = self._unify(dim, value.dim, source.span, f"{name}()")
            joints = self._joints(replace(value, joints=joints), value, source.span)
        return _value(ir.Fn(name, tuple(v.ir for v in values)), 1, dim, joints)

    def _call_min(self, node, args) -> Typed:
        return self._extremum(node, args, "min")

    def _call_max(self, node, args) -> Typed:
        return self._extremum(node, args, "max")

    def _call_mean(self, node, args) -> Typed:
        return self._extremum(node, args, "mean")

    def _call_collide(self, node, args) -> Typed:
        part, target = args
        if part.indices is None:
            raise self.fail("E206", "the first argument of collide() is 'body', a group or a joint", node.args[0].span)
        obj = self._need_object(target, node.args[1].span, "collide()")
        return Typed("predicate", ir.Collide(part.indices, obj), dim=LENGTH)


def _children(node: object) -> list[object]:
    """The IR nodes directly below ``node``."""
    values = [getattr(node, f.name) for f in fields(node)] if is_dataclass(node) else []
    return [c for value in values for c in (value if isinstance(value, tuple) else (value,)) if is_dataclass(c)]


def _uses_body(node) -> bool:
    """Whether an IR node reads the joints (directly or through com, facing, collide)."""
    if isinstance(node, (ir.Joints, ir.Com, ir.Facing, ir.Collide)):
        return True
    return any(_uses_body(child) for child in _children(node))


def check(module: ast.Module, frames: int | None = None, allow_paths: Iterable[str | os.PathLike] = ()
          ) -> tuple[ir.Program | None, list[Diagnostic]]:
    """Check a parsed module; returns (IR or None when there are errors, diagnostics).

    ``allow_paths``: directories outside the program's own from which it may import and load meshes.
    """
    checker = Checker(frames, allowed_roots(module.file, allow_paths))
    if frames is not None and not MIN_FRAMES <= frames <= MAX_FRAMES:
        checker.diagnostics.append(error("E210", f"the motion length must be {MIN_FRAMES} to {MAX_FRAMES} "
                                         f"frames, got {frames}", None))
        return None, checker.diagnostics
    try:
        program = checker.program(module)
    except RecursionError:
        checker.diagnostics.append(error("E102", "the program nests too deeply", None))
        return None, checker.diagnostics
    failed = any(d.level == "error" for d in checker.diagnostics)
    return (None if failed else program), checker.diagnostics
