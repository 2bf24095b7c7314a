"""The grammars sent to servers for constrained decoding: the GBNF translation accepts every
program of the language (each example and standard-library file, read back through an
independent GBNF reader into a character-level Earley parser) and rejects what is not one;
llama.cpp's own GBNF parser accepts it when llama-cpp-python is installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import LarkError

from motionprog.llm.gbnf import gbnf_grammar
from motionprog.llm.reference import grammar_text

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted([*ROOT.glob("examples/*.mprog"), *ROOT.glob("constraints/*.mprog")])
GBNF_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:\\.|[^"\\])*")|(?P<cls>\[(?:\\.|[^\]\\])*\])|(?P<name>[A-Za-z0-9-]+)'
                        r'|(?P<repeat>\{\d+,\d*\})|(?P<op>[()|*+?]))')


def lark_name(name: str) -> str:
    """A GBNF rule name as a Lark rule name (GBNF names are case-sensitive, Lark's are lowercase)."""
    return ("t_" if any(c.isupper() for c in name) else "r_") + name.lower().replace("-", "_")


def gbnf_as_lark(gbnf: str) -> str:
    """A GBNF grammar read token by token and written as a character-level Lark grammar: an
    independent check of the translation, since Lark then parses with these rules alone."""
    rules = []
    for line in gbnf.splitlines():
        name, body = line.split("::=", 1)
        out, position = [], 0
        while body[position:].strip():
            token = GBNF_TOKEN.match(body, position)
            assert token, f"unreadable GBNF at {body[position:]!r}"
            position = token.end()
            kind, text = token.lastgroup, token.group(token.lastgroup)
            if kind == "cls":
                text = "/" + text.replace("/", "\\/") + "/"
            elif kind == "name":
                text = lark_name(text)
            elif kind == "repeat":
                low, high = text[1:-1].split(",")
                text = f"~ {low}..{high or 99}"
            out.append(text)
        rules.append(f"{lark_name(name.strip())}: {' '.join(out)}")
    return "\n".join(rules) + "\n"


@pytest.fixture(scope="module")
def gbnf_parser() -> Lark:
    return Lark(gbnf_as_lark(gbnf_grammar()), start="r_root", parser="earley", lexer="dynamic")


def test_gbnf_is_well_formed_and_covers_every_rule_and_terminal():
    gbnf = gbnf_grammar()
    defined = [line.split("::=")[0].strip() for line in gbnf.splitlines()]
    assert len(defined) == len(set(defined)) and defined[0] == "root"
    bodies = " ".join(re.sub(r'"(\\.|[^"\\])*"|\[(\\.|[^\]\\])*\]', " ", line.split("::=")[1])
                      for line in gbnf.splitlines())
    used = set(re.findall(r"[A-Za-z][A-Za-z0-9-]*", bodies))
    assert used <= set(defined), used - set(defined)
    lark_rules = {m.group(1) for m in re.finditer(r"^[?!]?([a-z_]+)\s*:", grammar_text(), re.MULTILINE)}
    assert {r.replace("_", "-") for r in lark_rules} <= set(defined)
    assert {"NAME", "NUMBER", "STRING", "UNIT", "ws"} <= set(defined)
    assert "(?" not in gbnf and "->" not in gbnf   # look-arounds and aliases have no GBNF form
    # immediate left recursion would loop llama.cpp's top-down matcher
    for line in gbnf.splitlines():
        name, body = (part.strip() for part in line.split("::="))
        assert not re.match(rf"\(?{re.escape(name)}(?![A-Za-z0-9-])", body), line


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_gbnf_accepts_every_example_and_library_file(gbnf_parser, path):
    gbnf_parser.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [
    "import os\nfor t in range(3):\n    print(t)\n",
    'motion "walk" for 2 s\nalways: head.y = 1 m\n',
    'motion "walk" for 2 s\nalways head.y > 1 m\n',
    "```mprog\nalways: head.y > 1\n```",
])
def test_gbnf_rejects_what_is_not_a_program(gbnf_parser, text):
    with pytest.raises(LarkError):
        gbnf_parser.parse(text)


def test_llama_cpp_parses_the_gbnf():
    llama_cpp = pytest.importorskip("llama_cpp")
    grammar = llama_cpp.LlamaGrammar.from_string(gbnf_grammar(), verbose=False)
    assert grammar is not None
