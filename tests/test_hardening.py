"""Each example of the hostile-input audit (issue 14) in the readers, writers, viewer and CLI
commands, reproduced and shown fixed: outputs that would clobber inputs, BVH and npz files that
blew up, the viewer's script injection and mesh embedding, pickles that ran code, temporary
files left by killed processes, and escape sequences reaching the terminal."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path, remove_stale, write_text
from motionprog.io.bvh import read_bvh, write_bvh
from motionprog.io.outputs import check_outputs
from motionprog.motion import Motion, load_npz, save_npz
from motionprog.render.viewer import script_json, viewer_html

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def motion_file(tmp_path, swinging_joints) -> Path:
    path = tmp_path / "walk.npz"
    save_npz(Motion(swinging_joints, text="walk"), path)
    return path


# Outputs never clobber inputs


@pytest.mark.parametrize("command", [
    ["convert", "{in}", "{in}"],
    ["view", "{in}", "-o", "{in}"],
    ["render", "{in}", "-o", "{in}"],
    ["plot", "{in}", "-o", "{in}"],
])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(cli, motion_file, command):
    before = motion_file.read_bytes()
    status, output = cli(*(part.format(**{"in": motion_file}) for part in command))
    assert status == 2 and output.count("\n") == 1 and output.startswith("error: ")
    assert "is an input of the command" in output or "unknown output extension '.npz'" in output
    assert motion_file.read_bytes() == before


def test_links_to_an_input_and_twin_outputs_are_refused(tmp_path, motion_file):
    (tmp_path / "link.npz").symlink_to(motion_file)
    os.link(motion_file, tmp_path / "hard.npz")
    for alias in ("link.npz", "hard.npz"):
        with pytest.raises(InputError, match=f"--out .*{alias}: this file is an input of the command"):
            check_outputs([motion_file], {"--out": (tmp_path / alias, (".npz",))})
    with pytest.raises(InputError, match=r"--report .*: the same file as --out \(.*a\.json\); give each output"):
        check_outputs([], {"--out": (tmp_path / "a.json", ()), "--report": (tmp_path / "sub/../a.json", ())})
    with pytest.raises(InputError, match=r"--out .*p\.mprog: unknown output extension '.mprog' \(use .npz\)"):
        check_outputs([], {"--out": (tmp_path / "p.mprog", (".npz",))})
    with pytest.raises(InputError, match="is a folder, expected a file"):
        check_outputs([], {"--out": (tmp_path, ())})
    with pytest.raises(InputError, match=r"cannot write into .*walk\.npz \(not a writable folder\)"):
        check_outputs([], {"--out": (motion_file / "x.npz", ())})
    check_outputs([motion_file], {"--out": (tmp_path / "new" / "deeper" / "out.npz", (".npz",)), "--view": (None, ())})


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused_before_any_work(tmp_path, motion_file):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(InputError, match="not a writable folder"):
            check_outputs([motion_file], {"--out": (locked / "out.npz", (".npz",))})
    finally:
        locked.chmod(0o755)


# Temporary files on every exit path


def test_temporaries_left_by_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "clip.bvh"
    script = f"""
import time
from motionprog.io.atomic import atomic_path
with atomic_path({str(target)!r}) as tmp:
    tmp.write_bytes(b"x" * 1000)
    print(tmp, flush=True)
    time.sleep(60)
"""
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    leftover = Path(writer.stdout.readline().strip())
    writer.kill()  # kill -9: nothing runs in the writer
    writer.wait()
    assert leftover.exists() and leftover.name.startswith(f".clip.bvh.{writer.pid}.")
    other = tmp_path / ".clip.bvhx.1.tmp.bvh"  # another target's name: never touched
    other.write_text("keep")
    write_text(target, "done")
    assert target.read_text() == "done" and not leftover.exists() and other.exists()
    assert remove_stale(target) == [] and sorted(p.name for p in tmp_path.iterdir()) == [other.name, "clip.bvh"]


def test_sigterm_through_the_cli_removes_the_temporary_file(tmp_path):
    target = tmp_path / "movie.mp4"
    script = textwrap.dedent(f"""
        import sys, time
        from motionprog.cli import app as cli
        from motionprog.io.atomic import atomic_path

        @cli.app.command("hold")
        def hold() -> None:
            with atomic_path({str(target)!r}) as tmp:
                tmp.write_bytes(b"x" * 1000)
                print(tmp, flush=True)
                time.sleep(60)

        sys.argv = ["motionprog", "hold"]
        cli.main()
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    temporary = Path(process.stdout.readline().strip())
    assert temporary.exists()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_neither_target_nor_temporary(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "x.npz") as tmp:
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


