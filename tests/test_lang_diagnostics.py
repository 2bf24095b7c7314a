"""Diagnostics: one snapshot per error code, the syntax-error table, and hostile inputs."""

from __future__ import annotations

import json

import pytest

from motionprog.lang import check_source, render_json, render_text
from motionprog.lang.diagnostics import apply_edits, has_errors
from motionprog.lang.parser import SYNTAX_EXAMPLES, parse

SNAPSHOTS = {
    "E101": ("always head.y < 1", """\
walk.mprog:1:8: error: expected ':' after the time selector
1 | always head.y < 1
           ^^^^"""),
    "E103": ("", """\
walk.mprog:1:1: error: the program is empty
help: start with a header such as: motion "a person walks" for 4 s"""),
    "E201": ("motion \"walk\" for 2 s\nalways: lefthand.y < 1", """\
walk.mprog:2:9: error: unknown joint 'lefthand'
2 | always: lefthand.y < 1
            ^^^^^^^^
help: did you mean 'left_hand'?"""),
    "E202": ("always: distanse(head, pelvis) < 1", """\
walk.mprog:1:9: error: unknown function 'distanse'
1 | always: distanse(head, pelvis) < 1
            ^^^^^^^^
help: did you mean 'distance'?"""),
    "E203": ("scene { bar = box((0, 1, 0), (1, 1, 1)) }\nalways: head.y < bar.botom", """\
walk.mprog:2:18: error: object 'bar' has no property or component '.botom'
2 | always: head.y < bar.botom
                     ^^^^^^^^^
help: did you mean 'bottom'?"""),
    "E204": ("always: distance(head) < 1", """\
walk.mprog:1:9: error: distance() takes 2 arguments, got 1
1 | always: distance(head) < 1
            ^^^^^^^^^^^^^^
help: signature: distance(a, b)"""),
    "E205": ("always: head.y < 2 s", """\
walk.mprog:1:9: error: unit mismatch in '<': m and s
1 | always: head.y < 2 s
            ^^^^^^^^^^^^"""),
    "E206": ("always: head < 1", """\
walk.mprog:1:9: error: '<' compares numbers; pick a component such as .y, or use '=='
1 | always: head < 1
            ^^^^^^^^"""),
    "E207": ("let a = 1\nlet a = 2\nalways: head.y < a", """\
walk.mprog:2:1: error: 'a' is already defined at line 1
2 | let a = 2
    ^^^^^^^^^"""),
    "E208": ("def f(x) = g(x)\ndef g(x) = f(x)\nalways: f(head.y)", """\
walk.mprog:2:12: error: recursive function 'f' (f -> g -> f)
2 | def g(x) = f(x)
               ^^^^
help: a function cannot call itself, directly or through others"""),
    "E210": ("scene { b = box(center = (0, 1, 0)) }", """\
walk.mprog:1:9: error: box() needs 'size'
1 | scene { b = box(center = (0, 1, 0)) }
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^"""),
    "W301": ("motion \"walk\" for 2 s\nat 3 s: head.y > 1", """\
walk.mprog:2:4: warning: 3 s is outside the motion (frames 0 to 39); using frame 39
2 | at 3 s: head.y > 1
       ^^^"""),
}


@pytest.mark.parametrize("code", sorted(SNAPSHOTS))
def test_each_code_renders_as_its_snapshot(code):
    source, expected = SNAPSHOTS[code]
    diagnostics = check_source(source, "walk.mprog")
    assert [d.code for d in diagnostics] == [code]
    assert render_text(diagnostics[0]) == expected


def test_import_errors_name_the_missing_library():
    diagnostics = check_source('import "no_such_library"', "walk.mprog")
    assert [d.code for d in diagnostics] == ["E209"]
    assert "'no_such_library'" in diagnostics[0].message


def test_every_broken_statement_is_reported_in_one_run():
    source = "always: lefthand.y < 1\nalways: head.y < 2 s\nalways: head.y < 1\nalways: speeed(head) < 1"
    assert [d.code for d in check_source(source, "w.mprog")] == ["E201", "E205", "E202"]


