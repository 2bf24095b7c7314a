"""The program boundary (docs/security.md, "Programs"): which files a program reads, what its
diagnostics may quote, and the limits `check` enforces before anything is evaluated."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trimesh
from typer.testing import CliRunner

import motionprog
from motionprog.cli.app import app
from motionprog.lang import ProgramError, check_source, render_json, render_text
from motionprog.lang.checker import MAX_SEEDS, MAX_STATEMENT_NODES
from motionprog.lang.program import check_text

SECRET = "API_KEY=sk-do-not-leak-4242"


def rendered(diagnostics) -> str:
    return "\n".join(render_text(d) for d in diagnostics) + render_json(diagnostics)


@pytest.fixture
def secret_dir(tmp_path: Path) -> Path:
    """A directory outside the program's, holding a secret that is not a program."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "shadow").write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
    (tmp_path / "prog").mkdir()
    return secrets


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/shadow", "/dev/zero", "/etc/passwd"])
def test_system_files_are_refused_without_their_content(target: str):
    diagnostics = check_source(f'import "{target}"\nalways: head.y > 1', "/tmp/walk.mprog")
    assert [d.code for d in diagnostics] == ["E209"]
    assert "a standard library module or a .mprog file" in diagnostics[0].message
    assert os.environ.get("PATH", "PATH") not in rendered(diagnostics)


def test_a_secret_behind_a_program_name_is_never_quoted(secret_dir: Path):
    program_dir = secret_dir.parent / "prog"
    (program_dir / "lib.mprog").symlink_to(secret_dir / "shadow")
    source = 'import "lib.mprog"\nalways: head.y > 1'
    refused = check_text(source, str(program_dir / "walk.mprog"))[1]
    assert "outside the program's directory" in refused[0].message and SECRET not in rendered(refused)
    allowed = check_text(source, str(program_dir / "walk.mprog"), allow_paths=[secret_dir])[1]
    assert [d.code for d in allowed] == ["E102"]
    assert allowed[0].message.endswith("is not a motionprog program (syntax error at line 1, column 6)")
    assert SECRET not in rendered(allowed) and "19000" not in rendered(allowed)


def test_proc_stays_closed_even_when_allowed(tmp_path: Path):
    (tmp_path / "env.mprog").symlink_to("/proc/self/environ")
    diagnostics = check_text('import "env.mprog"', str(tmp_path / "walk.mprog"), allow_paths=["/proc"])[1]
    assert "programs never read /proc, /sys or /dev" in diagnostics[0].message
    assert os.environ.get("PATH", "PATH") not in rendered(diagnostics)


def test_a_main_file_that_is_not_a_program_is_reported_by_position_only(secret_dir: Path):
    with pytest.raises(ProgramError) as caught:
        motionprog.compile(Path(secret_dir / "shadow"))
    assert SECRET not in rendered(caught.value.diagnostics) and "line 1, column 6" in str(caught.value)
    with pytest.raises(ProgramError) as caught:
        motionprog.compile(Path("/proc/self/environ"))
    assert "never read /proc" in str(caught.value)


def test_a_broken_mprog_file_keeps_its_caret(tmp_path: Path):
    (tmp_path / "walk.mprog").write_text("always: head.y <\n")
    with pytest.raises(ProgramError) as caught:
        motionprog.compile(tmp_path / "walk.mprog")
    assert "1 | always: head.y <" in render_text(caught.value.diagnostics[0])


def test_imports_outside_the_program_directory_need_an_allowed_path(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "lib.mprog").write_text("def up(j) = j.y > 1\n")
    (tmp_path / "prog").mkdir()
    (tmp_path / "prog" / "walk.mprog").write_text('import "../shared/lib.mprog"\nalways: up(head)\n')
    with pytest.raises(ProgramError, match="outside the program's directory"):
        motionprog.compile(tmp_path / "prog" / "walk.mprog")
    program = motionprog.compile(tmp_path / "prog" / "walk.mprog", allow_paths=[tmp_path / "shared"])
    assert [c.name for c in program.constraints] == ["always: up(head)"]


