"""Source text -> ``ast.Module``, or diagnostics; never a traceback, never executed as Python.

The grammar is ``grammar/motionprog.lark`` (package ``motionprog.grammar``), parsed LALR(1)
with positions. Input is bounded up front (size, nesting) so hostile files give a diagnostic.
Syntax errors get plain messages from a table of known-bad snippets matched by parser state
(tested in ``tests/test_lang_diagnostics.py``), and concrete fixes from
:mod:`~motionprog.lang.syntax_fixes`.
"""

from __future__ import annotations

import functools

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lark import PostLex
from lark.lexer import PatternStr

from motionprog.lang import ast, syntax_fixes
from motionprog.lang.diagnostics import Diagnostic, Span, error

MAX_BYTES = 1_000_000
"""Largest accepted source, in bytes."""
MAX_NESTING = 64
"""Deepest accepted bracket nesting."""
MAX_TREE_DEPTH = 200
"""Deepest accepted syntax tree (long operator chains nest too)."""

SYNTAX_EXAMPLES: dict[str, list[str]] = {
    "expected ':' after the time selector": [
        "always x < 1", "at start x < 1", "at end pelvis.y < 1", "during 1 s .. 2 s x < 1",
        "eventually x < 1", "always during 1 s .. 2 s x < 1", "before 2 s x < 1",
        "at frame 3 x < 1", "at 2 s x < 1", "at 2 x < 1", "at 50% x < 1", "every 10 frames x < 1",
        "after 1 x < 1", "during 1 .. 2 x < 1", "at frame 3, 2 s x < 1",
    ],
    "a constraint starts with a time selector, such as 'always:' or 'at end:'": [
        "x.y < 1", "head.y < 1", "x < 1", "pelvis.xz == (0, 0)", "x(1) < 2",
    ],
    "expected an expression": [
        "always: x <", "always: x + ", "always: x and", "always:", "at end: not",
        "always: x < )", "always: x == y within", "let a =", "always: (",
    ],
    "relations cannot be chained; write 'a < b and b < c'": [
        "always: a < b < c", "always: a < b > c", "always: a == b < c", "always: a > b == c",
    ],
    "'=' defines a name; compare with '=='": ["always: a = b", "at end: x.y = 1"],
    "missing ')'": ["always: (x < 1", "always: f(x", "always: f(x, y", "at end: (a, b"],
    "missing ']'": ["always: x in [1, 2", "always: x in [1 2]"],
    "the prompt must be a quoted string": ["motion walks for 6 s", "motion 3"],
    "unknown unit after a number; units are m, cm, mm, s, ms, frames, %, deg, rad, m/s, m/s^2": [
        "always: x < 2 km", "at end: y > 3 inch", "let a = 2 feet",
    ],
    "expected '..' between the two instants of 'during'": [
        "during 1 s 2 s: x < 1", "during 1 s, 2 s: x < 1", "during 1 s to 2 s: x < 1",
    ],
    "scene objects are written 'name = kind(...)'": [
        "scene { box(1) }", "scene { a box(1) }", "scene { a = 1 }",
    ],
    "missing '}'": ["scene { a = box(1)", "scene {"],
}


class _WholeWords(PostLex):
    """Lets every parser state lex a name, so a keyword never matches the start of a longer word.

    Lark's contextual lexer tries only the terminals the parser state accepts; where a keyword
    is accepted and a name is not (after ``label:``, ``soft``, ``at``), ``at_place`` would lex
    as ``at`` + ``_place``. With ``NAME`` always tried, the longest word wins, and a name that
    spells a keyword still becomes that keyword where the keyword is accepted.
    """

    always_accept = ("NAME",)

    def process(self, stream):
        return stream


@functools.cache
def _lark() -> Lark:
    return Lark.open_from_package(
        "motionprog.grammar", "motionprog.lark", parser="lalr", propagate_positions=True,
        maybe_placeholders=True, postlex=_WholeWords(),
    )


def keyword(terminal: str) -> str | None:
    """The keyword a terminal stands for (``ALWAYS`` -> ``always``), None for punctuation and
    patterns such as NAME."""
    try:
        pattern = _lark().get_terminal(terminal).pattern
    except KeyError:  # $END
        return None
    return pattern.value if isinstance(pattern, PatternStr) and pattern.value.isidentifier() else None


@functools.cache
def all_keywords() -> tuple[str, ...]:
    """Every keyword of the grammar, sorted: the checker reserves them, an editor offers them."""
    return tuple(sorted(k for k in (keyword(t.name) for t in _lark().terminals) if k))


