"""The project's Lark grammar translated to llama.cpp's GBNF, so a local server can constrain
its answer to the language (the ``grammar`` field of llama.cpp's chat and completion
endpoints; SGLang's ``ebnf`` field takes the same text).

The translation is generated, never kept by hand: Lark's own grammar of grammars
(``lark/grammars/lark.lark``) parses ``grammar/motionprog.lark`` into rules, and the compiled
project grammar supplies every terminal's regular expression, imports resolved. Three things
differ between the dialects and are handled here:

- GBNF has no lexer: whatever Lark ignores (whitespace, comments) becomes a ``ws`` rule that
  may follow every token;
- GBNF is parsed top-down, so immediate left recursion (``sum: sum "+" product | product``)
  becomes repetition (``sum ::= product ("+" ws product)*``), and alternatives that start
  alike are merged (``relation ::= sum (cmp sum | "==" ws sum ...)?``) so the matcher does
  not follow one path per alternative;
- regular expressions are rewritten as GBNF character classes and groups; look-arounds,
  which GBNF cannot express, are dropped (the checker still sees every candidate).
"""

from __future__ import annotations

import os
import re
import re._constants as sre  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from functools import cache

from lark import Lark, Token, Tree
from lark.lexer import PatternStr

from motionprog.llm.reference import grammar_text

WS_RULE = "ws"
"""The GBNF rule for everything Lark ignores between tokens."""
MAX_REPEAT = sre.MAXREPEAT


@cache
def _meta_parser() -> Lark:
    """Lark's grammar of Lark grammars, as shipped with Lark."""
    return Lark.open_from_package("lark", "lark.lark", ("grammars",), parser="lalr")


def _name(symbol: str) -> str:
    """A GBNF rule name for a Lark rule or terminal (GBNF allows letters, digits and ``-``)."""
    return symbol.lstrip("?!").replace("_", "-")


def _literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _char(code: int) -> str:
    """One character inside a GBNF character class (``-`` and ``^`` are placed by the caller)."""
    char = chr(code)
    special = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "]": "\\]", "[": "\\["}
    return special.get(char, char if char.isprintable() else f"\\x{code:02X}")


CATEGORIES = {sre.CATEGORY_DIGIT: "0-9", sre.CATEGORY_SPACE: " \\t\\n\\r\\x0B\\x0C",
              sre.CATEGORY_WORD: "a-zA-Z0-9_"}


def _class(items: list) -> str:
    """A regex character set (``[...]``) as a GBNF character class; a literal ``-`` goes last
    and a literal ``^`` never first, where GBNF reads them as themselves."""
    negate, parts, dash, caret = False, [], "", ""
    for op, value in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL and chr(value) in "-^":
            dash, caret = (dash or "-", caret) if chr(value) == "-" else (dash, "^")
        elif op is sre.LITERAL:
            parts.append(_char(value))
        elif op is sre.RANGE:
            parts.append(f"{_char(value[0])}-{_char(value[1])}")
        elif op is sre.CATEGORY and value in CATEGORIES:
            parts.append(CATEGORIES[value])
        else:
            raise ValueError(f"no GBNF form for the character set item {op} {value}")
    body = "".join(parts) + caret + dash
    if body.startswith("^"):
        body = body[1:] + "^" if len(body) > 1 else "\\x5E"
    return "[" + ("^" if negate else "") + body + "]"


ITEM = re.compile(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|[A-Za-z0-9-]+|[()*+?|]|\{[^}]*\}')


def _group(body: str) -> str:
    """``body`` parenthesised unless it is already one item (a string, a class, a name or a
    parenthesised group)."""
    items = ITEM.findall(body)
    if len(items) == 1:
        return body
    depth = 0
    for index, item in enumerate(items):
        depth += {"(": 1, ")": -1}.get(item, 0)
        if depth == 0 and index < len(items) - 1:
            return f"({body})"
    return body if items and items[0] == "(" and body.endswith(")") else f"({body})"


def _repeat(body: str, low: int, high: int) -> str:
    """``body`` repeated ``low`` to ``high`` times (``high`` may be unbounded)."""
    body = _group(body)
    if (low, high) == (0, MAX_REPEAT):
        return f"{body}*"
    if (low, high) == (1, MAX_REPEAT):
        return f"{body}+"
    if (low, high) == (0, 1):
        return f"{body}?"
    return f"{body}{{{low},{'' if high == MAX_REPEAT else high}}}"


