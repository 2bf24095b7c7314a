"""Editing a motion the user has (issue 16): the language's ``input.x`` and ``keep``, the edit
of the vendored CMU clip and of an MDM results.npy, the moved figures, and bad inputs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import motionprog
from motionprog.body.skeleton import FPS, JOINT_INDEX
from motionprog.io.formats import read_motions
from motionprog.lang import builder as mb
from motionprog.lang import check_text
from motionprog.lang.formatter import format_module
from motionprog.lang.parser import parse
from motionprog.metrics import bone_length_drift
from motionprog.motion import Motion, load_npz, save_npz
from motionprog.optimize.edit import EditConfig
from tests.conftest import shared_path
from tests.test_bvh import TINY

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "edit"
LEFT_WRIST = JOINT_INDEX["left_wrist"]

EDIT_SOURCE = """motion "a person jumps"
keep outside 1 s .. 2 s
at 1.5 s: left_wrist.y > input.left_wrist.y + 10 cm
always: pelvis.xz == input.pelvis.xz within 5 cm
"""


@pytest.fixture(scope="module")
def cmu() -> Motion:
    return load_npz(REPO / "motionprog" / "data" / "cmu_01_01.npz")


def test_input_and_keep_need_an_edit_and_say_so(cli, tmp_path):
    program = tmp_path / "edit.mprog"
    program.write_text(EDIT_SOURCE)
    status, output = cli("check", program)
    assert status == 2
    assert "edit.mprog:3:26: error: 'input.left_wrist' needs an input motion: run the program with " \
           "'motionprog edit IN PROGRAM -o OUT'" in output
    assert "edit.mprog:2:1: error: 'keep' needs an input motion" in output
    assert cli("check", "--edit", program) == (0, f"{program}: ok\n")
    status, output = cli("explain", "--edit", program)
    assert status == 0 and "keeps the input motion outside 1.00 s .. 2.00 s" in output
    module, _ = parse(EDIT_SOURCE)
    assert format_module(module) == EDIT_SOURCE


def test_input_margins_are_measured_on_the_bound_input_motion():
    """head 15 cm under the input's head at every frame: a result 20 cm lower has margin 5 cm,
    and the keep window is its frames."""
    program = motionprog.compile("motion \"x\"\nkeep outside 1 s .. 2 s\nalways: head.y < input.head.y - 15 cm",
                                 frames=60, editing=True)
    assert program.changes == tuple(range(20, 41))
    joints = torch.rand(1, 60, 22, 3, dtype=torch.float64) + 1
    lower = joints - torch.tensor([0.0, 0.2, 0.0], dtype=torch.float64)
    assert program.with_input(joints).margins(lower)[0, 0].item() == pytest.approx(0.05)
    with pytest.raises(motionprog.errors.InputError, match="reads the input motion"):
        program.margins(lower)
    assert [d.code for d in check_text("motion \"x\"\nalways: input.y < 1 m", editing=True)[1]] == ["E201"]
    kept = check_text("motion \"x\"\nkeep outside 1 s .. 2 s\nat 3 s: head.y < 1 m", frames=100, editing=True)[1]
    assert [(d.code, d.span.line) for d in kept] == [("W310", 3)]
    assert "name a part of it, such as input.head" in check_text("motion \"x\"\nalways: input < 1 m",
                                                                 editing=True)[1][0].message


def test_the_builder_writes_input_and_keep_as_the_text_does():
    program = mb.ProgramBuilder("a person jumps").keep_outside(mb.q(1, "s"), mb.q(2, "s"))
    wrist = mb.name("left_wrist")
    program.constraint(mb.at(mb.q(1.5, "s")), wrist.y > mb.name("input").left_wrist.y + mb.q(10, "cm"))
    program.constraint(mb.always(), mb.name("pelvis").xz.eq(mb.name("input").pelvis.xz, within=mb.q(5, "cm")))
    assert program.source() == EDIT_SOURCE
    built, text = program.compile(frames=60, editing=True), motionprog.compile(EDIT_SOURCE, frames=60, editing=True)
    assert built.ir == text.ir


def test_keep_pins_every_frame_outside_its_window(bundled_model, cmu):
    clip = replace(cmu, joints=cmu.joints[:60], features=None, rotations=None)
    result = motionprog.edit(clip, EDIT_SOURCE, model=bundled_model, config=EditConfig(iterations=60))
    assert result.satisfied
    moved = np.linalg.norm(result.motion.joints - clip.joints, axis=-1)
    assert moved[:20].max() == 0 and moved[41:].max() == 0
    assert moved[20].max() < 0.01 and moved[40].max() < 0.01, "the change fades in and out at the window's edges"
    assert moved[30, LEFT_WRIST] >= 0.09
    assert result.report["moved"]["frames"][0][0] >= 20 and result.report["moved"]["frames"][-1][1] <= 40


def test_left_hand_touches_a_point_at_3_s_and_the_rest_stays(bundled_model, cmu):
    """The whole 23 s clip (longer than the model's 196-frame window): the left wrist within
    2 cm of a point 32 cm from where it was at 3 s; frames more than 1 s away move under 2 cm
    on average (they do not move at all)."""
    point = cmu.joints[60, LEFT_WRIST] + np.array([0.0, 0.25, 0.2], dtype=np.float32)
    source = f'motion "a person jumps forward"\nat 3 s: left_hand near ({point[0]:.4f}, {point[1]:.4f}, ' \
             f'{point[2]:.4f}) within 2 cm\n'
    result = motionprog.edit(cmu, source, model=bundled_model)
    assert result.satisfied and result.report["constraints"][0]["margin"] >= 0
    moved = np.linalg.norm(result.motion.joints - cmu.joints, axis=-1)
    far = np.abs(np.arange(cmu.num_frames) - 60) > FPS
    assert moved[far].mean() < 0.02
    report = result.report["moved"]
    assert report["per_joint"]["left_wrist"]["max_m"] > 0.25
    assert all(40 <= first and last <= 80 for first, last in report["frames"])


def mdm_results(path: Path, sample: int = 24) -> Path:
    """One motion of the shared MDM samples written in MDM's results.npy layout."""
    samples = np.load(shared_path("data/mdm_samples/mdm_humanml_samples.npz"))
    length = int(samples["lengths"][sample])
    motion = samples["joints"][sample:sample + 1, :length].transpose(0, 2, 3, 1).astype(np.float32)
    np.save(path, {"motion": motion, "text": [str(samples["text"][sample])], "lengths": np.array([length]),
                   "num_samples": 1, "num_repetitions": 1}, allow_pickle=True)
    return path


def test_mdm_results_motion_ducks_under_a_bar(cli, tmp_path):
    results = mdm_results(tmp_path / "results.npy")
    out, report_path = tmp_path / "duck.npz", tmp_path / "duck.json"
    status, output = cli("edit", results, EXAMPLE / "duck_under_bar.mprog", "-o", out, "--report", report_path)
    assert status == 0, output
    assert "moved from the input: mean" in output and "frames that moved more than 1 cm:" in output
    report = json.loads(report_path.read_text())
    assert report["satisfied"] and report == load_npz(out).metadata["report"]
    assert report["moved"]["per_joint"]["head"]["max_m"] > 0.05
    assert report["moved"]["mean_m"] < 0.02
    edited = load_npz(out).joints
    passing = (edited[:, 15, 2] > 1.2) & (edited[:, 15, 2] < 1.8)
    assert edited[passing, 15, 1].max() <= 1.40 + 1e-4
    drift = bone_length_drift(torch.as_tensor(np.load(results, allow_pickle=True).item()
                                                                 ["motion"][0].transpose(2, 0, 1))[None])
    assert report["metrics"]["bone_length_drift"] <= float(drift) + 0.002, "the duck bends, it does not stretch"


def test_the_example_input_is_the_shared_sample(tmp_path):
    """examples/edit/mdm_walk_results.npy is sample 24 of the shared MDM samples, in MDM's layout."""
    example = read_motions(EXAMPLE / "mdm_walk_results.npy")
    built = read_motions(mdm_results(tmp_path / "results.npy"))
    assert len(example) == 1 and example[0].text == "a person walks forward."
    assert np.array_equal(example[0].joints, built[0].joints)


@pytest.mark.parametrize("case, message", [
    ("short", "the motion has 10 frames (0.50 s); an edit needs at least 20 (1 s)"),
    ("nan", "contain NaN or infinite values"),
    ("skeleton", "cannot map the skeleton"),
    ("several", "the file holds 2 motions; choose one with --index"),
])
def test_bad_inputs_give_one_line_and_no_output(cli, tmp_path, cmu, case, message):
    program = tmp_path / "p.mprog"
    program.write_text('motion "x"\nat 0.2 s: head.y < 1 m\n')
    if case == "short":
        source = tmp_path / "short.npz"
        save_npz(Motion(joints=cmu.joints[:10]), source)
    elif case == "nan":
        source = tmp_path / "nan.npy"
        joints = cmu.joints[:40].copy()
        joints[5, 3] = np.nan
        np.save(source, joints)
    elif case == "skeleton":
        source = tmp_path / "odd.bvh"
        source.write_text(TINY)
    else:
        source = tmp_path / "results.npy"
        motion = np.stack([cmu.joints[:40], cmu.joints[40:80]]).transpose(0, 2, 3, 1)
        np.save(source, {"motion": motion, "text": ["a", "b"], "lengths": np.array([40, 40])}, allow_pickle=True)
    out = tmp_path / "out.npz"
    status, output = cli("edit", source, program, "-o", out)
    assert status == 2 and message in output
    assert output.count("\n") == 1 and output.startswith("error: ")
    assert not out.exists()