def parse(text: str, file: str = "<program>") -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse source text into a module, or return (None, [diagnostic]) on the first problem."""
    lines = text.splitlines() or [""]
    problem = _input_problem(text, file, lines)
    if problem:
        return None, [problem]
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        return None, [_syntax_diagnostic(exc, file, lines)]
    if _tree_depth(tree) > MAX_TREE_DEPTH:
        return None, [error("E102", f"the program nests deeper than {MAX_TREE_DEPTH} levels",
                            _line_span(file, lines, 1))]
    statements = _ToAst(file, lines).transform(tree)
    return ast.Module(statements, _comments(lines), file, text), []


def _comments(lines: list[str]) -> tuple[ast.Comment, ...]:
    """The ``#`` comments of a text that parsed (a ``#`` inside a string is not one)."""
    found = []
    for number, line in enumerate(lines, start=1):
        column = _split_line(line)[1] if "#" in line else None
        if column is not None:
            found.append(ast.Comment(line[column - 1:], number, column))
    return tuple(found)


def _split_line(line: str) -> tuple[str, int | None]:
    """(the line's code with string contents blanked, 1-based column of its comment or None)."""
    code, in_string, escaped = [], False, False
    for column, char in enumerate(line, start=1):
        if in_string:
            code.append(" ")
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == "#":
            return "".join(code), column
        else:
            in_string = char == '"'
            code.append(char)
    return "".join(code), None


def _line_span(file: str, lines: list[str], line: int, column: int = 1, width: int = 1) -> Span:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return Span(file, line, column, line, column + width, text)


def _input_problem(text: str, file: str, lines: list[str]) -> Diagnostic | None:
    """Size, binary content and bracket nesting, checked before the parser sees the text."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_BYTES:
        return error("E102", f"the program is too large ({size / 1e6:.1f} MB; the limit is "
                     f"{MAX_BYTES / 1e6:.0f} MB)", None)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return error("E102", "the file is binary, not program text", _line_span(file, lines, line))
    depth = 0
    line, column = 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                return error("E102", f"brackets nest deeper than {MAX_NESTING} levels",
                             _line_span(file, lines, line, column))
        elif char in ")]}":
            depth -= 1
    return None


def _tree_depth(tree: Tree) -> int:
    """Depth of a Lark tree, computed without recursion."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return deepest


def _token_names() -> dict[str, str]:
    """Readable names of the grammar's terminals, for 'expected ...' messages."""
    readable = {"NAME": "a name", "NUMBER": "a number", "STRING": "a string", "UNIT": "a unit",
                "$END": "the end of the file"}
    for terminal in _lark().terminals:
        if isinstance(terminal.pattern, PatternStr):
            readable[terminal.name] = f"'{terminal.pattern.value}'"
    return readable


def _syntax_diagnostic(exc: UnexpectedInput, file: str, lines: list[str]) -> Diagnostic:
    line = max(1, getattr(exc, "line", 1) or 1)
    column = max(1, getattr(exc, "column", 1) or 1)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        line = len(lines)
        column = len(lines[-1]) + 1
    width = 1
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        width = max(1, len(str(exc.token)))
    span = _line_span(file, lines, line, column, width)
    source = lines[line - 1] if line <= len(lines) else ""
    if isinstance(exc, UnexpectedCharacters):
        char = source[column - 1] if column <= len(source) else "?"
        _, help, hint = syntax_fixes.character_fix(source, file, line, column)
        return error("E101", f"unexpected character {char!r}", span, help, hint=hint)
    at_end = isinstance(exc, UnexpectedEOF) or exc.token.type == "$END"
    names = _token_names()
    expected = sorted(names.get(name, name.lower()) for name in getattr(exc, "expected", ()) or ())
    unclosed = _unclosed_bracket(lines) if at_end else None
    label = f"missing '{unclosed}'" if unclosed and f"'{unclosed}'" in expected else _match_examples(exc)
    found = "the end of the file" if at_end else repr(str(exc.token))
    message, help, hint = syntax_fixes.token_fix(source, file, line, column, "" if at_end else str(exc.token),
                                                 expected, _code_before(lines, line))
    if message and hint:  # a fix of its own names the word it fixes, maybe before the token
        fixed = hint[-1].span
        span = _line_span(file, lines, fixed.line, fixed.column, fixed.end_column - fixed.column)
    if help is None and not label and expected:
        help = f"expected {', '.join(expected)}"
    return error("E101", message or label or f"unexpected {found}", span, help, hint=hint)


