"""The grammar one task's answer is held to: every sentence of it is a program of the language
(random derivations of it, parsed by the language's parser), the examples' answers fit it, and what the small
real model wrote before it (a label alone on a line, an object the scene lacks, comments, `=`,
a value where a condition goes, no constraint) does not, in Lark and in the GBNF a llama.cpp server receives alike."""

from __future__ import annotations

import random
import re
import re._constants as sre  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
import string
from functools import cache
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import LarkError
from test_llm_grammar import gbnf_as_lark

from motionprog.lang.parser import parse
from motionprog.llm.gbnf import gbnf_grammar
from motionprog.llm.prompt import answer, checked_examples
from motionprog.llm.task_grammar import MOST_LINES, fits, object_words, scene_names, split_scene, task_grammar, with_scene

ROOT = Path(__file__).resolve().parents[1]
PRINTABLE = string.ascii_letters + string.digits + " _.,;:!?'-()"
SCENE = "scene {\n  bar = box(center = (0, 1.25, 2.5), size = (3, 0.1, 0.3))\n}"
DUCK = 'import "interaction"\nmotion "a person ducks" for 6 s, seeds 4\nunder: always: passes_under(head, bar, 10 cm)\n'
# answers the real Qwen2.5-Coder-1.5B gave under the whole language's grammar (docs/llm.md)
MISTAKES = {
    "a label alone on its lines": 'motion "walk" for 4 s\nmotionprog\n    :\n        always: head.y > 1 m\n',
    "an object the scene lacks": 'motion "walk" for 4 s\nat end: distance(pelvis.xz, ball.center.xz) < 50 cm\n',
    "a comment": 'motion "walk" for 4 s\n# Note: approximate\nalways: head.y > 1 m\n',
    "= for ==": 'motion "walk" for 4 s\nalways: feet.y = 0\n',
    "an invented function": 'motion "walk" for 4 s\nat 2 s: touching(left_hand, head)\n',
    "a let": 'motion "walk" for 4 s\nlet top = 1 m\nalways: head.y < top\n',
    "no header": "always: head.y > 1 m\n",
    "a constraint over two lines": 'motion "walk" for 4 s\nalways:\n head.y > 1 m\n',
    "a scene of its own": f'motion "walk" for 4 s\n{SCENE}\nalways: head.y > 1 m\n',
    "too many lines": 'motion "walk" for 4 s\n' + "always: head.y > 1 m\n" * (MOST_LINES + 1),
    # and under the answer grammar of before (conditions and values mixed, no constraint)
    "only an objective": 'motion "jump" for 4 s\nmaximize highest(pelvis.y) weight 0.1\n',
    "a value as a condition": 'motion "sit" for 6 s\nto_chair: always: pelvis.z > 1.5 m and feet.xz @ end\n',
    "a component of a number": 'motion "lie" for 6 s\nlie: always: head.y > bar.top.y - 15 cm\n',
    "a number that never ends": 'motion "carry" for 6 s\nalways: com.y > 0.' + "0" * 40 + "1 m\n",
    "a vector in an order comparison": ('import "interaction"\nmotion "duck" for 6 s\n'
                                        "duck: always: passes_under(head, bar, 10 cm) when head.xz >= 2.5\n"),
}


@cache
def gbnf_parser(objects: tuple[str, ...]) -> Lark:
    """The GBNF a llama.cpp server receives for a task with these scene objects, read back."""
    return Lark(gbnf_as_lark(gbnf_grammar(task_grammar("", list(objects)))), start="r_root", lexer="dynamic")


def gbnf_accepts(text: str, objects: tuple[str, ...]) -> bool:
    try:
        gbnf_parser(objects).parse(text)
    except LarkError:
        return False
    return True


def sample_regex(items, rng: random.Random) -> str:
    """A random string matching a parsed regular expression (repetitions kept short)."""
    out = []
    for op, value in items:
        if op is sre.LITERAL:
            out.append(chr(value))
        elif op is sre.IN:
            negated = value[0][0] is sre.NEGATE
            allowed = [c for c in PRINTABLE if any(
                (kind is sre.LITERAL and ord(c) == arg) or (kind is sre.RANGE and arg[0] <= ord(c) <= arg[1])
                or (kind is sre.CATEGORY and c.isdigit()) for kind, arg in value)]
            out.append(rng.choice([c for c in PRINTABLE if c not in allowed] if negated else allowed))
        elif op is sre.BRANCH:
            out.append(sample_regex(rng.choice(value[1]), rng))
        elif op is sre.SUBPATTERN:
            out.append(sample_regex(value[-1], rng))
        elif op is sre.MAX_REPEAT:
            low, high, body = value
            out += [sample_regex(body, rng) for _ in range(rng.randint(low, min(high, low + 3)))]
    return "".join(out)


