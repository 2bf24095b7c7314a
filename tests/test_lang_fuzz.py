"""Hostile input for the language front end: random text, random bytes, mutated example
programs, deep nesting and huge numbers. ``check_source`` must answer with a list of
``Diagnostic``s and ``motionprog.compile`` with a ``Program`` or a ``ProgramError``; nothing
else may escape (no Lark exception, RecursionError, OverflowError, IndexError ...)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import motionprog
from motionprog.lang import Diagnostic, ProgramError, check_source

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = {p.stem: p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*.mprog"))}
TOKEN = re.compile(r"\s+|#[^\n]*|\"[^\"\n]*\"|[A-Za-z_][A-Za-z0-9_]*|[0-9.]+(?:[eE][-+]?[0-9]+)?|\S")
VOCABULARY = (
    "motion", "for", "seeds", "model", "import", "relax", "scene", "let", "def", "hard", "soft", "maximize",
    "minimize", "at", "always", "eventually", "during", "before", "after", "every", "start", "end", "frame",
    "when", "weight", "within", "in", "near", "inside", "outside", "above", "below", "and", "or", "not",
    "implies", "m", "cm", "mm", "s", "ms", "frames", "%", "deg", "rad", "m/s", "m/s^2", "(", ")", "[", "]", "{",
    "}", ",", ":", "=", "==", "<", "<=", ">", ">=", "+", "-", "*", "/", ".", "..", '"', '"contact"', "0", "1e400",
    "-3", "1e-320", "head", "feet", "body", "com", "facing", "pelvis.xz", "distance", "velocity", "min", "max",
    "mean", "collide", "box", "sphere", "mesh", "plane", "point", "goal", "x", "y", "\n", "\x00", "é", "\u202e",
    "@", "until", "about", "highest", "lowest", "centroid", "yaw", "xz",
)
"""Tokens inserted by mutations: every keyword, operator and unit, plus hostile odd ones."""

settings.register_profile("fuzz", deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          derandomize=True, database=None)
FUZZ = settings.get_profile("fuzz")


def tokens(text: str) -> list[str]:
    """The text cut into tokens (whitespace and comments kept), so joining them gives it back."""
    return TOKEN.findall(text)


def assert_only_diagnostics(text: str) -> None:
    """check_source answers with diagnostics; compile with a Program or a ProgramError, and a
    compiled program of modest length gives finite-shaped margins [1, K]."""
    diagnostics = check_source(text, "fuzz.mprog")
    assert isinstance(diagnostics, list) and all(isinstance(d, Diagnostic) for d in diagnostics)
    try:
        program = motionprog.compile(text, filename="fuzz.mprog")
    except ProgramError as exc:
        assert exc.diagnostics and all(isinstance(d, Diagnostic) for d in exc.diagnostics)
        assert any(d.level == "error" for d in diagnostics)
        return
    assert not any(d.level == "error" for d in diagnostics)
    if program.frames <= 200 and "mesh(" not in text:
        joints = torch.zeros(1, program.frames, 22, 3, dtype=torch.float64)
        assert program.margins(joints).shape == (1, len(program.constraints))


def test_token_cutting_round_trips():
    for text in EXAMPLES.values():
        assert "".join(tokens(text)) == text


@st.composite
def mutated_example(draw) -> str:
    """An example program with a few token deletions, insertions, duplications and swaps."""
    parts = tokens(draw(st.sampled_from(sorted(EXAMPLES.values()))))
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(("delete", "insert", "swap", "duplicate")))
        i = draw(st.integers(0, len(parts) - 1))
        if edit == "delete":
            del parts[i]
        elif edit == "insert":
            parts.insert(i, draw(st.sampled_from(VOCABULARY)))
        elif edit == "swap":
            j = draw(st.integers(0, len(parts) - 1))
            parts[i], parts[j] = parts[j], parts[i]
        else:
            parts.insert(i, parts[i])
    return "".join(parts)


@settings(FUZZ, max_examples=120)
@given(mutated_example())
def test_mutated_examples_give_only_diagnostics(text: str):
    assert_only_diagnostics(text)


@settings(FUZZ, max_examples=150)
@given(st.text(max_size=120))
def test_random_text_gives_only_diagnostics(text: str):
    assert_only_diagnostics(text)


@settings(FUZZ, max_examples=80)
@given(st.lists(st.sampled_from(VOCABULARY), max_size=30).map(" ".join))
def test_random_token_soup_gives_only_diagnostics(text: str):
    assert_only_diagnostics(text)


@settings(FUZZ, max_examples=40)
@given(st.binary(max_size=200))
def test_random_bytes_in_a_file_give_only_diagnostics(tmp_path_factory, data: bytes):
    path = tmp_path_factory.mktemp("bytes") / "garbage.mprog"
    path.write_bytes(data)
    try:
        motionprog.compile(path)
    except ProgramError as exc:
        assert all(isinstance(d, Diagnostic) for d in exc.diagnostics)
    assert_only_diagnostics(data.decode("utf-8", errors="replace"))


NUMBERS = st.sampled_from(("0", "1e308", "1e400", "99999999999999999999999", "1e-400", "0.0000001", "4294967297",
                           "1.5e10", "3"))


@settings(FUZZ, max_examples=30)
@given(NUMBERS, NUMBERS, NUMBERS, NUMBERS)
def test_huge_numbers_give_only_diagnostics(length: str, seeds: str, time: str, value: str):
    text = (f'motion "a person walks" for {length} frames, seeds {seeds}\n'
            f"scene {{ ball = sphere(center = ({value}, 1, {value}), radius = {value} cm) }}\n"
            f"at {time} s: head.y < {value} m weight {value}\n"
            f"every {time} frames: distance(left_hand, ball) > {value} mm\n"
            f"during {time} s .. {length} %: speed(pelvis) < {value} m/s\n")
    assert_only_diagnostics(text)


@pytest.mark.parametrize("depth", [10, 63, 64, 65, 200, 5000])
@pytest.mark.parametrize("shape", [
    "always: {open}head.y{close} < 1 m",
    "always: {nots}head.y < 1 m",
    "always: head.y < 1 m{sums}",
    "let a = {open}1{close}",
    "always: {calls}head.y{close} < 1 m",
])
def test_deep_nesting_gives_only_diagnostics(depth: int, shape: str):
    text = 'motion "a person walks" for 2 s\n' + shape.format(
        open="(" * depth, close=")" * depth, nots="not " * depth, sums=" + 1 cm" * depth, calls="abs(" * depth)
    assert_only_diagnostics(text)


@pytest.mark.parametrize("text", [
    "", " \n\t", "# only a comment\n", "\ufeffalways: feet.y >= 0", "always: feet.y >= 0\r\n",
    'motion "\u202eevil\u202c" for 2 s\nalways: feet.y >= 0', "always: h\u00e9ad.y < 1 m", "always: head.y < 1 \uff4d",
    "always: feet.y >= 0 \x00", 'import "../../../etc/passwd"', 'import "/dev/zero"', 'import "examples"',
    'scene { c = mesh("/dev/null") }', 'scene { c = mesh("../tests") }', "def f(x) = f(x)\nalways: f(head)",
    "def f(x) = g(x)\ndef g(x) = f(x)\nalways: f(head)", "__import__('os').system('true')", "always: " + "a" * 100_000,
    "at 1 s" * 10_000, "x" * 1_100_000, "relax yaw about (1, 2), yaw about (3, 4)\nalways: head.y > 1",
    "at end: head.y @ (end - 1e6 s - 1e6 s) > 1", "maximize head.y until 1e400", "at end" + " - 1 s" * 5_000 + ": head.y > 1",
    "relax yaw about midpoint(head, head).xz\nalways: head.y > 1", "always: centroid(body) @ (start + 1e300 %) > 1",
], ids=lambda text: ascii(text[:24]))
def test_hostile_snippets_give_only_diagnostics(text: str):
    assert_only_diagnostics(text)