def _code_before(lines: list[str], line: int) -> tuple[int, str] | None:
    """(number, code) of the last line before ``line`` with code on it (comments dropped)."""
    for number in range(min(line, len(lines)) - 1, 0, -1):
        code = _split_line(lines[number - 1])[0].rstrip()
        if code.strip():
            return number, code
    return None


def _unclosed_bracket(lines: list[str]) -> str | None:
    """The closing bracket the text still needs at its end (strings and comments skipped)."""
    closing = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    for line in lines:
        for char in _split_line(line)[0]:
            if char in closing:
                stack.append(closing[char])
            elif char in ")]}" and stack and stack[-1] == char:
                stack.pop()
    return stack[-1] if stack else None


def _match_examples(exc: UnexpectedInput) -> str | None:
    """The label of the known-bad snippet failing in the same parser state, if any: one failing
    on the same token first, else the first failing there at all.

    Lark's own ``match_examples`` also compares the depth of the parser's stack, so a snippet
    (one statement) matched only a program's first statement; this compares the state alone.
    """
    position, accepts, token = _failure(exc)
    same = [(label, found) for label, where, accepted, found in _example_failures()
            if where == position and (None in (accepts, accepted) or accepted == accepts)]
    exact = [label for label, found in same if found == token]
    return (exact or [label for label, _ in same] or [None])[0]


@functools.cache
def _example_failures() -> tuple[tuple[str, object, frozenset[str] | None, str | None], ...]:
    """(label, parser state, accepted terminals, unexpected token) of each known-bad snippet."""
    failures = []
    for label, snippets in SYNTAX_EXAMPLES.items():
        for snippet in snippets:
            try:
                _lark().parse(snippet)
            except UnexpectedInput as exc:
                failures.append((label, *_failure(exc)))
    return tuple(failures)


def _failure(exc: UnexpectedInput) -> tuple[object, frozenset[str] | None, str | None]:
    """(parser state, terminals it accepts, the unexpected token) of a syntax error."""
    state = getattr(exc, "state", None)
    accepts = getattr(exc, "accepts", None) if isinstance(exc, UnexpectedToken) else None
    token = str(exc.token) if isinstance(exc, (UnexpectedToken, UnexpectedEOF)) else None
    return getattr(state, "position", state), frozenset(accepts) if accepts else None, token


def _unquote(token: Token) -> str:
    return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def _binary(op: str):
    """Transformer callback building ``ast.Binary`` with operator ``op``."""
    def build(self, meta, children):
        return ast.Binary(op, children[0], children[1], self._span(meta))
    return build


