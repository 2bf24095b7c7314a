"""The canonical text of a program: ``motionprog fmt``.

Works on the AST, so formatting never changes meaning: the parentheses it prints are exactly
those the tree needs, comments are kept (standalone ones before the statement that follows
them, trailing ones after it), and runs of blank lines become one. ``format(format(x)) ==
format(x)``.
"""

from __future__ import annotations

from motionprog.lang import ast

PRECEDENCE = {"implies": 1, "or": 2, "and": 3, "not": 4, "relation": 5, "+": 6, "-": 6, "*": 7, "/": 7,
              "neg": 8, "postfix": 9, "atom": 10}
"""Binding strength of each kind of expression, loosest first (as in the grammar)."""


def _precedence(node: ast.Expr) -> int:
    if isinstance(node, ast.Binary):
        return PRECEDENCE[node.op]
    if isinstance(node, ast.Unary):
        return PRECEDENCE[node.op]
    if isinstance(node, (ast.Relation, ast.InRange)):
        return PRECEDENCE["relation"]
    if isinstance(node, (ast.Attr, ast.At)):
        return PRECEDENCE["postfix"]
    return PRECEDENCE["atom"]


def _wrap(node: ast.Expr, at_least: int) -> str:
    text = format_expr(node)
    return text if _precedence(node) >= at_least else f"({text})"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_quantity(node: ast.Quantity) -> str:
    """``10 cm``, ``50%``, ``2``: the number as written, then the unit."""
    number = node.text.split()[0] if node.text else repr(node.value)
    if node.unit is None:
        return number
    return f"{number}%" if node.unit == "%" else f"{number} {node.unit}"


def format_expr(node: ast.Expr) -> str:
    """Canonical text of an expression, with only the parentheses its tree needs."""
    if isinstance(node, ast.Quantity):
        return format_quantity(node)
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.String):
        return _quote(node.value)
    if isinstance(node, ast.Attr):
        base = format_expr(node.value)
        needs = _precedence(node.value) < PRECEDENCE["postfix"] or isinstance(node.value, (ast.Quantity, ast.At))
        return f"({base}).{node.name}" if needs else f"{base}.{node.name}"
    if isinstance(node, ast.At):
        return f"{_wrap(node.value, PRECEDENCE['postfix'])} @ {format_instant(node.instant, atom=True)}"
    if isinstance(node, ast.Call):
        return f"{node.function}({', '.join(_format_arg(a) for a in node.args)})"
    if isinstance(node, ast.Vector):
        return f"({', '.join(format_expr(i) for i in node.items)})"
    if isinstance(node, ast.Unary):
        if node.op == "not":
            return f"not {_wrap(node.operand, PRECEDENCE['not'])}"
        return f"-{_wrap(node.operand, PRECEDENCE['postfix'])}"
    if isinstance(node, ast.Binary):
        own = PRECEDENCE[node.op]
        right_assoc = node.op == "implies"
        left = _wrap(node.left, own + 1 if right_assoc else own)
        right = _wrap(node.right, own if right_assoc else own + 1)
        return f"{left} {node.op} {right}"
    if isinstance(node, ast.Relation):
        text = f"{_wrap(node.left, PRECEDENCE['+'])} {node.op} {_wrap(node.right, PRECEDENCE['+'])}"
        return text + (f" within {_wrap(node.extra, PRECEDENCE['+'])}" if node.extra is not None else "")
    if isinstance(node, ast.InRange):
        return (f"{_wrap(node.value, PRECEDENCE['+'])} in [{_wrap(node.low, PRECEDENCE['+'])}, "
                f"{_wrap(node.high, PRECEDENCE['+'])}]")
    raise TypeError(f"not an expression node: {type(node).__name__}")


def _format_arg(arg: ast.Expr | ast.KeywordArg) -> str:
    return f"{arg.name} = {format_expr(arg.value)}" if isinstance(arg, ast.KeywordArg) else format_expr(arg)


def format_instant(instant: ast.Instant, atom: bool = False) -> str:
    """``start``, ``end``, ``frame 30``, ``2 s``, ``end - 1 s``; in parentheses when ``atom``
    asks for one piece (after ``@``) and the instant is a shifted one."""
    if instant.kind in ("start", "end"):
        return instant.kind
    if instant.kind == "frame":
        return f"frame {instant.value.text.split()[0]}"
    if instant.kind in ("+", "-"):
        text = f"{format_instant(instant.base)} {instant.kind} {format_quantity(instant.value)}"
        return f"({text})" if atom else text
    return format_quantity(instant.value)


def format_window(window: ast.Window) -> str:
    """``during a .. b``, ``before t``, ``after t``, ``every q [window]``."""
    if window.kind == "during":
        return f"during {format_instant(window.a)} .. {format_instant(window.b)}"
    if window.kind in ("before", "after"):
        return f"{window.kind} {format_instant(window.a)}"
    inner = f" {format_window(window.inner)}" if window.inner else ""
    return f"every {format_quantity(window.step)}{inner}"


