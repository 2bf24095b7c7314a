"""Reserved words are never names: every place a program defines one reports E207 at the name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from motionprog.lang import builder as mb
from motionprog.lang import check_source
from motionprog.lang.checker import reserved_words
from motionprog.lang.diagnostics import ProgramError
from motionprog.lang.parser import all_keywords, parse
from motionprog.lang.scene_description import identifiers

RESERVED = sorted(reserved_words())
USE = "\nalways: head.y < 2 m"


def errors(source: str) -> list[tuple[str, int, int, int, str]]:
    """(code, line, column, width, message) of each diagnostic of ``source``."""
    return [(d.code, d.span.line, d.span.column, d.span.end_column - d.span.column, d.message)
            for d in check_source(source, "names.mprog")]


def reserved(word: str, line: int, column: int) -> tuple[str, int, int, int, str]:
    return ("E207", line, column, len(word), f"'{word}' is a reserved word and cannot be a name")


def test_the_reserved_words_are_the_grammars_keywords_and_the_unit_words():
    assert {"at", "always", "then", "keep", "weight", "within", "about", "implies"} <= set(all_keywords())
    assert set(RESERVED) == set(all_keywords()) | {"m", "cm", "mm", "s", "ms", "frames", "deg", "rad"}


def test_the_language_reference_lists_every_reserved_word():
    text = Path(__file__).parents[1].joinpath("docs", "language.md").read_text()
    paragraph = text[text.index("Reserved words (never names)"):text.index("Defining one as a name")]
    listed = " ".join(re.findall(r"`([^`]+)`", paragraph)).split()
    assert sorted(listed) == RESERVED


@pytest.mark.parametrize("word", RESERVED)
def test_a_reserved_word_as_a_let_name_is_an_error_at_the_name(word):
    assert errors(f"let {word} = 1 m" + USE) == [reserved(word, 1, 5)]
    assert errors(f"let a = 1\n  let   {word} = 2" + USE) == [reserved(word, 2, 9)]


@pytest.mark.parametrize("word", RESERVED)
def test_a_reserved_word_as_a_function_or_parameter_name_is_an_error_at_the_name(word):
    assert errors(f"def {word}(x) = x + 1 m" + USE) == [reserved(word, 1, 5)]
    assert errors(f"def lift(x, {word}) = x + 1 m" + USE) == [reserved(word, 1, 13)]


@pytest.mark.parametrize("word", RESERVED)
def test_a_reserved_word_as_a_scene_object_is_an_error_at_the_name(word):
    assert errors(f"scene {{ goal = point(0, 0, 4)\n {word} = point(0, 0, 1) }}" + USE) == [reserved(word, 2, 2)]


@pytest.mark.parametrize("word", ["weight", "within", "until", "when", "implies", "m", "deg", "frames", "then"])
def test_a_reserved_word_as_a_label_is_an_error_at_the_label(word):
    assert errors(f"{word}: always: head.y < 2 m") == [reserved(word, 1, 1)]
    assert errors(f"{word}: maximize pelvis.y") == [reserved(word, 1, 1)]


def test_a_label_that_starts_a_statement_already_fails_to_parse():
    module, diagnostics = parse("at: always: head.y < 2 m")
    assert module is None and diagnostics[0].code == "E101"


@pytest.mark.parametrize("word", ["atlas", "at_place", "end_x", "ins", "weighty", "ms2", "s_1", "letter", "defs"])
def test_a_name_that_merely_starts_with_a_reserved_word_is_a_name(word):
    source = (f"let {word} = 1 m\ndef lift_{word}({word}) = {word} + 1 m\nscene {{ {word}_goal = point(0, 0, 4) }}\n"
              f"{word}: always: head.y < lift_{word}({word})\nat end: distance(pelvis.xz, {word}_goal.xz) < 30 cm")
    assert errors(source) == []


def test_a_reserved_let_is_reported_once_not_again_at_its_uses():
    assert errors("let at = 1 m\nalways: head.y < at\nat end: head.y > at") == [reserved("at", 1, 5)]


def test_an_unknown_reserved_word_is_not_suggested_as_a_scene_object():
    (reserved_word,) = check_source("always: head.y < at", "names.mprog")
    (name,) = check_source("always: head.y < atlas", "names.mprog")
    assert reserved_word.code == name.code == "E201" and reserved_word.help is None
    assert name.help.startswith("declare objects in the scene: scene { atlas = sphere(")


def test_the_builder_rejects_reserved_names_as_text_does():
    program = mb.ProgramBuilder("a person walks", length=mb.q(2, "s"))
    program.let("end", mb.q(1, "m"))
    program.constraint(mb.always(), mb.name("head").y < mb.q(2, "m"))
    with pytest.raises(ProgramError) as raised:
        program.compile()
    assert [(d.code, d.message) for d in raised.value.diagnostics] == [reserved("end", 1, 1)[::4]]


def test_scene_descriptions_rename_objects_whose_name_is_reserved():
    assert identifiers(["weight", "At", "m", "atlas"]) == ["weight_obj", "at_obj", "m_obj", "atlas"]