def test_json_rendering_keeps_code_span_and_help():
    diagnostics = check_source("always: lefthand.y < 1", "walk.mprog")
    (entry,) = json.loads(render_json(diagnostics))
    assert entry["code"] == "E201" and entry["help"] == "did you mean 'left_hand'?"
    assert (entry["span"]["line"], entry["span"]["column"]) == (1, 9)


@pytest.mark.parametrize("label", sorted(SYNTAX_EXAMPLES))
def test_syntax_error_table_gives_plain_messages(label):
    for snippet in SYNTAX_EXAMPLES[label]:
        module, diagnostics = parse(snippet, "bad.mprog")
        assert module is None and [d.message for d in diagnostics] == [label], snippet


@pytest.mark.parametrize("snippet, message", [
    ("at frame 30 head.y > 1", "expected ':' after the time selector"),
    ("always: head.y < 1 < 2", "relations cannot be chained; write 'a < b and b < c'"),
    ("always: distance(head, pelvis < 1", "missing ')'"),
    ("always: head.y < 3 feet", "unknown unit after a number; units are m, cm, mm, s, ms, frames, %, deg, rad, m/s, m/s^2"),
    ("always: head.y $ 1", "unexpected character '$'"),
])
def test_unseen_syntax_errors_get_the_same_messages(snippet, message):
    _, diagnostics = parse(snippet, "bad.mprog")
    assert diagnostics[0].code == "E101" and diagnostics[0].message == message


@pytest.mark.parametrize("source, code, fragment", [
    ("\x00\x01\x02binary\xff", "E102", "binary"),
    ("(" * 5000, "E102", "nest deeper than 64"),
    ("always: " + " + ".join(["head.y"] * 5000) + " < 1", "E102", "nests deeper"),
    ("always: " + "not " * 5000 + "head.y < 1", "E102", "nests deeper"),
    ("#" * 11_000_000, "E102", "too large"),
    ("   \n\n  # only a comment\n", "E103", "empty"),
    ("ßüñ 日本 ☃", "E101", "unexpected character"),
])
def test_hostile_inputs_give_one_diagnostic_and_no_traceback(source, code, fragment):
    diagnostics = check_source(source, "evil.mprog")
    assert [d.code for d in diagnostics] == [code]
    assert fragment in diagnostics[0].message
    render_text(diagnostics[0])


def test_nothing_is_executed_as_python(tmp_path):
    marker = tmp_path / "pwned"
    source = f'always: __import__("os").system("touch {marker}") < 1'
    assert check_source(source, "evil.mprog")
    assert not marker.exists()


def _keywords() -> list[str]:
    """Every word the grammar reserves somewhere (its string terminals spelled like names)."""
    from lark.lexer import PatternStr

    from motionprog.lang.parser import _lark

    return sorted(t.pattern.value for t in _lark().terminals
                  if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier())


def test_the_grammar_has_the_keywords_the_language_reference_lists():
    assert {"at", "always", "during", "start", "end", "frame", "soft", "within", "near", "inside"} <= set(_keywords())
    assert len(_keywords()) >= 35


@pytest.mark.parametrize("keyword", _keywords())
@pytest.mark.parametrize("suffix", ["_x", "1", "s", "_place"])
def test_a_name_that_starts_with_a_keyword_is_one_name_wherever_names_are_allowed(keyword, suffix):
    word = keyword + suffix
    source = (f"let {word} = 1 cm\ndef {word}({word}, b) = {word}.y > b\nscene {{ {word} = point(0, 0, {word}) }}\n"
              f"relax {word}\n{word}: at end: {word}({word}, {word}.{word} @ start) < {word} when {word} weight 1\n"
              f"{word}: maximize {word}.y\nscene {{ a = box(center = {word}, {word} = 1) }}\n")
    module, diagnostics = parse(source, "w.mprog")
    assert diagnostics == []
    let, definition, _, relax, constraint, objective, _ = module.statements
    assert (let.name, definition.name, definition.params, relax.items) == (word, word, (word, "b"), (word,))
    assert (constraint.label, objective.label, constraint.predicate.left.function) == (word, word, word)