def _regex(items) -> str:
    """A parsed regular expression (``re._parser`` items) as a GBNF sequence; runs of
    literal characters become one string."""
    out: list[str] = []
    run = ""
    for op, value in items:
        if op is sre.LITERAL:
            run += chr(value)
            continue
        if run:
            out.append(_literal(run))
            run = ""
        if op is sre.NOT_LITERAL:
            out.append(_class([(sre.NEGATE, None), (sre.LITERAL, value)]))
        elif op is sre.IN:
            out.append(_class(value))
        elif op is sre.ANY:
            out.append("[^\\n]")
        elif op is sre.SUBPATTERN:
            out.append(_group(_regex(value[-1])))
        elif op is sre.BRANCH and all(item[0] is sre.LITERAL for branch in value[1] for item in branch):
            out.append(_group(_trie(["".join(chr(code) for _, code in branch) for branch in value[1]])))
        elif op is sre.BRANCH:
            out.append("(" + " | ".join(_regex(branch) for branch in value[1]) + ")")
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = value
            out.append(_repeat(_regex(body), low, high))
        elif op not in (sre.ASSERT, sre.ASSERT_NOT, sre.AT):  # look-arounds, anchors: no GBNF form
            raise ValueError(f"no GBNF form for the regular expression item {op}")
    if run:
        out.append(_literal(run))
    return " ".join(out) or '""'


def _trie(words: list[str]) -> str:
    """Alternative words as a prefix tree (``"left_" ("hand" | "hip")``): llama.cpp's matcher
    follows one path per alternative for every token of the vocabulary, so a list of 60 joint
    names is 60 paths where a tree has one per distinct next character."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[:1], []).append(word)
    parts = []
    for group in groups.values():
        prefix = os.path.commonprefix(group)
        rests = [word[len(prefix):] for word in group]
        if len(group) == 1 or not any(rests):
            parts.append(_literal(prefix))
            continue
        tail = _group(_trie([rest for rest in rests if rest]))
        parts.append(f"{_literal(prefix)} {tail}{'?' if '' in rests else ''}")
    return " | ".join(parts)


def _terminal(pattern) -> str:
    """A Lark terminal's pattern as a GBNF expression."""
    if isinstance(pattern, PatternStr):
        return _literal(pattern.value)
    if pattern.flags:
        raise ValueError(f"regular expression flags {sorted(pattern.flags)} are not translated")
    return _regex(sre_parse.parse(pattern.value))


def _expr(node, rule: str) -> str:
    """One node of a parsed Lark rule body as GBNF: tokens are followed by ``ws``."""
    children = [child for child in node.children if child is not None]
    if node.data == "expansions":
        return "(" + " | ".join(_expr(child, rule) for child in children) + ")"
    if node.data == "alias":
        return _expr(children[0], rule)
    if node.data == "expansion":
        return " ".join(_expr(child, rule) for child in children) or '""'
    if node.data == "maybe":
        return f"({_expr(children[0], rule)})?"
    if node.data == "expr":
        return _quantified(_expr(children[0], rule), children[1:])
    if node.data == "literal":
        token = children[0]
        if token.type != "STRING":
            raise ValueError(f"rule {rule}: inline regular expressions are not translated")
        return f"{_literal(eval_string(token.value))} {WS_RULE}"
    if node.data == "name":
        symbol = children[0].value
        return f"{_name(symbol)} {WS_RULE}" if symbol.isupper() else _name(symbol)
    raise ValueError(f"rule {rule}: no GBNF form for {node.data}")


def _quantified(body: str, marks: list[Token]) -> str:
    """``body`` with a Lark quantifier: ``*``, ``+``, ``?`` or ``~ n`` / ``~ n..m``."""
    if not marks:
        return body
    if marks[0].type == "OP":
        return f"({body}){marks[0].value}"
    counts = [int(mark.value) for mark in marks]
    return _repeat(f"({body})", counts[0], counts[-1])


