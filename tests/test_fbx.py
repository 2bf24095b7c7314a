"""FBX export's failures without Blender or with a failing one: one line, exit 2, no file.
(The export itself, through the real Blender, is tested in tests/test_blender.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from motionprog.motion import Motion, save_npz


@pytest.fixture
def npz(swinging_joints, tmp_path: Path) -> Path:
    save_npz(Motion(swinging_joints), tmp_path / "swing.npz")
    return tmp_path / "swing.npz"


def test_missing_blender_is_named_in_one_line(cli, npz: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    code, output = cli("convert", npz, tmp_path / "out.fbx")
    assert code == 2 and output.count("\n") == 1
    assert f"{tmp_path / 'out.fbx'}: FBX export needs Blender, which is not installed" in output
    assert not (tmp_path / "out.fbx").exists()


def test_failing_blender_leaves_no_file(cli, npz: Path, tmp_path: Path, monkeypatch) -> None:
    """A Blender that writes half a file and then fails: its last line is reported, nothing is kept."""
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "blender"
    fake.write_text('#!/bin/sh\necho partial > "$9"\n'  # $8 is the GLB, $9 the FBX Blender writes
                    'echo "Error: Python: Traceback ..." >&2\necho "RuntimeError: the importer broke" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    code, output = cli("convert", npz, tmp_path / "out.fbx")
    assert code == 2 and output.count("\n") == 1
    assert "out.fbx: Blender failed to export FBX (exit 1): RuntimeError: the importer broke" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "swing.npz"]