@pytest.mark.parametrize("keyword", _keywords())
@pytest.mark.parametrize("before", ["goal:", "soft", "at", "always", "during 1 s .. 2 s", "every 2 s", "at end, "])
def test_a_name_that_starts_with_a_keyword_is_reported_whole_where_a_keyword_is_expected(keyword, before):
    word = keyword + "_place"
    source = f"{before} {word}(goal, 20 cm): x < 1"
    _, diagnostics = parse(source, "w.mprog")
    (found,) = diagnostics
    assert found.code == "E101"
    assert (found.span.column, found.span.end_column) == (len(before) + 2, len(before) + 2 + len(word)), found.message


def test_at_place_after_a_label_is_the_library_function_not_the_keyword_at():
    source = 'import "locomotion"\nmotion "walk" for 4 s\nscene { goal = point(0, 0, 5) }\n'
    (found,) = check_source(source + "reach: at_place(goal, 20 cm)\n", "walk.mprog")
    assert (found.span.line, found.span.column, found.span.end_column) == (4, 8, 16)
    assert check_source(source + "reach: at end: at_place(goal, 20 cm)\n", "walk.mprog") == []


def test_an_error_inside_a_library_function_points_at_the_call_with_the_library_line_as_a_note():
    source = 'import "locomotion"\nmotion "walk" for 4 s\nat end: at_place(pelvis, (0, 0))\n'
    (found,) = check_source(source, "walk.mprog")
    assert (found.code, found.span.file, found.span.line, found.span.column, found.span.end_column) == (
        "E206", "walk.mprog", 3, 9, 33)
    (inside,) = found.related
    assert (inside.span.file, inside.span.line) == ("<stdlib>/locomotion.mprog", 5)
    assert inside.message == "inside at_place(p, r): the pelvis is over the place p on the ground, within r (reach a goal, pass a waypoint)"
    text = render_text(found)
    assert text.startswith("walk.mprog:3:9: error: ")
    assert "\n<stdlib>/locomotion.mprog:5:22: note: inside at_place(p, r): the pelvis is over" in text
    assert "\n5 | def at_place(p, r) = distance(pelvis.xz, p.xz) < r\n" in text
    assert json.loads(render_json([found]))[0]["related"][0]["span"]["line"] == 5


def test_an_error_two_functions_deep_names_both_definitions_outermost_first():
    source = ('import "locomotion"\nmotion "walk" for 4 s\ndef slow(j) = speed_limit(j)\n'
              "always: slow(head)\n")
    (found,) = check_source(source, "walk.mprog")
    assert (found.span.line, found.span.column) == (4, 9)
    assert [(r.span.file, r.span.line, r.message.split(":")[0]) for r in found.related] == [
        ("walk.mprog", 3, "inside slow(j)"), ("<stdlib>/locomotion.mprog", 14, "inside speed_limit(v)")]


def test_a_misspelling_inside_a_user_function_is_reported_at_each_call_and_at_the_function_line():
    source = "def up(j) = j.y > lefthand.y\nat end: up(head)\nat start: up(pelvis)\n"
    found = check_source(source, "walk.mprog")
    assert [(d.code, d.span.line, d.related[0].span.line, d.related[0].span.column) for d in found] == [
        ("E201", 2, 1, 19), ("E201", 3, 1, 19)]
    assert found[0].help == "did you mean 'left_hand'?"


@pytest.mark.parametrize("label", sorted(SYNTAX_EXAMPLES))
def test_syntax_error_table_applies_after_other_statements_too(label):
    before = 'motion "walk" for 4 s\nscene { goal = point(0, 0, 5) }\nat end: head.y > 1\n'
    for snippet in SYNTAX_EXAMPLES[label]:
        _, diagnostics = parse(before + snippet, "bad.mprog")
        assert [d.message for d in diagnostics] == [label], snippet


SCENE = 'motion "a person walks" for 4 s\nscene { box1 = box(center = (0, 1, 2), size = (1, 1, 1))  goal = point(0, 0, 5) }\n'