# BVH


def bvh_text(frames: str = "2", frame_time: str = "0.05", channels: str = "6") -> str:
    return ("HIERARCHY\nROOT hips\n{\n  OFFSET 0 0 0\n"
            f"  CHANNELS {channels} Xposition Yposition Zposition Zrotation Yrotation Xrotation\n"
            "  End Site\n  {\n    OFFSET 0 1 0\n  }\n}\n"
            f"MOTION\nFrames: {frames}\nFrame Time: {frame_time}\n" + "0 0 0 0 0 0\n" * 2)


@pytest.mark.parametrize(("text", "message"), [
    (bvh_text(frames="10", frame_time="999"), ":13: 10 frames of 999 s last 9990 s, over the limit of 3600 s"),
    (bvh_text(frame_time="1e-7"), ":13: Frame Time must be at least 0.0001 s, got 1e-07"),
    (bvh_text(frame_time="nan"), ":13: Frame Time must be at least 0.0001 s, got nan"),
    (bvh_text(frames="100000000"), ":13: 100000000 frames of 0.05 s last 5000000 s, over the limit of 3600 s"),
    (bvh_text(channels="nan"), ":5: CHANNELS of 'hips' needs a whole channel count, got 'nan'"),
    (bvh_text(channels="²"), ":5: CHANNELS of 'hips' needs a whole channel count, got '²'"),
    (bvh_text().replace("OFFSET 0 1 0", "OFFSET 0 inf 0"), ":8: OFFSET of 'hips_end' is not finite"),
])
def test_hostile_bvh_headers_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.bvh"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_bvh(path)
    assert str(caught.value) == f"{path}{message}"


def test_three_thousand_nested_joints_hit_the_joint_limit_not_the_stack(tmp_path):
    depth = 3000
    nested = "".join(f"JOINT j{d}\n{{\nOFFSET 0 1 0\n" for d in range(depth)) + "}\n" * depth
    path = tmp_path / "deep.bvh"
    path.write_text(f"HIERARCHY\nROOT hips\n{{\nOFFSET 0 0 0\n{nested}}}\nMOTION\nFrames: 1\nFrame Time: 0.05\n\n")
    with pytest.raises(InputError, match=r"deep\.bvh:\d+: more than 1024 joints \(the limit on a BVH hierarchy\)"):
        read_bvh(path)


def test_frames_times_channels_over_the_limit_are_refused_from_the_header(tmp_path):
    joint = "JOINT j{n}\n{{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation Yrotation Xrotation\n}}\n"
    joints = "".join(joint.format(n=n) for n in range(300))
    path = tmp_path / "wide.bvh"
    path.write_text(f"HIERARCHY\nROOT hips\n{{\nOFFSET 0 0 0\n{joints}}}\nMOTION\nFrames: 30000\nFrame Time: 0.01\n")
    with pytest.raises(InputError, match=r"30000 frames of 900 channels and 301 joints are over the limits "
                                         r"\(8000000 values, 4000000 joint poses\)"):
        read_bvh(path)


def test_degenerate_poses_export_to_bvh_as_one_line_errors(tmp_path):
    """Every joint on one point, or all on one vertical line: no rotation can be read off the
    hips or shoulders, so the export says which frame cannot be fitted (it used to raise from
    scipy) and writes nothing."""
    line = np.zeros((3, 22, 3), np.float32)
    line[..., 1] = np.linspace(0.0, 1.7, 22)
    for name, joints in (("line.bvh", line), ("point.bvh", np.zeros((3, 22, 3), np.float32))):
        with pytest.raises(InputError, match="cannot fit the skeleton at frame 0") as error:
            write_bvh(Motion(joints), tmp_path / name)
        assert "\n" not in str(error.value) and not (tmp_path / name).exists()


# npz


