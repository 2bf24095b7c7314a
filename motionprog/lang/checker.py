"""The checker: AST -> typed IR plus diagnostics (names, arity, types, units, time windows).

A separate pass from parsing. This module holds the program-level rules (header, relax,
names, ``let``, ``def``, constraints, the expansion budget) and the expression forms that
need no room of their own; the rooms are :mod:`~motionprog.lang.imports` (files and imports),
:mod:`~motionprog.lang.scene` (scene objects), :mod:`~motionprog.lang.windows` (time),
:mod:`~motionprog.lang.relations` (margins of relations) and :mod:`~motionprog.lang.calls`
(functions). An error abandons only the statement it is in, so one run reports every broken
statement.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from motionprog.body.skeleton import ALIASES, FPS, GROUPS, JOINT_INDEX, suggest
from motionprog.lang import ast, calls, imports, ir, relations, scene, windows
from motionprog.lang.builtins import COMPONENTS, PROPERTIES
from motionprog.lang.diagnostics import Diagnostic, Edit, Span, error, warning
from motionprog.lang.explain import describe
from motionprog.lang.formatter import format_statement
from motionprog.lang.parser import all_keywords
from motionprog.lang.suggestions import component_fix, name_fix
from motionprog.lang.typed import Abandon, Typed, arith, const, neg, value
from motionprog.lang.units import LENGTH, NONE, UNITS, Dim

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
RELAX_ITEMS = ("yaw", "xz")
BODY_NAMES = ("com", "facing")
INPUT = "input"
"""The motion being edited (``input.head``); only ``motionprog edit`` has one."""
EDIT_ONLY = "needs an input motion: run the program with 'motionprog edit IN PROGRAM -o OUT'"
EDIT_HELP = "check it as an edit with 'motionprog check --edit'"

Env = dict[str, Typed]
"""User-function parameters bound to checked arguments."""


class Checker:
    """Checks one program (and the files it imports). Use :func:`check`."""

    def __init__(self, frames: int | None, roots: tuple[Path, ...], editing: bool = False):
        self.diagnostics: list[Diagnostic] = []
        self.editing = editing
        self.roots = roots
        self.frames_override = frames
        self.frames = frames or DEFAULT_FRAMES
        self.parts: tuple[ir.Part, ...] = ()
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
        self.nodes = 0
        self.statement_nodes = 0
        self.statement_span: Span | None = None
        self.sizes: dict[int, tuple[object, int]] = {}

    # ---- reporting
    def fail(self, code: str, message: str, span: Span | None, help: str | None = None,
             hint: tuple[Edit, ...] = ()) -> Abandon:
        """Report an error (``hint``: the edits that apply ``help``); the caller raises the result
        to abandon the statement."""
        self.diagnostics.append(error(code, message, span, help, hint=hint))
        return Abandon()

    def did_you_mean(self, name: str, candidates: Iterable[str]) -> str | None:
        """``did you mean 'x'?`` for the closest candidate, if any is close."""
        hint = suggest(name, sorted(candidates))
        return f"did you mean '{hint}'?" if hint else None

    def attempt(self, check: Callable, *args) -> object | None:
        """Run one statement's check; an abandoned statement gives None (its error is reported)."""
        try:
            return check(*args)
        except Abandon:
            return None

    # ---- program
    def program(self, module: ast.Module) -> ir.Program | None:
        """The IR of a whole module (None when it is empty)."""
        statements = module.statements
        if not statements:
            self.fail("E103", "the program is empty", Span(module.file, 1, 1, 1, 2, ""),
                      help='start with a header such as: motion "a person walks" for 4 s')
            return None
        prompt, seeds, model = self.header([s for s in statements if isinstance(s, ast.Header)])
        self.definitions(module)
        constraints = []
        for statement in statements:
            if isinstance(statement, ast.Scene):
                scene.scene(self, statement, module.file)
            elif isinstance(statement, ast.Let):
                self.attempt(self.let, statement)
            elif isinstance(statement, (ast.Constraint, ast.Objective)):
                constraints.append((statement, self.attempt(self.constraint, statement)))
        relax = self.relax([s for s in statements if isinstance(s, ast.Relax)])
        changes = self.keep([s for s in statements if isinstance(s, ast.Keep)])
        checked = [(statement, c) for statement, c in constraints if c is not None]
        if changes is not None:
            self.warn_kept(changes, checked)
        return ir.Program(prompt, self.frames, FPS, seeds, model, relax, tuple(self.objects.items()),
                          tuple(c for _, c in checked), self.parts, changes=changes)

    def header(self, headers: list[ast.Header]) -> tuple[str, int, str | None]:
        """(prompt, seeds, model) of the one header; sets the length (E210 past the limits) and
        the parts of a header that changes its prompt with ``then``."""
        for extra in headers[1:]:
            self.diagnostics.append(error("E210", "a program has one 'motion' header", extra.span))
        if not headers:
            return "", 1, None
        header = headers[0]
        if header.then:
            self.attempt(self.parts_of, header)
        elif header.length is not None and self.frames_override is None:
            self.attempt(self.length, header.length)
        seeds = self.attempt(self.seeds, header.seeds) if header.seeds is not None else 1
        return header.prompt, seeds or 1, header.model

    def length(self, length: ast.Quantity) -> None:
        """The motion length of ``for N s`` in frames."""
        self.frames = self.bounded(round(windows.time_quantity(self, length, allow_percent=False) * FPS), length.span)

    def bounded(self, frames: int, span: Span) -> int:
        """``frames`` when it is a motion length a program may ask for (E210 otherwise)."""
        if not MIN_FRAMES <= frames <= MAX_FRAMES:
            raise self.fail("E210", f"the motion length must be {MIN_FRAMES} to {MAX_FRAMES} frames "
                            f"({MIN_FRAMES / FPS:g} s to {MAX_FRAMES / FPS:g} s)", span)
        return frames

    def parts_of(self, header: ast.Header) -> None:
        """The parts of ``motion "a" for 6 s then "b" for 4 s`` (``self.parts``, each at least
        two frames) and the motion's length, their sum (a frames override stretches them)."""
        if header.length is None:
            raise self.fail("E210", "'then' needs the length of the part before it", header.span,
                            help='motion "walks forward" for 6 s then "sits down" for 4 s')
        quantities = (header.length, *(part.length for part in header.then))
        seconds = [windows.time_quantity(self, q, allow_percent=False) for q in quantities]
        ends = [round(sum(seconds[:i + 1]) * FPS) for i in range(len(seconds))]
        total = self.bounded(ends[-1], header.span)
        if self.frames_override is not None:
            ends = [round(end * self.frames_override / total) for end in ends]
        starts = [0, *ends[:-1]]
        for quantity, start, end in zip(quantities, starts, ends):
            if end - start < MIN_FRAMES:
                raise self.fail("E210", f"each part of the motion lasts at least {MIN_FRAMES} frames", quantity.span)
        prompts = (header.prompt, *(part.prompt for part in header.then))
        self.frames = ends[-1]
        self.parts = tuple(ir.Part(p, start, end - start) for p, start, end in zip(prompts, starts, ends))

    def seeds(self, quantity: ast.Quantity) -> int:
        """The number of seeds of ``seeds N``."""
        seeds = int(windows.finite(self, quantity))
        if seeds != quantity.value or not 1 <= seeds <= MAX_SEEDS:
            raise self.fail("E210", f"seeds must be a whole number from 1 to {MAX_SEEDS}", quantity.span)
        return seeds

    def relax(self, statements: list[ast.Relax]) -> ir.Relax:
        """The placement every ``relax`` statement frees: ``yaw`` (about the origin, or the point
        named by ``about``) and ``xz``; checked after the scene, whose points may be pivots."""
        freed: set[str] = set()
        pivots: list[tuple[float, float]] = []
        for statement in statements:
            for item, about in zip(statement.items, statement.pivots or (None,) * len(statement.items)):
                if item not in RELAX_ITEMS:
                    self.diagnostics.append(error(
                        "E210", f"cannot relax '{item}'; relaxed goals free 'yaw' and 'xz'",
                        statement.span, self.did_you_mean(item, RELAX_ITEMS)))
                    continue
                freed.add(item)
                pivot = self.attempt(self.pivot, item, about, bool(pivots)) if about is not None else None
                pivots += [pivot] if pivot is not None else []
        return ir.Relax("yaw" in freed, "xz" in freed, pivots[0] if pivots else (0.0, 0.0))

    def keep(self, statements: list[ast.Keep]) -> tuple[int, ...] | None:
        """The frames the one ``keep outside a .. b`` lets change (None without one); editing only."""
        if not statements:
            return None
        for statement in statements if not self.editing else statements[1:]:
            self.diagnostics.append(error("E210", f"'keep' {EDIT_ONLY}" if not self.editing else
                                          "a program has one 'keep' statement", statement.span,
                                          EDIT_HELP if not self.editing else None))
        return windows.window(self, statements[0].window) if self.editing else None

    def warn_kept(self, changes: tuple[int, ...],
                  checked: list[tuple[ast.Constraint | ast.Objective, ir.Constraint]]) -> None:
        """W310 for each statement whose every frame ``keep`` holds to the input (the edit cannot
        change it there)."""
        free = set(changes)
        for statement, constraint in checked:
            if free.isdisjoint(constraint.frames):
                self.diagnostics.append(warning("W310", "'keep' holds the input at every frame of this statement, "
                                                "so the edit cannot change it", statement.span))

    def pivot(self, item: str, about: ast.Expr, named: bool) -> tuple[float, float]:
        """The ground point (x, z) of ``relax yaw about P``: a constant 2-vector in metres."""
        if item != "yaw":
            raise self.fail("E210", f"only 'yaw' turns about a point, not '{item}'", about.span)
        if named:
            raise self.fail("E210", "'relax yaw' names its pivot once", about.span)
        self.start(about.span)
        typed = self.need_value(self.expr(about, {}), about.span, "'about'", (2,))
        self.unify(typed.dim, LENGTH, about.span, "'about'")
        if ir.uses_body(typed.ir):
            raise self.fail("E206", "'about' needs a point fixed in the scene, such as (1, 2) or goal.xz",
                            about.span)
        if isinstance(typed.ir, ir.Const):
            return typed.ir.values
        from motionprog.lang.compiler import constant  # torch: only for a pivot that is not folded

        return constant(typed.ir, self.objects)

    # ---- names
    def unreserved(self, name: str, span: Span) -> None:
        """E207 when a name being defined (at ``span``) is a reserved word."""
        if name in reserved_words():
            raise self.fail("E207", f"'{name}' is a reserved word and cannot be a name", span,
                            f"pick another name; one that merely starts with it, such as '{name}_1', is fine")

    def claim(self, name: str, span: Span) -> None:
        """Register a new top-level name; duplicates and shadowed built-ins are errors."""
        builtin = (name in JOINT_INDEX or name in ALIASES or name in GROUPS or name in BODY_NAMES or name == INPUT
                   or name in calls.SMOOTH_FUNCTIONS or name in scene.OBJECT_KINDS)
        if builtin:
            raise self.fail("E207", f"'{name}' is a built-in name and cannot be redefined", span)
        if name in self.defined:
            first = self.defined[name]
            raise self.fail("E207", f"'{name}' is already defined at line {first.line}"
                            + (f" of {first.file}" if first.file != span.file else ""), span)
        self.defined[name] = span

    def definitions(self, module: ast.Module) -> None:
        """Imports and ``def``s first: functions may be used before their definition."""
        for statement in module.statements:
            if isinstance(statement, ast.Import):
                self.attempt(imports.load, self, statement, module.file)
            elif isinstance(statement, ast.Def):
                self.attempt(self.define, statement)

    def define(self, statement: ast.Def) -> None:
        """Register a user function (its body is checked at each call)."""
        for name, span in ((statement.name, statement.name_span), *zip(statement.params, statement.param_spans)):
            self.unreserved(name, span)
        self.claim(statement.name, statement.span)
        if len(set(statement.params)) != len(statement.params):
            raise self.fail("E207", f"'{statement.name}' repeats a parameter name", statement.span)
        self.defs[statement.name] = statement

    def let(self, statement: ast.Let) -> None:
        """Check a ``let``; a broken one is remembered so its uses are not reported again."""
        self.start(statement.span)
        self.claim(statement.name, statement.span)
        try:
            self.unreserved(statement.name, statement.name_span)
            typed = self.expr(statement.value, {})
        except Abandon:
            self.broken.add(statement.name)
            raise
        self.lets[statement.name] = replace(typed, indices=None)

    # ---- statements
    def constraint(self, statement: ast.Constraint | ast.Objective) -> ir.Constraint:
        """The IR of a constraint or objective."""
        self.start(statement.span)
        quantifier, frames = windows.time(self, statement.time)
        if statement.label:
            self.unreserved(statement.label, statement.span.first(len(statement.label)))
            if statement.label in self.labels:
                raise self.fail("E207", f"a constraint named '{statement.label}' already exists", statement.span)
            self.labels.add(statement.label)
        weight = self.weight(statement.weight)
        when = self.predicate(statement.when, {}).ir if statement.when is not None else None
        stop = None
        if isinstance(statement, ast.Objective):
            body, unit, stop = self.objective(statement)
            kind, hard, quantifier = "objective", False, "mean"
        else:
            typed = self.predicate(statement.predicate, {})
            body, kind, hard = typed.ir, "constraint", statement.strength != "soft"
            unit = typed.dim.symbol() if typed.dim is not None else "mixed"
        if not ir.uses_body(body):
            self.diagnostics.append(warning("W302", "this does not depend on the motion, so the optimizer "
                                            "cannot change it", statement.span))
        name = statement.label or format_statement(replace(statement, label=None, weight=None))
        return ir.Constraint(name, kind, hard, weight, unit, quantifier, frames, body, when, stop,
                             source=f"{statement.span.file}:{statement.span.line}",
                             description=describe(statement, frames, self.frames, self.defs))

    def objective(self, statement: ast.Objective) -> tuple[ir.Value, str, float | None]:
        """(body signed so larger is better, unit, the margin at which ``until`` is met or None)."""
        typed = self.expr(statement.value, {})
        if typed.kind != "value" or typed.size != 1:
            raise self.fail("E206", f"{statement.goal} needs a number, such as pelvis.y or speed(pelvis)",
                            statement.value.span)
        maximize = statement.goal == "maximize"
        stop = None
        if statement.until is not None:
            until = self.need_value(self.expr(statement.until, {}), statement.until.span, "'until'", (1,))
            self.unify(typed.dim, until.dim, statement.until.span, "'until'")
            if not isinstance(until.ir, ir.Const):
                raise self.fail("E206", "'until' needs a constant such as 1 cm, not a value of the motion",
                                statement.until.span)
            stop = until.ir.values[0] if maximize else -until.ir.values[0]
        unit = typed.dim.symbol() if typed.dim is not None else "1"
        return (typed.ir if maximize else neg(typed.ir)), unit, stop

    def weight(self, quantity: ast.Quantity | None) -> float:
        """The ``weight W`` of a statement (1 without one); E210 unless positive."""
        if quantity is None:
            return 1.0
        weight = windows.finite(self, quantity)
        if not weight > 0 or not math.isfinite(weight):
            raise self.fail("E210", "a weight must be a positive number", quantity.span)
        return weight

    def predicate(self, node: ast.Expr, env: Env) -> Typed:
        """Check an expression that must be a condition."""
        typed = self.expr(node, env)
        if typed.kind != "predicate":
            raise self.fail("E206", "expected a condition (a comparison such as head.y < 1 m), got a "
                            + typed.kind, node.span)
        return typed

    # ---- types
    def unify(self, a: Dim | None, b: Dim | None, span: Span, what: str) -> Dim | None:
        """The shared unit of two values (None is a bare number); E205 when they differ."""
        if a is None or b is None or a == b:
            return a if a is not None else b
        raise self.fail("E205", f"unit mismatch in {what}: {a.symbol()} and {b.symbol()}", span)

    def combine_joints(self, a: Typed, b: Typed, span: Span) -> int:
        """The group size of a value combining ``a`` and ``b`` (groups pair joint by joint)."""
        if a.joints == 1 or b.joints == 1 or a.joints == b.joints:
            return max(a.joints, b.joints)
        raise self.fail("E206", f"cannot combine groups of {a.joints} and {b.joints} joints", span)

    def need_value(self, typed: Typed, span: Span, what: str, sizes: tuple[int, ...] = (1, 2, 3)) -> Typed:
        """``typed`` when it is a value of one of ``sizes`` components, else E206."""
        if typed.kind != "value":
            raise self.fail("E206", f"{what} needs a value, got a {typed.kind}", span)
        if typed.size not in sizes:
            shape = " or ".join("a number" if s == 1 else f"a {s}-vector" for s in sizes)
            got = "a number" if typed.size == 1 else f"a {typed.size}-vector"
            raise self.fail("E206", f"{what} needs {shape}, got {got}", span)
        return typed

    def need_object(self, typed: Typed, span: Span, what: str) -> str:
        """The name of the scene object ``typed`` refers to, else E206."""
        if typed.obj is None:
            raise self.fail("E206", f"{what} needs a scene object", span)
        return typed.obj

    # ---- expansion budget
    def start(self, span: Span) -> None:
        """A new top-level statement: its expansion budget starts at zero."""
        self.statement_nodes = 0
        self.statement_span = span
        if self.nodes > MAX_PROGRAM_NODES:
            raise Abandon()

    def charge(self, nodes: int) -> None:
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

    def ir_size(self, node: object) -> int:
        """Nodes of an IR tree, a shared subtree counted at each use (what evaluation walks)."""
        known = self.sizes.get(id(node))
        if known is None:
            known = (node, 1 + sum(self.ir_size(child) for child in ir.children(node)))
            self.sizes[id(node)] = known
        return known[1]

    # ---- expressions
    def expr(self, node: ast.Expr, env: Env) -> Typed:
        """Check an expression; ``env`` binds user-function parameters."""
        self.charge(1)
        rule = EXPRESSIONS.get(type(node))
        if rule is None:
            raise self.fail("E206", "a call argument 'name = value' is only allowed in scene objects", node.span)
        return rule(self, node, env)

    def quantity(self, node: ast.Quantity, env: Env) -> Typed:
        """A number, converted to SI (a bare number has no unit yet)."""
        if node.unit is None:
            return const((windows.finite(self, node),), None)
        if node.unit == "%":
            raise self.fail("E205", "'%' is only allowed in time instants such as 'at 50 %'", node.span)
        dim, factor = UNITS[node.unit]
        return const((windows.finite(self, node) * factor,), dim)

    def name(self, node: ast.Name, env: Env) -> Typed:
        """A parameter, ``let``, scene object, joint, alias, group, ``com`` or ``facing``."""
        name = node.name
        if name in self.broken and name not in env:
            raise Abandon()  # its definition already reported an error
        bound = env.get(name) or self.lets.get(name)
        if bound is not None:
            self.charge(self.ir_size(bound.ir) if bound.ir is not None else 0)
            return bound
        if name == INPUT:
            raise self.fail("E201", "'input' is the motion being edited; name a part of it, such as input.head",
                            node.span)
        if name in self.objects:
            if self.kinds[name] == "point":
                return replace(const(self.objects[name].position, LENGTH), obj=name)
            return Typed("object", obj=name)
        return self.body_name(node, env)

    def body_name(self, node: ast.Name, env: Env) -> Typed:
        """A joint, alias, group, ``com`` or ``facing`` (E201 with a suggestion otherwise)."""
        name = node.name
        canonical = ALIASES.get(name, name)
        if canonical in JOINT_INDEX or name in GROUPS:
            indices = GROUPS.get(name) or (JOINT_INDEX[canonical],)
            return replace(value(ir.Joints(indices), 3, LENGTH, len(indices)), indices=indices)
        if name == "com":
            return value(ir.Com(), 3, LENGTH)
        if name == "facing":
            return value(ir.Facing(), 3, NONE)
        known = [*JOINT_INDEX, *ALIASES, *GROUPS, *BODY_NAMES, *self.objects, *self.lets, *env]
        what = "joint" if name.startswith(("left", "right")) or "_" in name else "name"
        raise self.fail("E201", f"unknown {what} '{name}'", node.span, *name_fix(node, known, what == "name" and name not in reserved_words()))

    def input_part(self, node: ast.Attr) -> Typed:
        """``input.head``: a joint, group, ``com`` or ``facing`` of the input motion (editing only)."""
        if not self.editing:
            raise self.fail("E201", f"'input.{node.name}' {EDIT_ONLY}", node.span, EDIT_HELP)
        part = self.body_name(ast.Name(node.name, node.span), {})
        return replace(part, ir=ir.Input(part.ir), indices=None)

    def attr(self, node: ast.Attr, env: Env) -> Typed:
        """``x.y``: a component of a vector or a property of a scene object (``input.x``: the input motion's)."""
        if isinstance(node.value, ast.Name) and node.value.name == INPUT:
            return self.input_part(node)
        base = self.expr(node.value, env)
        if base.obj is not None and node.name in PROPERTIES[self.kinds[base.obj]]:
            prop = getattr(self.objects[base.obj], node.name)
            values = tuple(float(v) for v in prop) if isinstance(prop, (tuple, list)) else (float(prop),)
            return const(values, NONE if node.name == "normal" else LENGTH)
        if node.name in COMPONENTS and base.kind == "value" and base.size in (2, 3):
            axes = COMPONENTS[node.name]
            if base.size == 2:
                if node.name not in ("x", "z"):
                    raise self.fail("E203", f"a 2-vector (x, z) has components .x and .z, not .{node.name}",
                                    node.span)
                axes = (0,) if node.name == "x" else (1,)
            if isinstance(base.ir, ir.Const):
                return replace(const(tuple(base.ir.values[a] for a in axes), base.dim), joints=base.joints)
            return value(ir.Component(base.ir, axes), len(axes), base.dim, base.joints)
        candidates = list(COMPONENTS) + (list(PROPERTIES[self.kinds[base.obj]]) if base.obj else [])
        what = f"object '{base.obj}'" if base.obj else f"this {base.kind}"
        raise self.fail("E203", f"{what} has no property or component '.{node.name}'", node.span,
                        *component_fix(node, candidates, synonyms=base.obj is None))

    def vector(self, node: ast.Vector, env: Env) -> Typed:
        """``(a, b)`` or ``(a, b, c)`` of numbers sharing one unit."""
        if len(node.items) > 3:
            raise self.fail("E206", "vectors have 2 (x, z) or 3 (x, y, z) components", node.span)
        items = [self.need_value(self.expr(item, env), item.span, "a vector component", (1,)) for item in node.items]
        dim, joints = None, 1
        for item, source in zip(items, node.items):
            dim = self.unify(dim, item.dim, source.span, "a vector")
            joints = self.combine_joints(replace(item, joints=joints), item, source.span)
        if all(isinstance(i.ir, ir.Const) for i in items):
            return const(tuple(i.ir.values[0] for i in items), dim)
        return value(ir.Fn("stack", tuple(i.ir for i in items)), len(items), dim, joints)

    def unary(self, node: ast.Unary, env: Env) -> Typed:
        """``-x`` of a value, ``not p`` of a predicate."""
        if node.op == "not":
            operand = self.predicate(node.operand, env)
            return replace(operand, ir=ir.Not(operand.ir))
        operand = self.need_value(self.expr(node.operand, env), node.operand.span, "'-'")
        return replace(operand, ir=neg(operand.ir), indices=None, obj=None)

    def logic(self, node: ast.Binary, env: Env) -> Typed:
        """``and``, ``or`` and ``implies`` (``not a or b``), chains flattened."""
        left, right = self.predicate(node.left, env), self.predicate(node.right, env)
        a = ir.Not(left.ir) if node.op == "implies" else left.ir
        op = "and" if node.op == "and" else "or"
        operands = tuple(x for p in (a, right.ir)
                         for x in (p.operands if isinstance(p, ir.Logic) and p.op == op else (p,)))
        return Typed("predicate", ir.Logic(op, operands), dim=left.dim if left.dim == right.dim else None)

    def binary(self, node: ast.Binary, env: Env) -> Typed:
        """Arithmetic ``+ - * /`` (units combine; sizes broadcast a number over a vector) or logic."""
        if node.op in ast.LOGIC:
            return self.logic(node, env)
        left = self.need_value(self.expr(node.left, env), node.left.span, f"'{node.op}'")
        right = self.need_value(self.expr(node.right, env), node.right.span, f"'{node.op}'")
        joints = self.combine_joints(left, right, node.span)
        if node.op in "+-":
            if left.size != right.size:
                raise self.fail("E206", f"cannot {'add' if node.op == '+' else 'subtract'} a {left.size}-vector "
                                f"and a {right.size}-vector" if min(left.size, right.size) > 1 else
                                f"'{node.op}' needs two numbers or two vectors of the same size", node.span)
            dim = self.unify(left.dim, right.dim, node.span, f"'{node.op}'")
            return value(arith(node.op, left.ir, right.ir), left.size, dim, joints)
        if left.size > 1 and right.size > 1:
            raise self.fail("E206", f"'{node.op}' needs a number on one side", node.span)
        if node.op == "/" and right.size > 1:
            raise self.fail("E206", "cannot divide by a vector", node.span)
        dim = None
        if left.dim is not None or right.dim is not None:
            a, b = left.dim or NONE, right.dim or NONE
            dim = a * b if node.op == "*" else a / b
        return value(arith(node.op, left.ir, right.ir), max(left.size, right.size), dim, joints)