@pytest.mark.parametrize("wrong, fixed, advice", [
    ("at end: touching(left_hand, box1, 2 cm)", "at end: touches(left_hand, box1, 2 cm)", "did you mean 'touches'?"),
    ("always: within(pelvis, box1)", "always: pelvis inside box1", "'within' is not a function"),
    ("at end: inside(pelvis, box1)", "at end: pelvis inside box1", "'inside' is a relation"),
    ("at end: near(left_hand, goal)", "at end: left_hand near goal", "'near' is a relation"),
    ("at end: position(pelvis) == goal", "at end: pelvis == goal", "already a position"),
    ("at end: height(head) > 1", "at end: head.y > 1", "write 'head.y'"),
    ("at end: head.height > 1", "at end: head.y > 1", "did you mean 'y'?"),
    ("at end: head.position == goal", "at end: head == goal", "drop '.position'"),
    ("at end: foot.y < 5 cm", "at end: feet.y < 5 cm", "did you mean 'feet'?"),
    ("at end: center_of_mass.y > 0.5", "at end: com.y > 0.5", "did you mean 'com'?"),
    ("at end: dist(head, goal) < 1", "at end: distance(head, goal) < 1", "did you mean 'distance'?"),
    ("at end: left_foot.y < ground + 5 cm", "at end: left_foot.y < 0 m + 5 cm", "the floor is the plane y = 0"),
    ("at end: head.y = 1", "at end: head.y == 1", "write '=='"),
    ("at end: head.y =< 1", "at end: head.y <= 1", "write '<='"),
    ("at end: head.y => 1", "at end: head.y >= 1", "write '>='"),
    ("at end: head.y ≤ 1", "at end: head.y <= 1", "write '<='"),
    ("at end: head.y > 1 && pelvis.y > 0.5", "at end: head.y > 1 and pelvis.y > 0.5", "write 'and'"),
    ("at end: head.y > 1 || pelvis.y > 0.5", "at end: head.y > 1 or pelvis.y > 0.5", "write 'or'"),
    ("at end: !collide(body, box1)", "at end: not collide(body, box1)", "write 'not'"),
    ("at end: head.y > 1 -> pelvis.y > 1", "at end: head.y > 1 implies pelvis.y > 1", "write 'implies'"),
    ("always: head.y < 1 if pelvis.y > 0.5", "always: head.y < 1 when pelvis.y > 0.5", "write 'when'"),
    ("at end: left_hand in box1", "at end: left_hand inside box1", "an object takes 'inside'"),
    ("at end: head.y < 1;", "at end: head.y < 1", "drop ';'"),
    ("during 1 s to 2 s: head.y < 1", "during 1 s .. 2 s: head.y < 1", "write '..'"),
    ("at 2 seconds: head.y < 1", "at 2 s: head.y < 1", "write 's'"),
    ("at end: head.y < 1.5 meters", "at end: head.y < 1.5 m", "write 'm'"),
    ("at beginning: head.y < 1", "at start: head.y < 1", "write 'start'"),
    ("at middle: head.y < 1", "at 50 %: head.y < 1", "write '50 %'"),
    ("finally: head.y < 1", "at end: head.y < 1", "write 'at end:'"),
    ("import contact", 'import "contact"', "quote it"),
    ("between 1 s and 2 s: head.y < 1", "during 1 s .. 2 s: head.y < 1", "written 'during a .. b'"),
    ("from 1 s to 2 s: head.y < 1", "during 1 s .. 2 s: head.y < 1", "written 'during a .. b'"),
    ("soft: at end: head.y < 1", "soft at end: head.y < 1", "drop ':' after 'soft'"),
    ("at end: head.y < 1 weight: 2", "at end: head.y < 1 weight 2", "drop ':' after 'weight'"),
    ("maximize: pelvis.y", "maximize pelvis.y", "drop ':' after 'maximize'"),
    ("def low(j): j.y < 5 cm", "def low(j) = j.y < 5 cm", "write '='"),
    ("let h := 1 m", "let h = 1 m", "write '='"),
    ("at end: distance(pelvis, goal) < 20 cm,", "at end: distance(pelvis, goal) < 20 cm", "drop ','"),
    ("at end: distance(pelvis, goal) < 20 cm)", "at end: distance(pelvis, goal) < 20 cm", "drop ')'"),
    ("during 1 s - 3 s: head.y < 1", "during 1 s .. 3 s: head.y < 1", "write '..' between"),
    ("at start: feet on ground", "at start: on_floor(feet)", "write 'on_floor(feet)'"),
    ("at end: left_foot on box1", "at end: stands_on(left_foot, box1)", "write 'stands_on(left_foot, box1)'"),
    ("at end: left_hand touches box1", "at end: touches(left_hand, box1, 2 cm)", "'touches(left_hand, box1, 2 cm)'"),
    ("at end: angle(left_hip, left_knee, left_ankle) > 90 deg",
     "at end: angle(direction(left_knee, left_hip), direction(left_knee, left_ankle)) > 90 deg", "the angle at left_knee"),
])
def test_a_common_mistake_gets_a_hint_whose_edits_give_a_program_that_checks(wrong, fixed, advice):
    diagnostics = check_source(SCENE + wrong + "\n", "walk.mprog")
    assert advice in diagnostics[0].help
    repaired = apply_edits(SCENE + wrong + "\n", diagnostics[0].hint)
    assert repaired.endswith(fixed + "\n")
    assert not has_errors(check_source(repaired, "walk.mprog")), repaired


