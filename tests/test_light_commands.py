"""The commands an editor or a user runs while writing (`check`, `fmt`, `explain`, `lsp`,
`--help`) import no torch: each is run in a fresh interpreter that then lists what it loaded."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = 'import "interaction"\nmotion "a person walks" for 2 s\ntouch: eventually: reaches(left_hand, head, 15 cm)\n'

LOADED = """
import runpy, sys
sys.argv = ["motionprog", *sys.argv[1:]]
try:
    runpy.run_module("motionprog", run_name="__main__")
except SystemExit as stop:
    status = stop.code or 0
heavy = sorted(m for m in ("torch", "trimesh", "scipy", "matplotlib", "sentence_transformers") if m in sys.modules)
print("HEAVY", heavy, "STATUS", status, file=sys.stderr)
"""


def loaded(*args: str) -> tuple[str, str]:
    """(stdout, the last stderr line: heavy modules imported and the exit status) of one command."""
    done = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    return done.stdout, done.stderr.strip().splitlines()[-1]


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
