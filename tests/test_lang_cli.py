"""`motionprog check`, `fmt` and `explain` through typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from motionprog.cli.app import app

GOOD = """motion "a person walks forward" for 6 s, seeds 4
scene {
  bar = box(center = (0, 1.25, 2.5), size = (3, 0.1, 0.3))
}
duck: always: head.y < bar.bottom - 10 cm when pelvis.z in [2, 3]
soft at end: pelvis.z>4 weight 2
"""


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_check_exits_0_for_a_valid_program(tmp_path):
    path = tmp_path / "walk.mprog"
    path.write_text(GOOD)
    result = run("check", str(path))
    assert result.exit_code == 0, result.output


def test_check_exits_2_with_rendered_diagnostics(tmp_path):
    good, bad = tmp_path / "good.mprog", tmp_path / "walk.mprog"
    good.write_text(GOOD)
    bad.write_text('motion "walk" for 2 s\nalways: lefthand.y < 1\n')
    result = run("check", str(good), str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2:9: error: unknown joint 'lefthand'" in result.output
    assert "2 | always: lefthand.y < 1\n            ^^^^^^^^\nhelp: did you mean 'left_hand'?" in result.output


def test_check_json_lists_diagnostics(tmp_path):
    bad = tmp_path / "bad.mprog"
    bad.write_text("always: head.y < 2 s")
    result = run("check", "--json", str(bad))
    assert result.exit_code == 2
    assert [d["code"] for d in json.loads(result.stdout)] == ["E205"]


def test_check_handles_missing_and_binary_files(tmp_path):
    binary = tmp_path / "garbage.mprog"
    binary.write_bytes(bytes(range(256)) * 10)
    result = run("check", str(binary), str(tmp_path / "missing.mprog"))
    assert result.exit_code == 2
    assert "not UTF-8 text" in result.output and "cannot read" in result.output
    assert "Traceback" not in result.output


def test_fmt_prints_canonical_form_and_write_makes_check_pass(tmp_path):
    path = tmp_path / "walk.mprog"
    path.write_text(GOOD)
    printed = run("fmt", str(path))
    assert printed.exit_code == 0
    assert "soft at end: pelvis.z > 4 weight 2\n" in printed.stdout
    assert run("fmt", "--check", str(path)).exit_code == 1
    assert run("fmt", "--write", str(path)).exit_code == 0
    assert path.read_text() == printed.stdout
    assert run("fmt", "--check", str(path)).exit_code == 0


def test_explain_states_window_unit_and_weight(tmp_path):
    path = tmp_path / "walk.mprog"
    path.write_text(GOOD)
    result = run("explain", str(path))
    assert result.exit_code == 0, result.output
    assert "- duck  [hard constraint, unit m, weight 1," in result.output
    assert "head.y is below bar.bottom - 10 cm, at every frame of the motion, whenever pelvis.z is between 2 and 3" in result.output
    assert "[soft constraint, unit m, weight 2," in result.output
    assert "pelvis.z is above 4, at frame 119 (5.95 s)" in result.output


def test_check_rejects_empty_and_oversized_files_with_exit_2(tmp_path):
    empty, huge = tmp_path / "empty.mprog", tmp_path / "huge.mprog"
    empty.write_text("")
    huge.write_text("# padding\n" * 1_100_000)
    result = run("check", str(empty), str(huge))
    assert result.exit_code == 2
    assert f"{empty}:1:1: error: the program is empty" in result.output
    assert "huge.mprog is too large (11.0 MB; the limit is 1 MB)" in result.output