def sample_matching(pattern: str, rng: random.Random) -> str:
    """A random string the whole ``pattern`` matches (the sampler skips look-aheads: a label
    drawn as a reserved word is drawn again)."""
    while not re.fullmatch(pattern, text := sample_regex(sre_parse.parse(pattern), rng)):
        pass
    return text


def sentence(parser: Lark, rng: random.Random, symbol: str = "start", depth: int = 0) -> list[str]:
    """The tokens of a random derivation of ``symbol`` (past depth 6, the shortest choices)."""
    rules = [rule for rule in parser.rules if rule.origin.name == symbol]
    if depth > 6:
        rules = sorted(rules, key=lambda rule: sum(not s.is_term for s in rule.expansion))[:1]
    tokens = []
    for part in rng.choice(rules).expansion:
        if not part.is_term:
            tokens += sentence(parser, rng, part.name, depth + 1)
            continue
        pattern = parser.get_terminal(part.name).pattern
        tokens.append(pattern.value if pattern.type == "str" else sample_matching(pattern.value, rng))
    return tokens


@pytest.mark.parametrize("objects", [("bar",), None], ids=["given scene", "no scene"])
def test_every_sentence_of_an_answer_grammar_is_a_program(objects):
    parser = Lark(task_grammar("a person sits on a chair", None if objects is None else list(objects)), parser="earley")
    rng = random.Random(7)
    for _ in range(300):
        text = " ".join(sentence(parser, rng)).replace(" \n ", "\n")   # as a model writes: spaces between tokens
        module, diagnostics = parse(text)
        assert module is not None, (text, diagnostics)


def test_the_examples_answers_fit_their_grammar_in_lark_and_in_gbnf():
    examples = checked_examples()
    assert len(examples) >= 15
    for index, (name, source) in enumerate(examples):
        objects = tuple(scene_names(split_scene(source)[1]))
        assert fits(answer(source), list(objects)), name
        if index % 4 == 0:   # the GBNF read back is a slow character-level parser: every fourth
            assert gbnf_accepts(answer(source) + "\n", objects), name


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_what_the_small_model_wrote_does_not_fit(mistake):
    text = MISTAKES[mistake]
    assert (parse(text)[0] is not None) == (mistake != "= for ==")   # the whole language admits the rest
    assert not fits(text, ["bar"]) and not gbnf_accepts(text, ("bar",))


def test_a_duck_under_the_bar_answer_fits_only_with_the_bar():
    assert fits(DUCK, ["bar"]) and gbnf_accepts(DUCK, ("bar",))
    assert not fits(DUCK, ["beam"]) and not gbnf_accepts(DUCK, ("beam",))


def test_without_a_scene_the_model_may_declare_objects_the_task_names():
    chair = 'motion "sit" for 4 s\nscene { chair = box(center = (0, 0.45, 1.5), size = (0.5, 0.5, 0.5)) }\nat end: pelvis.y < chair.top + 20 cm\n'
    parser = Lark(task_grammar("A person walks to a chair and sits on it"), parser="earley")
    parser.parse(chair)
    assert object_words("A person walks 2 metres to a chair and turns 90 degrees") == ["chair", "turns", "walks"]
    for wrong in (chair.replace("chair", "table"), chair.replace("box(", "mesh(")):
        with pytest.raises(LarkError):
            parser.parse(wrong)
    assert parse(chair)[0] is not None


def test_the_given_scene_goes_in_after_the_header_once():
    program = with_scene(DUCK, SCENE)
    lines = program.splitlines()
    assert lines[1].startswith("motion") and lines[2] == "scene {" and program.count("scene {") == 1
    assert with_scene(program, SCENE) == program and with_scene(DUCK, None) == DUCK
    assert scene_names(SCENE) == ["bar"] and scene_names("scene { a = point(0, 0, 1) }") == ["a"]


def test_alternative_words_become_a_prefix_tree_that_accepts_exactly_them():
    words = ["hip", "hips", "left_hip", "left_hand", "head"]
    gbnf = gbnf_grammar('start: WORD\nWORD: ' + " | ".join(f'"{w}"' for w in words) + '\n%ignore " "\n')
    assert gbnf.count('"hip"') == 0 and '"left_h"' in gbnf   # shared prefixes written once
    reader = Lark(gbnf_as_lark(gbnf), start="r_root", lexer="dynamic")
    for word in words:
        reader.parse(word)
    for other in ("hi", "left_", "hipss", "heads", "left_hiphand"):
        with pytest.raises(LarkError):
            reader.parse(other)
