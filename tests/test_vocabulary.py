"""How close a prompt is to what the bundled prior was trained on, with the real sentence
encoder and the labels stored in the shipped weights."""

from __future__ import annotations

import json

import pytest

from motionprog.models.vocabulary import FAR_FROM_LABELS, model_prompt_match


def test_the_shipped_prior_lists_its_training_labels(bundled_model):
    assert len(bundled_model.labels) >= 40
    assert "a person does a cartwheel" in bundled_model.labels


@pytest.mark.parametrize("prompt", ["a person boxes with their left hand", "the man is drinking with his left hand"])
def test_an_unseen_action_is_flagged_with_the_nearest_labels(bundled_model, prompt):
    match = model_prompt_match(bundled_model, prompt)
    assert not match.known and match.similarity < FAR_FROM_LABELS
    assert len(match.nearest) == 3 and set(match.nearest) <= set(bundled_model.labels)
    assert "--model mdm:DIR" in match.notice() and match.nearest[0] in match.notice()


def test_a_reworded_known_action_is_not_flagged(bundled_model):
    match = model_prompt_match(bundled_model, "someone jogs in place")
    assert match.known and match.nearest[0] == "a person is jogging on the spot."
    assert model_prompt_match(bundled_model, "a person does a cartwheel").similarity == pytest.approx(1.0, abs=1e-5)


def test_sample_says_so_in_one_line_and_still_writes_the_motion(cli, tmp_path):
    out = tmp_path / "box.npz"
    status, output = cli("sample", "a person boxes with their left hand", "--frames", "20", "-o", out, "--device", "cpu")
    assert status == 0 and out.is_file()
    notes = [line for line in output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "nearest labels" in notes[0]
    status, output = cli("sample", "a person walks forward", "--frames", "20", "-o", out, "--device", "cpu")
    assert status == 0 and "note:" not in output


def test_the_run_report_records_the_prompt_match(cli, tmp_path):
    program = tmp_path / "box.mprog"
    program.write_text('motion "a person boxes with their left hand" for 20 frames, seeds 1\nat end: pelvis.y > 0\n')
    report = tmp_path / "report.json"
    status, output = cli("run", program, "-o", tmp_path / "box.npz", "--report", report, "--device", "cpu")
    assert status == 0, output
    prompt = json.loads(report.read_text())["prompt"]
    assert prompt["known"] is False and len(prompt["nearest_labels"]) == 3
    assert "note:" in output