EXPRESSIONS: dict[type, Callable[[Checker, ast.Expr, Env], Typed]] = {
    ast.Quantity: Checker.quantity,
    ast.String: lambda c, node, env: Typed("string", text=node.value),
    ast.Name: Checker.name,
    ast.Attr: Checker.attr,
    ast.Vector: Checker.vector,
    ast.Unary: Checker.unary,
    ast.Binary: Checker.binary,
    ast.Relation: relations.relation,
    ast.InRange: relations.in_range,
    ast.Call: calls.call,
    ast.At: windows.at_instant,
}
"""The checking rule of each kind of expression node."""


@functools.cache
def reserved_words() -> frozenset[str]:
    """Words that are never names (docs/language.md): the grammar's keywords, read from the
    parser, and the unit words."""
    return frozenset(all_keywords()) | {unit for unit in UNITS if unit.isidentifier()}


def check(module: ast.Module, frames: int | None = None, allow_paths: Iterable[str | os.PathLike] = (),
          editing: bool = False) -> tuple[ir.Program | None, list[Diagnostic]]:
    """Check a parsed module; returns (IR or None when there are errors, diagnostics).

    ``allow_paths``: directories outside the program's own from which it may import and load meshes.
    ``editing``: the program edits an input motion (``motionprog edit``): ``input.x`` and
    ``keep`` are allowed.
    """
    checker = Checker(frames, imports.allowed_roots(module.file, allow_paths), editing)
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
