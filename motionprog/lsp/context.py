"""What may be written at the cursor, asked of the parser itself.

Lark's interactive LALR parser is fed the text before the cursor and says which terminals it
accepts next: the keywords among them are the ones to offer, so completion follows the grammar
(``grammar/motionprog.lark``) without a table of its own. Where a name is accepted, one more
name is fed to a copy of the parser to learn its role: the start of a value (a ``.`` may follow),
the kind of a scene object (only ``(`` may follow ``name = kind``), a placement that ``relax``
frees (``about`` may follow), or a new name being defined (a label, a ``let``), which has no
completion.
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Token
from lark.exceptions import UnexpectedInput
from lark.parsers.lalr_interactive_parser import InteractiveParser

from motionprog.lang.parser import _lark, keyword


@dataclass(frozen=True)
class Expected:
    """What the grammar accepts at the cursor: ``keywords``; a name as the start of a value
    (``values``), a scene object's kind (``kinds``) or a relaxed placement (``placements``);
    ``call``: the function whose parenthesis the cursor is in, when a ``name = value`` argument
    may start there; ``units``: a unit after a number."""

    keywords: tuple[str, ...]
    values: bool = False
    kinds: bool = False
    placements: bool = False
    call: str | None = None
    units: bool = False


def expected(before: str) -> Expected | None:
    """What may follow ``before`` (the document up to the word being typed); None when the line
    being typed does not parse up to the cursor."""
    parser = fed(before)
    if parser is None:
        return None
    accepted = parser.accepts()
    keywords = tuple(sorted(k for k in map(keyword, accepted) if k))
    if "NAME" not in accepted:
        return Expected(keywords, units="UNIT" in accepted)
    probe = parser.copy()
    probe.feed_token(Token("NAME", "x"))
    after = probe.accepts()
    last = parser.parser_state.value_stack[-1] if parser.parser_state.value_stack else None
    kinds = after == {"LPAR"} and isinstance(last, Token) and last.type == "EQUAL"
    call = enclosing_call(parser) if "EQUAL" in after and "DOT" in after else None
    return Expected(keywords, values="DOT" in after, kinds=kinds, placements="ABOUT" in after, call=call,
                    units="UNIT" in accepted)


def fed(before: str) -> InteractiveParser | None:
    """The parser after ``before``. A statement that does not parse is skipped: the parser starts
    again on the line of the error (where the next statement may begin), or after it when the
    error is on the first line read, until the error is on the cursor's own line."""
    start = 0
    while True:
        parser = _lark().parse_interactive(before[start:])
        try:
            parser.exhaust_lexer()
            return parser
        except UnexpectedInput as problem:
            lines = before[start:].split("\n")
            if problem.line < 1 or problem.line >= len(lines):
                return None
            skipped = problem.line - 1 if problem.line > 1 else 1
            start += sum(len(line) + 1 for line in lines[:skipped])


def enclosing_call(parser: InteractiveParser) -> str | None:
    """The function named before the innermost open ``(`` of a call, if the cursor is in one."""
    stack = parser.parser_state.value_stack
    for index in range(len(stack) - 1, 0, -1):
        item, previous = stack[index], stack[index - 1]
        if isinstance(item, Token) and item.type == "LPAR" and isinstance(previous, Token) and previous.type == "NAME":
            return str(previous)
    return None