@pytest.mark.parametrize(("arrays", "message"), [
    ({"joints": np.full((3, 22, 3), "x")}, "'joints' has dtype <U1, expected numbers"),
    ({"fps": np.array([20.0, 30.0])}, "'fps' must hold one value, got shape [2]"),
    ({"fps": np.float32(np.inf)}, "fps must be a number in (0, 1000], got inf"),
    ({"fps": np.float32(-2)}, "fps must be a number in (0, 1000], got -2.0"),
    ({"metadata": np.array("[1, 2]")}, "'metadata' must be a JSON object, got list"),
    ({"metadata": np.array('{"scene": "box"}')}, "metadata 'scene' must be a JSON list"),
    ({"joints": np.zeros((80000, 22, 3), np.float32)}, "80000 frames at 20 fps is over the limit of 72000 frames"),
])
def test_hostile_npz_files_are_one_line_errors(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **({"joints": np.zeros((2, 22, 3), np.float32), "fps": np.float32(20)} | arrays))
    with pytest.raises(InputError) as caught:
        load_npz(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_npz_errors_reach_the_cli_as_one_line(cli, tmp_path):
    path = tmp_path / "strings.npz"
    np.savez(path, joints=np.full((3, 22, 3), "x"), fps=np.array([1.0, 2.0]))
    status, output = cli("convert", path, tmp_path / "out.bvh")
    assert status == 2 and output == f"error: {path}: 'joints' has dtype <U1, expected numbers\n"


# Viewer


def test_report_values_and_labels_cannot_inject_script(swinging_joints):
    report = {"satisfied": True, "constraints": [
        {"name": "n<i>", "source": "s&", "margin": 0.5, "unit": "<img src=x onerror=alert(1)>", "satisfied": True},
        {"name": "x", "margin": "<script>alert(2)</script>"}], "metrics": {"<b>k</b>": "<i>v</i>"}}
    scene = [{"kind": "box", "center": [0, 1, 0], "size": [1, 1, 1], "name": "<!--<script>"},
             {"kind": "sphere", "center": [0, 1, 0], "radius": 0.2, "name": "</script><script>alert(3)</script>"}]
    motion = Motion(swinging_joints, text="<!--", metadata={"report": report, "scene": scene})
    page, _ = viewer_html(motion)
    assert "<img" not in page and "<i>" not in page and "<b>k" not in page and "alert(2)</script>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;!--" in page
    data_text = re.search(r'id="motion-data">(.*?)</script>', page, re.S).group(1)
    assert not set(data_text) & set("<>&")
    labels = [o["label"] for o in json.loads(data_text)["objects"]][:2]
    assert labels == ["<!--<script>", "</script><script>alert(3)</script>"]
    assert page.count("<script") == 3 and page.count("</script>") == 3


def test_script_json_escapes_every_breaking_sequence():
    text = script_json({"a": "</script><!--&\u2028é"})
    assert text == '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u00e9"}'
    assert json.loads(text) == {"a": "</script><!--&\u2028é"}
    with pytest.raises(ValueError):
        script_json({"a": float("nan")})


def test_view_embeds_only_meshes_the_program_referenced(cli, tmp_path, swinging_joints):
    secret = tmp_path / "private" / "secret.obj"
    secret.parent.mkdir()
    secret.write_text("v 9.125 9.25 9.5\nv 9.5 9.25 9.125\nv 9.25 9.5 9.125\nf 1 2 3\n")
    scene = [{"kind": "mesh", "path": str(secret), "position": [0, 0, 0]}]
    motion_path = tmp_path / "m.npz"
    save_npz(Motion(swinging_joints, metadata={"scene": scene}), motion_path)
    status, output = cli("view", motion_path, "-o", tmp_path / "v.html")
    page = (tmp_path / "v.html").read_text()
    assert status == 0 and "9.125" not in page
    assert "is named by the motion file, not by a program; it is not read" in output
    shutil.copy(REPO / "examples" / "assets" / "chair.obj", tmp_path / "chair.obj")  # programs read their own folder
    program = tmp_path / "sit.mprog"
    program.write_text('motion "sit" for 1 s\nscene {\n  chair = mesh("chair.obj")\n}\nalways: feet.y >= 0\n')
    status, output = cli("view", motion_path, "-o", tmp_path / "w.html", "--program", program)
    data = json.loads(re.search(r'id="motion-data">(.*?)</script>', (tmp_path / "w.html").read_text(), re.S).group(1))
    assert status == 0 and data["objects"][0]["label"] == "mesh" and len(data["objects"][0]["faces"]) > 30, output


# Pickles


def test_render_smpl_never_runs_a_pickle(cli, tmp_path, motion_file):
    pytest.importorskip("smplx")
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "SMPL_evil.pkl"
    evil.write_bytes(pickle.dumps({"v_template": Evil()}, protocol=2))
    status, output = cli("render", motion_file, "-o", tmp_path / "out.png", "--smpl", evil)
    assert status == 2 and not marker.exists() and output.count("error: ") == 1
    assert output.splitlines()[-1].startswith("error: ") and "refusing to load posix.system (body model files are loaded without running code;" in output
    assert "--trust-pickle" in output and not (tmp_path / "out.png").exists()


def test_help_of_commands_reading_risky_formats_says_what_they_accept(cli):
    _, render = cli("render", "--help")
    assert "--trust-pickle" in render and "without running code" in render
    _, view = cli("view", "--help")
    assert "--program" in view and "escaped" in " ".join(view.split())
    _, convert = cli("convert", "--help")
    assert "without running code" in " ".join(convert.split())


# Models


@pytest.mark.parametrize(("args", "message"), [
    ([1, 2], "expected a JSON object of MDM arguments, got a list"),
    ({"latent_dim": -512}, "'latent_dim' must be a whole number in [2, 4096], got -512"),
    ({"layers": 1e9}, "'layers' must be a whole number in [1, 64], got 1000000000.0"),
    ({"heads": 3}, "latent_dim 512 is not a multiple of heads 3"),
    ({"guidance_param": "2.5"}, "'guidance_param' must be a number in [-100, 100], got \"2.5\""),
])
def test_hostile_mdm_args_are_one_line_errors(tmp_path, args, message):
    from motionprog.models.mdm import read_args

    (tmp_path / "args.json").write_text(json.dumps(args))
    with pytest.raises(InputError) as caught:
        read_args(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'args.json'}: {message}"


def test_a_corrupt_safetensors_model_is_a_one_line_error(tmp_path, tiny_weights):
    from motionprog.models.registry import load_model

    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\xff" * 8 + tiny_weights.read_bytes()[8:])
    with pytest.raises(InputError, match=r"corrupt\.safetensors: not a bundled-model weights file \(SafetensorError"):
        load_model(str(corrupt), device="cpu")


# The terminal


def test_escape_sequences_in_file_names_are_shown_escaped(cli, tmp_path):
    status, output = cli("convert", tmp_path / "evil\x1b]0;title\x07.npz", tmp_path / "out.bvh")
    assert status == 2 and "\x1b" not in output and "\x07" not in output
    assert "evil\\x1b]0;title\\x07.npz: no such file" in output


# Property test over the arguments of the file commands


FILE_KINDS = ("motion", "bvh", "corrupt", "missing", "folder", "same", "escape")


def _argument_file(kind: str, tmp_path: Path, motion_file: Path, suffix: str) -> str:
    """A path for a command argument: a real motion, a BVH export, garbage, nothing, a folder,
    the input itself, or a name with an escape sequence."""
    if kind == "motion":
        return str(motion_file)
    if kind == "bvh":
        path = tmp_path / "walk.bvh"
        if not path.exists():
            write_bvh(load_npz(motion_file), path)
        return str(path)
    if kind == "corrupt":
        path = tmp_path / f"corrupt{suffix}"
        path.write_bytes(b"PK\x03\x04 not really")
        return str(path)
    if kind == "folder":
        return str(tmp_path)
    if kind == "same":
        return str(motion_file)
    return str(tmp_path / ("\x1b[2Jnew" if kind == "escape" else "new") / f"out{suffix}")


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(command=st.sampled_from(["convert", "view", "plot"]), source=st.sampled_from(FILE_KINDS),
       target=st.sampled_from(FILE_KINDS), suffix=st.sampled_from([".npz", ".bvh", ".html", ".png", ".glb", ".txt", ""]),
       extra=st.lists(st.sampled_from(["--index", "0", "-1", "99", "--from", "bvh", "npy", "mdm-results", "--program",
                                       "nan", "--bogus"]), max_size=3))
@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_file_commands_answer_every_argument_with_a_result_or_one_line(cli, tmp_path, motion_file, command, source,
                                                                       target, suffix, extra):
    before = motion_file.read_bytes()
    inputs = _argument_file(source, tmp_path, motion_file, suffix)
    output = _argument_file(target, tmp_path, motion_file, suffix)
    args = [inputs, output, *extra] if command == "convert" else [inputs, "-o", output, *extra]
    status, text = cli(command, *args)
    assert "Traceback" not in text and "\x1b[2J" not in text
    assert status in (0, 2), text
    if status == 2 and "Usage:" not in text and "─ Error ─" not in text:  # else typer's own usage error
        assert text.splitlines()[-1].startswith("error: ") and text.count("error: ") == 1, text
    if source in ("motion", "same"):
        assert motion_file.read_bytes() == before  # an input is never overwritten
