"""Concrete fixes for common syntax mistakes: operators from other languages (``&&``, ``=``
for ``==``, ``=<``), unit and instant words (``2 seconds``, ``at beginning``), ``if`` for
``when``, a word for a time selector (``finally:``).

Each fix is a ``help`` text and the edits that apply it (``Diagnostic.hint``); the parser asks
for one when a syntax error is found, with the unexpected token and what it expected.
"""

from __future__ import annotations

import re

from motionprog.lang.diagnostics import Edit, Span

Fix = tuple[str | None, str | None, tuple[Edit, ...]]
"""(message replacing the parser's, help, edits); None and () where nothing applies."""

CHARACTERS: dict[str, str] = {
    "&&": "and", "||": "or", "&": "and", "|": "or", "!": "not ", "≤": "<=", "≥": ">=", ";": "",
    "“": '"', "”": '"', "−": "-", "–": "-", "×": "*", "→": "implies", "⇒": "implies",
}
"""Characters the language does not use, and what to write instead ('' deletes)."""

UNIT_WORDS: dict[str, str] = {
    **dict.fromkeys(("meter", "meters", "metre", "metres"), "m"),
    **dict.fromkeys(("centimeter", "centimeters", "centimetre", "centimetres", "cms"), "cm"),
    **dict.fromkeys(("millimeter", "millimeters", "millimetre", "millimetres"), "mm"),
    **dict.fromkeys(("second", "seconds", "sec", "secs"), "s"),
    **dict.fromkeys(("millisecond", "milliseconds", "msec"), "ms"),
    "frame": "frames",
    **dict.fromkeys(("degree", "degrees", "degs"), "deg"),
    **dict.fromkeys(("radian", "radians", "rads"), "rad"),
    **dict.fromkeys(("percent", "pct"), "%"),
}
"""Unit words and the unit symbol the language spells."""

INSTANT_WORDS: dict[str, str] = {
    **dict.fromkeys(("beginning", "begin", "first", "initial", "onset", "the_start"), "start"),
    **dict.fromkeys(("finish", "last", "ending", "final", "the_end"), "end"),
    **dict.fromkeys(("middle", "halfway", "half", "mid", "midway", "midpoint"), "50 %"),
}
"""Words for instants and the instant they mean."""

SELECTOR_WORDS: dict[str, str] = {
    **dict.fromkeys(("sometimes", "once", "ever", "at_some_point"), "eventually"),
    **dict.fromkeys(("finally", "lastly"), "at end"),
    **dict.fromkeys(("initially", "firstly"), "at start"),
    **dict.fromkeys(("throughout", "forever", "constantly", "continuously"), "always"),
}
"""Words written as a time selector (``finally: ...``) and the selector meant."""

CONDITION_WORDS = ("if", "while", "whenever", "where", "provided", "given")
"""Words written for ``when``."""

RANGE_WORDS = ("to", "until", "till", "through", "thru")
"""Words written for ``..`` in ``during a .. b``."""

WINDOW_WORDS = {"between": "and", "from": "to"}
"""Words opening a window (``between 1 s and 2 s``) and the word between its two instants."""

VERB_CALLS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("on", "stands_on", "standing_on"), ("contact", "stands_on({a}, {b})")),
    **dict.fromkeys(("touches", "touching", "touch", "contacts"), ("contact", "touches({a}, {b}, 2 cm)")),
    **dict.fromkeys(("reaches", "reach", "reaching"), ("interaction", "reaches({a}, {b}, 5 cm)")),
    **dict.fromkeys(("avoids", "avoid", "avoiding"), ("interaction", "avoids({a}, {b})")),
}
"""Verbs written between two operands (``left_hand touches box``): the library call they mean."""

NO_COLON_AFTER = ("soft", "hard", "weight", "maximize", "minimize", "when", "until")
"""Keywords a colon never follows (``soft: at end:``, ``weight: 2``)."""


def _edit(file: str, line: int, column: int, width: int, text: str) -> tuple[Edit, ...]:
    return (Edit(Span(file, line, column, line, column + width), text),)


def character_fix(source: str, file: str, line: int, column: int) -> Fix:
    """A fix for an unexpected character at ``column`` of the line ``source``."""
    for wrong in (source[column - 1:column + 1], source[column - 1:column]):
        if wrong == "!=":
            return None, "there is no '!=': write 'not (a == b)', or compare with '<' or '>'", ()
        if wrong in CHARACTERS:
            right = CHARACTERS[wrong]
            words = f"write '{right.strip()}' instead of '{wrong}'" if right else f"drop '{wrong}'"
            return None, words, _edit(file, line, column, len(wrong), right)
    return None, None, ()