def format_time(time: ast.Time) -> str:
    """``at start, 2 s``, ``always``, ``eventually during 1 s .. 2 s``, ``every 10 frames``."""
    if time.quantifier == "at":
        return "at " + ", ".join(format_instant(i) for i in time.instants)
    if time.window is None:
        return time.quantifier
    window = format_window(time.window)
    return window if time.quantifier == "always" else f"eventually {window}"


def format_statement(statement: ast.Statement, indent: str = "  ") -> str:
    """Canonical text of one statement (a scene block spans several lines)."""
    if isinstance(statement, ast.Import):
        return f"import {_quote(statement.path)}"
    if isinstance(statement, ast.Header):
        parts = [f"motion {_quote(statement.prompt)}"]
        if statement.length is not None:
            parts.append(f" for {format_quantity(statement.length)}")
        parts += [f" then {_quote(part.prompt)} for {format_quantity(part.length)}" for part in statement.then]
        options = []
        if statement.seeds is not None:
            options.append(f"seeds {format_quantity(statement.seeds)}")
        if statement.model is not None:
            options.append(f"model {_quote(statement.model)}")
        return "".join(parts) + "".join((", " if i or statement.length else " ") + o for i, o in enumerate(options))
    if isinstance(statement, ast.Relax):
        pivots = statement.pivots or (None,) * len(statement.items)
        return "relax " + ", ".join(item + (f" about {_wrap(pivot, PRECEDENCE['+'])}" if pivot is not None else "")
                                    for item, pivot in zip(statement.items, pivots))
    if isinstance(statement, ast.Scene):
        body = "".join(f"{indent}{format_scene_object(o)}\n" for o in statement.objects)
        return "scene {\n" + body + "}"
    if isinstance(statement, ast.Keep):
        return f"keep outside {format_window(statement.window).removeprefix('during ')}"
    if isinstance(statement, ast.Let):
        return f"let {statement.name} = {format_expr(statement.value)}"
    if isinstance(statement, ast.Def):
        return f"def {statement.name}({', '.join(statement.params)}) = {format_expr(statement.body)}"
    label = f"{statement.label}: " if statement.label else ""
    tail = (f" when {format_expr(statement.when)}" if statement.when is not None else "") + (
        f" weight {format_quantity(statement.weight)}" if statement.weight is not None else "")
    if isinstance(statement, ast.Constraint):
        strength = "soft " if statement.strength == "soft" else ""
        return f"{label}{strength}{format_time(statement.time)}: {format_expr(statement.predicate)}{tail}"
    time = f"{format_time(statement.time)}: " if statement.time is not None else ""
    until = f" until {_wrap(statement.until, PRECEDENCE['+'])}" if statement.until is not None else ""
    return f"{label}{time}{statement.goal} {format_expr(statement.value)}{until}{tail}"


def format_scene_object(item: ast.SceneObject) -> str:
    """``name = kind(args)``."""
    return f"{item.name} = {format_expr(item.call)}"


def format_module(module: ast.Module) -> str:
    """Canonical text of a whole file, comments kept, ending with one newline."""
    out: list[str] = []
    comments = sorted(module.comments, key=lambda c: (c.line, c.column))
    state = {"next": 0, "last": None}

    def emit_before(line: int, indent: str = "") -> None:
        while state["next"] < len(comments) and comments[state["next"]].line < line:
            comment = comments[state["next"]]
            _blank_if_gap(out, state, comment.line)
            out.append(indent + comment.text.rstrip())
            state["last"] = comment.line
            state["next"] += 1

    def trailing(line: int) -> str:
        if state["next"] < len(comments) and comments[state["next"]].line == line:
            state["next"] += 1
            return "  " + comments[state["next"] - 1].text.rstrip()
        return ""

    for statement in module.statements:
        emit_before(statement.span.line)
        _blank_if_gap(out, state, statement.span.line)
        if isinstance(statement, ast.Scene):
            out.append("scene {" + trailing(statement.span.line))
            state["last"] = statement.span.line
            for item in statement.objects:
                emit_before(item.span.line, "  ")
                out.append("  " + format_scene_object(item) + trailing(item.span.end_line))
                state["last"] = item.span.end_line
            emit_before(statement.span.end_line, "  ")
            out.append("}" + trailing(statement.span.end_line))
        else:
            emit_before(statement.span.end_line)
            out.append(format_statement(statement) + trailing(statement.span.end_line))
        state["last"] = statement.span.end_line
    emit_before(10**9)
    return "\n".join(out) + "\n" if out else ""


def _blank_if_gap(out: list[str], state: dict, line: int) -> None:
    if state["last"] is not None and line > state["last"] + 1 and out and out[-1] != "":
        out.append("")
