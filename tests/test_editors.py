"""The editor files stay true to the language: the TextMate grammar and the server's keyword
list hold every keyword and unit of grammar/motionprog.lark and every built-in."""

from __future__ import annotations

import json
import re

from conftest import REPO
from motionprog.body.skeleton import ALIASES, GROUPS, JOINT_NAMES
from motionprog.lang.builtins import FUNCTIONS, OBJECTS
from motionprog.lsp.features import KEYWORDS

LARK = (REPO / "grammar" / "motionprog.lark").read_text()
TEXTMATE = json.loads((REPO / "editors" / "vscode" / "syntaxes" / "mprog.tmLanguage.json").read_text())


def scope(name: str) -> re.Pattern:
    return re.compile(next(p["match"] for p in TEXTMATE["patterns"] if p.get("name") == name))


def highlighted(word: str) -> set[str]:
    """The scopes whose pattern matches all of ``word``."""
    return {p["name"] for p in TEXTMATE["patterns"]
            if "name" in p and "match" in p and re.fullmatch(p["match"], word)}


def test_every_keyword_of_the_grammar_is_completed_and_highlighted_as_a_keyword():
    keywords = set(re.findall(r'"([a-z]+)"', LARK))
    assert keywords == set(KEYWORDS)
    for word in keywords:
        assert any(s.startswith(("keyword.", "constant.language")) for s in highlighted(word)), word


def test_built_ins_and_body_names_have_their_own_scopes():
    assert all(highlighted(b.name) == {"support.function.mprog"} for b in FUNCTIONS)
    assert all(highlighted(b.name) == {"support.class.object.mprog"} for b in OBJECTS)
    assert all(highlighted(n) == {"variable.language.body.mprog"} for n in (*JOINT_NAMES, *ALIASES, *GROUPS))
    assert highlighted("left_hands") == set()


def test_units_follow_a_number_as_the_parser_reads_them():
    units = scope("keyword.other.unit.mprog")
    assert [m.group().strip() for m in units.finditer("10 cm, 2 s, 3 m/s^2, 50 %, 4 mm")] == ["cm", "s", "m/s^2", "%", "mm"]
    assert units.search("cm") is None and units.search("2 seeds") is None