def test_a_library_function_used_without_its_import_gets_the_import_as_an_edit():
    source = SCENE + "at end: touching(left_hand, box1)\n"
    (found,) = check_source(source, "walk.mprog")
    assert found.help == ("did you mean 'touches'? it is in the standard library: add 'import \"contact\"' at the "
                          "top; it takes touches(j, obj, gap)")
    assert apply_edits(source, found.hint) == 'import "contact"\n' + source.replace("touching", "touches")
    imported = 'import "contact"\n' + source
    (found,) = check_source(imported, "walk.mprog")
    assert found.help == "did you mean 'touches'? it takes touches(j, obj, gap)"
    assert [edit.text for edit in found.hint] == ["touches"]


@pytest.mark.parametrize("wrong, advice", [
    ("at end: distance(left_hand, ball) < 5 cm", "scene { ball = sphere("),
    ("at end: jump(pelvis)", "'eventually: pelvis.y > 1.3 m'"),
    ("never: head.y < 1", "write 'always: not (...)'"),
    ("at end: head.y != 1", "write 'not (a == b)'"),
    ("at end: pelvis.y > 0.5 and true", "there is no true or false"),
])
def test_a_mistake_without_one_right_edit_gets_advice_in_words(wrong, advice):
    (found,) = check_source(SCENE + wrong + "\n", "walk.mprog")
    assert advice in found.help and found.hint == ()


def test_the_hint_is_in_the_json_as_edits_of_the_source():
    (entry,) = json.loads(render_json(check_source("always: lefthand.y < 1", "walk.mprog")))
    assert entry["hint"] == [{"span": {"file": "walk.mprog", "line": 1, "column": 9, "end_line": 1,
                                       "end_column": 17, "text": "always: lefthand.y < 1"}, "text": "left_hand"}]


def test_the_hints_of_all_diagnostics_applied_together_fix_every_statement_once():
    source = SCENE + "at end: touching(left_hand, box1, 2 cm)\nat start: touching(right_hand, box1, 2 cm)\n"
    diagnostics = check_source(source, "walk.mprog")
    repaired = apply_edits(source, [edit for d in diagnostics for edit in d.hint])
    assert repaired.count('import "contact"') == 1 and repaired.count("touches(") == 2
    assert check_source(repaired, "walk.mprog") == []


def test_a_library_call_with_the_wrong_number_of_arguments_shows_its_parameters_and_doc():
    (found,) = check_source('import "locomotion"\nat end: at_place(pelvis)\n', "walk.mprog")
    assert found.code == "E204" and found.help.startswith("at_place(p, r): the pelvis is over the place p")


def test_a_unit_word_at_the_end_of_a_line_is_reported_there_not_on_the_next_statement():
    source = 'motion "a person ducks" for 4 seconds\n# the bar\nscene { bar = box(center = (0, 1, 1), size = (2, 0.1, 0.1)) }\n'
    (found,) = check_source(source, "duck.mprog")
    assert (found.message.split(";")[0], found.span.line, found.span.column) == ("unknown unit 'seconds'", 1, 31)
    assert apply_edits(source, found.hint).startswith('motion "a person ducks" for 4 s\n')