def test_meshes_follow_the_same_boundary(tmp_path: Path):
    (tmp_path / "meshes").mkdir()
    trimesh.creation.box(extents=(0.5, 0.5, 0.5)).export(tmp_path / "meshes" / "stool.obj")
    (tmp_path / "prog").mkdir()
    source = 'scene { stool = mesh("../meshes/stool.obj") }\nalways: distance(pelvis, stool) > 0'
    file = str(tmp_path / "prog" / "sit.mprog")
    assert "outside the program's directory" in check_text(source, file)[1][0].message
    assert check_text(source, file, allow_paths=[tmp_path / "meshes"])[1] == []
    device = check_text('scene { c = mesh("/dev/null") }\nalways: head.y > 1', file, allow_paths=["/dev"])[1]
    assert "never read /proc, /sys or /dev" in device[0].message


def test_exponential_defs_are_refused_by_check(tmp_path: Path):
    defs = "def f0(x) = x.y\n" + "".join(f"def f{n}(x) = f{n - 1}(x) + f{n - 1}(x)\n" for n in range(1, 21))
    (diagnostic,) = check_source(defs + "always: f20(head) < 1 m", "blow.mprog")
    assert (diagnostic.code, diagnostic.span.line) == ("E212", 22)
    assert f"more than {MAX_STATEMENT_NODES} nodes" in diagnostic.message
    nested = "def d(x) = x + x\nalways: " + "d(" * 40 + "head.y" + ")" * 40 + " < 1 m"
    assert [d.code for d in check_source(nested, "blow.mprog")] == ["E212"]


def test_doubling_lets_are_refused_once_at_the_let_that_grows_too_large():
    lets = "let a0 = head.y\n" + "".join(f"let a{n} = a{n - 1} + a{n - 1}\n" for n in range(1, 20))
    diagnostics = check_source(lets + "always: a19 < 1 m", "blow.mprog")
    assert [(d.code, d.span.line) for d in diagnostics] == [("E212", 13)]  # a12: 3 * 2^12 - 1 nodes
    small = "let a0 = head.y\n" + "".join(f"let a{n} = a{n - 1} + a{n - 1}\n" for n in range(1, 8))
    assert check_source(small + "always: a7 < 1 m", "ok.mprog") == []


@pytest.mark.parametrize(("header", "message"), [
    ('motion "walk" for 1 frames', "the motion length must be 2 to 10000 frames (0.1 s to 500 s)"),
    (f'motion "walk" seeds {MAX_SEEDS + 1}', f"seeds must be a whole number from 1 to {MAX_SEEDS}"),
    ('motion "walk" seeds 1024', f"seeds must be a whole number from 1 to {MAX_SEEDS}"),
])
def test_header_limits_are_diagnostics(header: str, message: str):
    (diagnostic,) = check_source(header + "\nalways: head.y > 1 m", "walk.mprog")
    assert (diagnostic.code, diagnostic.message) == ("E210", message)


def test_a_frame_override_below_two_frames_is_refused():
    with pytest.raises(ProgramError, match="the motion length must be 2 to 10000 frames, got 1"):
        motionprog.compile("always: head.y > 1 m", frames=1)
    assert motionprog.compile("always: head.y > 1 m", frames=2).frames == 2


def test_check_cli_takes_allowed_paths(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "lib.mprog").write_text("def up(j) = j.y > 1\n")
    (tmp_path / "prog").mkdir()
    program = tmp_path / "prog" / "walk.mprog"
    program.write_text('import "../shared/lib.mprog"\nalways: up(head)\n')
    runner = CliRunner()
    assert runner.invoke(app, ["check", str(program)]).exit_code == 2
    result = runner.invoke(app, ["check", str(program), "--allow-path", str(tmp_path / "shared")])
    assert result.exit_code == 0, result.output


def test_the_program_limit_is_reported_once():
    lets = "let a0 = head.y\n" + "".join(f"let a{n} = a{n - 1} + a{n - 1}\n" for n in range(1, 12))
    statements = "".join(f"always: a11 > {k} m\n" for k in range(10))
    diagnostics = check_source(lets + statements + "relax yaw about (1, 2)\n", "big.mprog")
    assert [(d.code, d.span.line) for d in diagnostics] == [("E212", 19)]
    assert "the program expands to more than 50000 nodes" in diagnostics[0].message
