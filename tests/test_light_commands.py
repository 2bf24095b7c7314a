"""The commands an editor or a user runs while writing (`check`, `fmt`, `explain`, `lsp`,
`--help`) import no torch: each is run in a fresh interpreter that then lists what it loaded."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = 'import "interaction"\nmotion "a person walks" for 2 s\ntouch: eventually: reaches(left_hand, head, 15 cm)\n'

SCENES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.mprog") if "scene {" in p.read_text())
"""Every example with a scene block: boxes, spheres, cylinders, planes, points and a mesh file."""

LOADED = """
import json, runpy, sys
for argv in json.loads(sys.argv[1]):
    sys.argv = ["motionprog", *argv]
    try:
        runpy.run_module("motionprog", run_name="__main__")
    except SystemExit as stop:
        status = stop.code or 0
    print("STATUS", status, file=sys.stderr)
heavy = sorted(m for m in ("torch", "trimesh", "scipy", "matplotlib", "transformers") if m in sys.modules)
print("HEAVY", heavy, file=sys.stderr)
"""


def run_all(*commands: list[str]) -> tuple[str, list[str]]:
    """(stdout, the last stderr lines: each command's exit status, then the heavy modules imported)
    of commands run one after another in one fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", LOADED, json.dumps(commands)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    return done.stdout, done.stderr.strip().splitlines()[-len(commands) - 1:]


def loaded(*args: str) -> tuple[str, str]:
    """(stdout, "HEAVY [modules] STATUS n") of one command."""
    out, (status, heavy) = run_all(list(args))
    return out, f"{heavy} {status}"


@pytest.mark.parametrize("command", [["check"], ["fmt"], ["explain"]])
def test_language_commands_import_no_torch(tmp_path, command):
    program = tmp_path / "touch.mprog"
    program.write_text(PROGRAM)
    out, heavy = loaded(*command, str(program))
    assert heavy == "HEAVY [] STATUS 0"
    if command == ["explain"]:
        assert "reaches(left_hand, head, 15 cm)" in out and "40 frames (2 s)" in out


def test_check_of_a_bad_program_imports_no_torch_and_exits_2(tmp_path):
    program = tmp_path / "bad.mprog"
    program.write_text('motion "walk" for 2 s\nat end: lefthand.y > 1 m\n')
    assert loaded("check", str(program))[1] == "HEAVY [] STATUS 2"


def test_programs_with_a_scene_check_format_and_explain_without_torch_or_trimesh():
    assert len(SCENES) >= 14 and "examples/sit_on_chair.mprog" in SCENES  # a mesh file too
    out, lines = run_all(["check", *SCENES], *(["fmt", p] for p in SCENES), *(["explain", p] for p in SCENES))
    assert lines == ["STATUS 0"] * (1 + 2 * len(SCENES)) + ["HEAVY []"]
    assert "duck: always: passes_under(head, bar, 15 cm)" in out  # fmt
    assert "relaxed: holds up to a turn about Y through (0, 1.9)" in out  # explain, the pivot between two points


def test_broken_scene_objects_are_reported_where_the_program_names_them_without_trimesh(tmp_path):
    (tmp_path / "stool.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n")
    program = tmp_path / "sit.mprog"
    program.write_text('motion "sit" for 2 s\nscene {\n  stool = mesh("stool.obj")\n  bar = box((0, 1, 0), (1, -1, 1))\n'
                       '  cloud = mesh("cloud.obj")\n}\nalways: pelvis.y > 0 m\n')
    (tmp_path / "cloud.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    out, lines = run_all(["check", "--json", str(program)])
    found = [(d["code"], d["span"]["line"], d["span"]["column"], d["message"]) for d in json.loads(out)]
    assert lines == ["STATUS 2", "HEAVY []"]
    assert found == [("E210", 3, 3, f"cannot read mesh {tmp_path / 'stool.obj'}: line 4: face vertex 7 does not exist"),
                     ("E210", 4, 3, "box size must be a positive number of metres, got -1.0"),
                     ("E210", 5, 3, f"mesh {tmp_path / 'cloud.obj'} has no triangles (a point cloud or an empty scene)")]


def test_help_lists_every_command_without_importing_them():
    out, heavy = loaded("--help")
    assert heavy == "HEAVY [] STATUS 0"
    for name in ("run", "watch", "lsp", "check", "batch", "prompt-eval"):
        assert f" {name} " in out


def test_the_language_server_imports_no_torch():
    code = "import sys, motionprog.lsp.server; print(sorted(m for m in ('torch', 'trimesh') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr


def test_listed_help_is_the_first_line_of_each_command_s_own():
    from motionprog.cli.app import COMMANDS, app

    group = typer.main.get_group(app)
    for name, (_, summary) in COMMANDS.items():
        command = group.get_command(None, name)
        assert summary == inspect.cleandoc(command.help).split("\n\n")[0].replace("\n", " "), name
