"""`motionprog convert` through the real entry point (exit codes, messages, files)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from motionprog.cli.app import main
from motionprog.motion import load_npz
from tests.conftest import shared_path


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["motionprog", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err


def test_vecs_to_npz_writes_the_stored_joints(monkeypatch, capsys, tmp_path) -> None:
    vecs = shared_path("fixtures/humanml3d/012314_joint_vecs.npy")
    out = tmp_path / "out.npz"
    code, stdout, _ = run_cli(monkeypatch, capsys, "convert", str(vecs), str(out), "--from", "humanml3d-vecs")
    assert code == 0 and "170 frames" in stdout
    motion = load_npz(out)
    stored = np.load(shared_path("fixtures/humanml3d/012314_joints.npy"))
    assert np.abs(motion.joints - stored).max() < 1e-5
    assert np.array_equal(motion.features, np.load(vecs))


def test_results_write_one_file_per_motion_or_the_picked_one(monkeypatch, capsys, tmp_path) -> None:
    motion = np.random.default_rng(1).normal(size=(2, 22, 3, 16)).astype(np.float32)
    np.save(tmp_path / "results.npy", {"motion": motion, "text": ["a", "b"], "lengths": np.array([16, 9])})
    code, _, _ = run_cli(monkeypatch, capsys, "convert", str(tmp_path / "results.npy"), str(tmp_path / "m.npy"))
    assert code == 0
    assert np.array_equal(np.load(tmp_path / "m_001.npy"), motion[1].transpose(2, 0, 1)[:9])
    assert np.load(tmp_path / "m_000.npy").shape == (16, 22, 3)
    code, _, _ = run_cli(monkeypatch, capsys, "convert", str(tmp_path / "results.npy"), str(tmp_path / "one.npz"), "--index", "1")
    assert code == 0 and load_npz(tmp_path / "one.npz").text == "b"
    assert not (tmp_path / "one_000.npz").exists()


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("bad.npy", "out.npz", "bad.npy: cannot tell the .npy kind from shape [4, 5]"),
        ("bad.npy", "out.npz --from humanml3d-joints", "bad.npy: expected joints [T, 22, 3], got shape [4, 5]"),
        ("missing.npy", "out.npz", "missing.npy: no such file"),
        ("good.npy", "out.xyz", "out.xyz: unknown output extension '.xyz'"),
        ("good.npy", "out.npz --index 3", "good.npy: --index 3 is out of range"),
        ("good.npy", "out.bvh --fps 23", "unsupported --fps 23 (use 20, 24, 25, 30, 60)"),
        ("good.npy", "out.glb", "cannot fit the skeleton at frame 0: pelvis's children coincide"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_output(monkeypatch, capsys, tmp_path, source, target, message) -> None:
    np.save(tmp_path / "bad.npy", np.zeros((4, 5), dtype=np.float32))
    np.save(tmp_path / "good.npy", np.zeros((4, 22, 3), dtype=np.float32))
    out, *options = target.split()
    code, _, stderr = run_cli(monkeypatch, capsys, "convert", str(tmp_path / source), str(tmp_path / out), *options)
    assert code == 2
    assert stderr.startswith("error: ") and message in stderr and stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npy", "good.npy"]