@v_args(meta=True)
class _ToAst(Transformer):
    """Lark tree -> frozen AST nodes with spans; builds nodes and nothing else."""

    def __init__(self, file: str, lines: list[str]):
        super().__init__()
        self.file = file
        self.lines = lines

    def _span(self, meta) -> Span:
        line = getattr(meta, "line", 1)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Span(self.file, line, getattr(meta, "column", 1), getattr(meta, "end_line", line),
                    getattr(meta, "end_column", 1), text)

    def start(self, meta, children):
        return tuple(children)

    # ---- statements
    def import_stmt(self, meta, children):
        return ast.Import(_unquote(children[0]), self._span(meta))

    def motion_stmt(self, meta, children):
        options = dict(option for option in children[1:] if option[0] != "then")
        then = tuple(part for key, part in children[1:] if key == "then")
        return ast.Header(_unquote(children[0]), options.get("length"), options.get("seeds"),
                          options.get("model"), self._span(meta), then)

    def motion_length(self, meta, children):
        return ("length", children[0])

    def motion_then(self, meta, children):
        return ("then", ast.Then(_unquote(children[0]), children[1]))

    def motion_seeds(self, meta, children):
        token = children[0]
        return ("seeds", ast.Quantity(float(token), None, self._span(token), str(token)))

    def motion_model(self, meta, children):
        return ("model", _unquote(children[0]))

    def relax_stmt(self, meta, children):
        pivots = tuple(pivot for _, pivot in children)
        return ast.Relax(tuple(name for name, _ in children), self._span(meta),
                         pivots if any(p is not None for p in pivots) else ())

    def relax_item(self, meta, children):
        return str(children[0]), children[1]

    def scene_stmt(self, meta, children):
        return ast.Scene(tuple(children), self._span(meta))

    def scene_item(self, meta, children):
        name, kind, args = children
        call = ast.Call(str(kind), tuple(args or ()), self._span(meta), self._span(kind))
        return ast.SceneObject(str(name), call, self._span(meta))

    def keep_stmt(self, meta, children):
        span = self._span(meta)
        return ast.Keep(ast.Window("during", children[0], children[1], None, None, span), span)

    def let_stmt(self, meta, children):
        name, value = children
        return ast.Let(str(name), value, self._span(meta), self._span(name))

    def def_stmt(self, meta, children):
        name, params, body = children
        params = params or ()
        return ast.Def(str(name), tuple(str(p) for p in params), body, self._span(meta), self._span(name),
                       tuple(self._span(p) for p in params))

    def params(self, meta, children):
        return tuple(children)

    def constraint_stmt(self, meta, children):
        label, strength, time, predicate, when, weight = children
        return ast.Constraint(label, strength, time, predicate, when, weight, self._span(meta))

    def objective_stmt(self, meta, children):
        label, time, goal, value, until, when, weight = children
        return ast.Objective(label, time, goal, value, when, weight, self._span(meta), until)

    def label(self, meta, children):
        return str(children[0])

    def strength(self, meta, children):
        return str(children[0])

    goal = strength

    def when(self, meta, children):
        return children[0]

    until = when

    def weight(self, meta, children):
        token = children[0]
        return ast.Quantity(float(token), None, self._span(token), str(token))

    # ---- time
    def time_at(self, meta, children):
        return ast.Time("at", tuple(children), None, self._span(meta))

    def time_always(self, meta, children):
        return ast.Time("always", (), children[0] if children else None, self._span(meta))

    def time_eventually(self, meta, children):
        return ast.Time("eventually", (), children[0], self._span(meta))

    def during(self, meta, children):
        return ast.Window("during", children[0], children[1], None, None, self._span(meta))

    def before(self, meta, children):
        return ast.Window("before", children[0], None, None, None, self._span(meta))

    def after(self, meta, children):
        return ast.Window("after", children[0], None, None, None, self._span(meta))

    def every(self, meta, children):
        return ast.Window("every", None, None, children[0], children[1], self._span(meta))

    def instant_start(self, meta, children):
        return ast.Instant("start", None, self._span(meta))

    def instant_end(self, meta, children):
        return ast.Instant("end", None, self._span(meta))

    def instant_frame(self, meta, children):
        token = children[0]
        quantity = ast.Quantity(float(token), "frames", self._span(token), f"{token} frames")
        return ast.Instant("frame", quantity, self._span(meta))

    def instant_quantity(self, meta, children):
        return ast.Instant("quantity", children[0], self._span(meta))

    def instant_add(self, meta, children):
        return ast.Instant("+", children[1], self._span(meta), children[0])

    def instant_sub(self, meta, children):
        return ast.Instant("-", children[1], self._span(meta), children[0])

    # ---- expressions
    def quantity(self, meta, children):
        number, unit = children
        text = f"{number} {unit}" if unit else str(number)
        return ast.Quantity(float(number), str(unit) if unit else None, self._span(meta), text)

    def name(self, meta, children):
        return ast.Name(str(children[0]), self._span(meta))

    def string(self, meta, children):
        return ast.String(_unquote(children[0]), self._span(meta))

    def attr(self, meta, children):
        return ast.Attr(children[0], str(children[1]), self._span(meta))

    def at_instant(self, meta, children):
        return ast.At(children[0], children[1], self._span(meta))

    def call(self, meta, children):
        name, args = children
        return ast.Call(str(name), tuple(args or ()), self._span(meta), self._span(name))

    def args(self, meta, children):
        return tuple(children)

    def keyword_arg(self, meta, children):
        return ast.KeywordArg(str(children[0]), children[1], self._span(meta))

    def vector(self, meta, children):
        return ast.Vector(tuple(children), self._span(meta))

    def neg(self, meta, children):
        return ast.Unary("neg", children[0], self._span(meta))

    def not_(self, meta, children):
        return ast.Unary("not", children[0], self._span(meta))

    add, sub, mul, div = _binary("+"), _binary("-"), _binary("*"), _binary("/")
    and_, or_, implies = _binary("and"), _binary("or"), _binary("implies")

    def compare(self, meta, children):
        left, op, right = children
        return ast.Relation(op, left, right, None, self._span(meta))

    region_relation = compare

    def cmp(self, meta, children):
        return str(children[0])

    region = cmp

    def equal(self, meta, children):
        return ast.Relation("==", children[0], children[1], children[2], self._span(meta))

    def near(self, meta, children):
        return ast.Relation("near", children[0], children[1], children[2], self._span(meta))

    def in_range(self, meta, children):
        return ast.InRange(children[0], children[1], children[2], self._span(meta))