def eval_string(literal: str) -> str:
    """The text of a Lark string literal (``"..."``, JSON-style escapes)."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), literal[1:-1])


def _alternatives(body) -> list:
    """The top-level alternatives of a rule body."""
    return body.children if isinstance(body, Tree) and body.data == "expansions" else [body]


def _items(alternative) -> list:
    """The sequence of items of one alternative (its alias dropped)."""
    node = alternative.children[0] if alternative.data == "alias" else alternative
    return [c for c in node.children if c is not None] if node.data == "expansion" else [node]


def _first_symbol(alternative) -> str | None:
    """The rule name an alternative starts with, unquantified, if it starts with one."""
    first = _items(alternative)[0]
    plain = first.data == "expr" and not any(first.children[1:])
    node = first.children[0] if plain else first
    return node.children[0].value.lstrip("?!") if node.data == "name" else None


def _rule(name: str, body) -> str:
    """One GBNF rule, immediate left recursion turned into repetition and alternatives with a
    common first item merged."""
    recursive, base = [], []
    for alternative in _alternatives(body):
        items = [_expr(child, name) for child in _items(alternative)]
        (recursive if _first_symbol(alternative) == name else base).append(items)
    head = _factor(base)
    if not recursive:
        return f"{_name(name)} ::= {head}"
    return f"{_name(name)} ::= {_group(head)} {_repeat(_factor([items[1:] for items in recursive]), 0, MAX_REPEAT)}"


def _factor(alternatives: list[list[str]]) -> str:
    """Alternatives (each a list of GBNF items) with those sharing a first item merged:
    ``a b | a c | a`` becomes ``a (b | c)?``. llama.cpp's matcher follows every alternative
    that fits so far, for every token of the vocabulary at every step; without this, nested
    expressions (``relation: sum | sum cmp sum | ...``) multiply the paths it follows and each
    generated token takes seconds."""
    groups: dict[str, list[list[str]]] = {}
    for items in alternatives:
        groups.setdefault(items[0] if items else "", []).append(items[1:])
    parts = []
    for first, rests in groups.items():
        tails = [rest for rest in rests if rest]
        if len(rests) == 1 or not tails:
            parts.append(" ".join([first, *rests[0]]) or '""')
            continue
        optional = "?" if len(tails) < len(rests) else ""
        parts.append(f"{first} {_group(_factor(tails))}{optional}")
    return " | ".join(parts)


def _rules(grammar: str) -> list[tuple[str, object]]:
    """(name, body) of every rule of a Lark grammar text, in order."""
    tree = _meta_parser().parse(grammar.rstrip() + "\n")
    found = []
    for item in tree.iter_subtrees_topdown():
        if item.data == "rule":
            name, body = item.children[0].value.lstrip("?!"), item.children[-1]
            found.append((name, body))
    return found


@cache
def gbnf_grammar(grammar: str | None = None) -> str:
    """``grammar`` (default: the project's) as GBNF, ``root`` being its ``start`` rule.

    Every rule ``start`` leads to and every terminal those use is translated; whatever Lark ignores becomes
    the ``ws`` rule allowed after each token and at the start.
    """
    text = grammar_text() if grammar is None else grammar
    compiled = Lark(text, parser="earley")   # for its terminals; an answer grammar need not be LALR
    terminals = {t.name: t.pattern for t in compiled.terminals}
    rules = _reachable(_rules(text))
    lines = [f"root ::= {WS_RULE} start"]
    lines += [_rule(name, body) for name, body in rules]
    used = sorted({t for _, body in rules for t in _names(body, terminals=True)})
    lines += [f"{_name(name)} ::= {_terminal(terminals[name])}" for name in used]
    ignored = " | ".join(_unrepeated(_terminal(terminals[name])) for name in compiled.ignore_tokens)
    lines.append(f"{WS_RULE} ::= ({ignored})*" if ignored else f'{WS_RULE} ::= ""')
    return "\n".join(lines) + "\n"


def _unrepeated(expression: str) -> str:
    """An ignored terminal inside ``ws``'s own repetition: ``X+`` as ``X``, so the engine does
    not track the many ways to split a run of spaces."""
    return expression[:-1] if expression.endswith("+") and _group(expression[:-1]) == expression[:-1] else _group(expression)


def _names(body, terminals: bool) -> set[str]:
    """The named terminals (or rules) a rule body refers to."""
    return {node.children[0].value for node in (body.iter_subtrees() if isinstance(body, Tree) else [])
            if node.data == "name" and node.children[0].value.isupper() == terminals}


def _reachable(rules: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """The rules ``start`` leads to, in order (Lark drops the others and their terminals)."""
    bodies, seen, todo = dict(rules), set(), ["start"]
    while todo:
        name = todo.pop()
        if name in bodies and name not in seen:
            seen.add(name)
            todo += _names(bodies[name], terminals=False)
    return [(name, body) for name, body in rules if name in seen]
