"""`motionprog bench --quick` on a tiny model and two programs: both files, expected columns."""

from __future__ import annotations

import json

import pytest

from motionprog.optimize.bench import COLUMNS, generated_source, percentile

PROGRAMS = {
    "a_band.mprog": 'motion "a person walks" for 32 frames, seeds 2\nat frame 10: pelvis.y in [1.0, 1.02]\n',
    "b_head.mprog": 'motion "a person walks" for 32 frames, seeds 2\nat end: head.y > 1.4 m\n',
    "c_unused.mprog": 'motion "a person walks" for 32 frames\nat end: head.y > 0\n',
}


def test_bench_quick_writes_markdown_and_json(tmp_path, tiny_weights, cli):
    examples = tmp_path / "examples"
    examples.mkdir()
    for name, source in PROGRAMS.items():
        (examples / name).write_text(source)
    out = tmp_path / "bench"
    status, output = cli(
        "bench", "--quick", "--examples", examples, "--out", out, "--model", tiny_weights, "--device", "cpu",
        "--seeds", "2", "--steps", "3", "--iters", "10", "--reference-steps", "6", "--reference-iters", "2",
    )
    assert status == 0, output
    results = json.loads((out / "bench.json").read_text())
    assert [(row["task"], row["method"]) for row in results["runs"]] == [
        ("a_band", "fast"), ("a_band", "progmogen"), ("b_head", "fast"), ("b_head", "progmogen")]
    assert all(set(COLUMNS) <= set(row) for row in results["runs"])
    assert [task["task"] for task in results["tasks"]] == ["a_band", "b_head"]
    assert all(task["speed_ratio"] > 0 for task in results["tasks"])
    assert results["runs"][1]["iterations"] == 2  # the reference runs its fixed iterations
    assert results["runs"][1]["time_per_iteration_s"] > 0
    assert results["summary"]["fast_p90_time_s"] >= results["summary"]["fast_median_time_s"] > 0
    assert {"compile_s", "margins_s", "loss_and_gradient_s"} <= set(results["language"])
    assert results["machine"]["cpu_count"] >= 1
    table = (out / "bench.md").read_text()
    assert "| " + " | ".join(COLUMNS) + " |" in table
    assert "speed ratio" in table and "compile a 200-constraint program" in table


def test_generated_program_has_200_constraints():
    from motionprog.optimize import load_program

    program = load_program(generated_source(200, 196, 8))
    assert len(program.constraints) == 200 and program.frames == 196 and program.seeds == 8


def test_bench_tasks_runs_only_the_named_programs(tmp_path, tiny_weights, cli):
    examples = tmp_path / "examples"
    examples.mkdir()
    for name, source in PROGRAMS.items():
        (examples / name).write_text(source)
    common = ("bench", "--examples", examples, "--model", tiny_weights, "--device", "cpu", "--seeds", "2",
              "--steps", "3", "--iters", "3", "--reference-steps", "4", "--reference-iters", "1", "--no-language")
    status, output = cli(*common, "--out", tmp_path / "bench", "--tasks", "c_unused,b_head")
    assert status == 0, output
    results = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert [task["task"] for task in results["tasks"]] == ["c_unused", "b_head"]
    status, output = cli(*common, "--out", tmp_path / "other", "--tasks", "nope")
    assert status == 2 and "no program named nope" in output and not (tmp_path / "other").exists()


def test_percentile_interpolates_like_numpy():
    values = [3.0, 1.0, 2.0, 10.0]
    assert percentile(values, 0.5) == pytest.approx(2.5)
    assert percentile(values, 0.9) == pytest.approx(7.9)
    assert percentile([], 0.5) is None


def test_bench_without_the_reference_times_the_fast_method_alone(tmp_path, tiny_weights, cli):
    examples = tmp_path / "examples"
    examples.mkdir()
    for name, source in PROGRAMS.items():
        (examples / name).write_text(source)
    status, output = cli("bench", "--examples", examples, "--out", tmp_path / "bench", "--model", tiny_weights,
                         "--device", "cpu", "--seeds", "2", "--steps", "3", "--iters", "3", "--no-reference",
                         "--no-language", "--tasks", "a_band,b_head")
    assert status == 0, output
    results = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert results["complete"] and [row["method"] for row in results["runs"]] == ["fast", "fast"]
    assert results["settings"]["warm_up_s"] > 0  # start-up costs were paid before the first timed task
    assert [t["speed_ratio"] for t in results["tasks"]] == [None, None]
    assert results["summary"]["median_speed_ratio"] is None and results["settings"]["reference"] is None
