"""`motionprog run` end to end through the console entry point, on a tiny random model saved as
a weights file (the ``cli`` fixture of conftest.py): exit codes 0 / 3 / 2, the written motion and report, the final table."""

from __future__ import annotations

import json
import re

import pytest

from motionprog.motion import load_npz

FAST = ["--steps", "4", "--iters", "40", "--device", "cpu", "--natural-weight", "0"]
"""The tiny model is random, not a prior: no naturalness penalty (tests/test_optimize.py has it)."""


BAND = 'motion "a person walks" for 40 frames, seeds {seeds}\npelvis_band: at frame 10: pelvis.y in [1.0, 1.02]\n'
"""A program the tiny model can satisfy: the pelvis height at one frame within a 2 cm band."""


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(source)
    return path


def test_satisfied_program_exits_0_and_writes_motion_and_report(tmp_path, tiny_weights, cli):
    program = write(tmp_path, "band.mprog", BAND.format(seeds=4))
    out, report_path = tmp_path / "out.npz", tmp_path / "report.json"
    status, output = cli("run", program, "-o", out, "--model", tiny_weights, "--report", report_path, *FAST)
    assert status == 0, output
    report = json.loads(report_path.read_text())
    assert report["satisfied"] is True
    assert "band.mprog:2" in report["constraints"][0]["source"]
    motion = load_npz(out)
    assert motion.metadata["report"] == report
    assert 1.0 <= float(motion.joints[10, 0, 1]) <= 1.02
    assert "pelvis_band" in output and "peak memory" in output


def test_infeasible_program_exits_3_and_still_writes_the_flagged_motion(tmp_path, tiny_weights, cli):
    program = write(tmp_path, "head.mprog", 'motion "a person walks" for 40 frames, seeds 2\n'
                    'high: at frame 10: head.y > 3 m\nlow: at frame 10: head.y < 1 m\n')
    out = tmp_path / "out.npz"
    status, output = cli("run", program, "-o", out, "--model", tiny_weights, *FAST)
    assert status == 3, output
    assert load_npz(out).metadata["report"]["satisfied"] is False
    assert "conflict" in output and "'high'" in output and "'low'" in output


def test_program_error_exits_2_with_the_diagnostic(tmp_path, tiny_weights, cli):
    program = write(tmp_path, "bad.mprog", 'motion "walk" for 40 frames\nat end: lefthand.y > 1 m\n')
    out = tmp_path / "out.npz"
    status, output = cli("run", program, "-o", out, "--model", tiny_weights, *FAST)
    assert status == 2
    assert "bad.mprog:2:" in output and "lefthand" in output and "^" in output
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--method", "slow"], "error: method must be 'fast' or 'progmogen'"),
    (["--device", "tpu"], "error: "),
    (["--seeds", "0"], "seeds"),
])
def test_bad_input_exits_2(tmp_path, tiny_weights, cli, args, message):
    program = write(tmp_path, "ok.mprog", 'motion "walk" for 40 frames\nat end: pelvis.y > 0\n')
    status, output = cli("run", program, "-o", tmp_path / "o.npz", "--model", tiny_weights, *FAST, *args)
    assert status == 2, output
    assert message in output


def test_too_long_program_is_refused_with_the_limit(tmp_path, tiny_weights, cli):
    program = write(tmp_path, "long.mprog", 'motion "walk" for 60 s, seeds 16\nat end: pelvis.y > 0\n')
    status, output = cli("run", program, "-o", tmp_path / "o.npz", "--model", tiny_weights, *FAST)
    assert status == 2 and not (tmp_path / "o.npz").exists()
    assert "error: the program asks for 16 seed(s) of 1200 frames (60 s): " in output
    assert "over the limit of 12544; ask for fewer seeds or a shorter motion" in output


def test_missing_program_file_exits_2(tmp_path, tiny_weights, cli):
    status, output = cli("run", tmp_path / "nope.mprog", "-o", tmp_path / "o.npz", "--model", tiny_weights)
    assert status == 2 and "nope.mprog" in output


def test_view_writes_a_self_contained_viewer_with_the_report(tmp_path, tiny_weights, cli):
    program = write(tmp_path, "band.mprog", BAND.format(seeds=2))
    out, page = tmp_path / "out.npz", tmp_path / "out.html"
    status, output = cli("run", program, "-o", out, "--model", tiny_weights, "--view", page, *FAST)
    assert status == 0, output
    html = page.read_text()
    assert "pelvis_band" in html and "<script" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched from the network


def test_run_refuses_to_overwrite_its_program_before_any_work(cli, tmp_path):
    program = tmp_path / "p.mprog"
    source = 'motion "a person walks" for 20 frames, seeds 1\nat end: pelvis.y > 0\n'
    program.write_text(source)
    status, output = cli("run", program, "-o", program)
    assert status == 2 and "extension" in output and program.read_text() == source
    odd = tmp_path / "odd.npz"  # a program under a motion's name: the clash itself is refused
    odd.write_text(source)
    status, output = cli("run", odd, "-o", odd)
    assert status == 2 and "input of the command" in output and odd.read_text() == source
    status, output = cli("run", program, "-o", tmp_path / "out.npz", "--report", tmp_path / "r.txt")
    assert status == 2 and not (tmp_path / "out.npz").exists()


def test_sample_refuses_a_wrong_suffix(cli, tmp_path):
    status, output = cli("sample", "a person walks", "-o", tmp_path / "walk.mprog", "--frames", "20")
    assert status == 2 and "extension" in output and not (tmp_path / "walk.mprog").exists()