def token_fix(source: str, file: str, line: int, column: int, token: str, expected: list[str],
              earlier: tuple[int, str] | None = None) -> Fix:
    """A fix for the unexpected ``token`` at ``column`` of the line ``source``, given the
    readable names of the terminals the parser ``expected`` there and the (number, code) of the
    line before with code, where the word to fix is when the token starts its line."""
    if token == "=" and "'=='" in expected:
        right = {"<": "<=", ">": ">="}.get(source[column:column + 1])
        if right:
            return f"'={right[0]}' is written '{right}'", f"write '{right}'", _edit(file, line, column, 2, right)
        return None, "write '=='", _edit(file, line, column, 1, "==")
    keyword = re.search(r"\b([a-z]+)\s*$", source[:column - 1])
    if token == ":" and keyword and keyword.group(1) in NO_COLON_AFTER:
        return None, f"drop ':' after '{keyword.group(1)}'", _edit(file, line, column, 1, "")
    if token == ":" and "'='" in expected:
        equals = source[column:column + 1] == "="
        return None, "write '='", _edit(file, line, column, 1, "" if equals else " =")
    if token in (",", ")") and not source[column:].strip(" \t;") or token == ")" and _unopened(source, column):
        return None, f"drop '{token}'", _edit(file, line, column, 1, "")
    if token == ">" and source[column - 2:column - 1] == "-" and "a name" in expected:
        return None, "write 'implies' instead of '->'", _edit(file, line, column - 1, 2, "implies")
    if token in UNIT_WORDS and re.search(r"[0-9]\s*$", source[:column - 1]):
        return _unit_fix(file, line, column, token)
    if token in INSTANT_WORDS and "'start'" in expected:
        right = INSTANT_WORDS[token]
        return None, f"write '{right}' instead of '{token}'", _edit(file, line, column, len(token), right)
    if token == "the" and "'start'" in expected:
        return None, "write 'at start' or 'at end'", _edit(file, line, column, len(token) + 1, "")
    dash = re.search(r"\bduring\b[^:]*?(\s-\s)[^:-]*$", source[:column - 1])
    if token == ":" and "'..'" in expected and dash:
        return None, "write '..' between the two instants", _edit(file, line, dash.start(1) + 2, 1, "..")
    if token in RANGE_WORDS and "'..'" in expected:
        return None, f"write '..' instead of '{token}'", _edit(file, line, column, len(token), "..")
    if "a string" in expected and re.fullmatch(r"[A-Za-z_]\w*", token):
        return None, f"quote it: '\"{token}\"'", _edit(file, line, column, len(token), f'"{token}"')
    if not source[:column - 1].strip() and earlier is not None:
        line, source = earlier
        column = len(source) + 1
    return _previous_word_fix(source, file, line, column, token)


def _unit_fix(file: str, line: int, column: int, word: str) -> Fix:
    right = UNIT_WORDS[word]
    return (f"unknown unit '{word}'; units are m, cm, mm, s, ms, frames, %, deg, rad, m/s, m/s^2",
            f"write '{right}' instead of '{word}'", _edit(file, line, column, len(word), right))


def _previous_word_fix(source: str, file: str, line: int, column: int, token: str) -> Fix:
    """A fix for the word before an unexpected token, which the parser took for a label or a
    new statement: ``1.5 meters``, ``if`` for ``when``, ``finally:`` for ``at end:``, ``in obj``."""
    found = re.search(r"(\S*)\s+\b([A-Za-z_]\w*)(\s*:)?\s*$", " " + source[:column - 1])
    if found is None:
        return None, None, ()
    before, word, colon, start = found.group(1), found.group(2), found.group(3), found.start(2)
    if not colon and word in VERB_CALLS and re.fullmatch(r"[A-Za-z_][\w.]*", before) and token.isidentifier():
        return _verb_fix(file, line, start - len(before) - 1, column + len(token), word, before, token)
    if not colon and word in WINDOW_WORDS:
        return _window_fix(source, file, line, start, word)
    if not colon and word in UNIT_WORDS and re.search(r"[0-9]$", before):
        return _unit_fix(file, line, start, word)
    if colon and word in SELECTOR_WORDS:
        right = SELECTOR_WORDS[word]
        return None, f"write '{right}:' instead of '{word}:'", _edit(file, line, start, len(word), right)
    if not colon and word == "in":
        return (None, "'in' takes a range such as [1 m, 2 m]; an object takes 'inside'",
                _edit(file, line, start, len(word), "inside"))
    if colon and word == "never":
        return None, "write 'always: not (...)'", ()
    if not colon and word in CONDITION_WORDS:
        return (f"a condition is written with 'when', not '{word}'", f"write 'when' instead of '{word}'",
                _edit(file, line, start, len(word), "when"))
    return None, None, ()


def _window_fix(source: str, file: str, line: int, start: int, word: str) -> Fix:
    """``between a and b`` / ``from a to b`` is ``during a .. b``."""
    help = f"a window is written 'during a .. b', not '{word} a {WINDOW_WORDS[word]} b'"
    separator = re.search(rf"\b{WINDOW_WORDS[word]}\b", source[start - 1:])
    if separator is None:
        return None, help, ()
    at = start + separator.start()
    return None, help, (*_edit(file, line, start, len(word), "during"), *_edit(file, line, at, len(separator.group()), ".."))


def _unopened(source: str, column: int) -> bool:
    """Whether the ``)`` at ``column`` closes no ``(`` of its line."""
    before = source[:column - 1]
    return before.count("(") <= before.count(")")


def _verb_fix(file: str, line: int, start: int, end: int, verb: str, a: str, b: str) -> Fix:
    """``a touches b`` (columns ``start`` to ``end``) is the library call ``touches(a, b, gap)``."""
    module, call = ("contact", "on_floor({a})") if b in ("ground", "floor") else VERB_CALLS[verb]
    written = call.format(a=a, b=b)
    return (f"'{verb}' is a function, not a relation", f"write '{written}' with 'import \"{module}\"'",
            (import_edit(file, module), *_edit(file, line, start, end - start, written)))


def import_edit(file: str, module: str) -> Edit:
    """Insert ``import "module"`` as the file's first line (a second import of a module is harmless)."""
    return Edit(Span(file, 1, 1, 1, 1), f'import "{module}"\n')
