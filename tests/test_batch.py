"""Batch generation: JOBS parsing, the files a job writes, resuming a killed batch, a broken
program among good ones, and the Ray executor on a small local instance. End-to-end runs use
the tiny bundled-architecture model of conftest (``tiny_weights``) with 20-frame programs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from motionprog.batching import Job, batch, load_jobs
from motionprog.batching.jobs import execute, is_done, job_config, outputs, record
from motionprog.batching.ray_executor import actor_count
from motionprog.errors import InputError
from motionprog.motion import load_npz
from motionprog.optimize import OptimizeConfig

QUICK = """motion "a person walks" for 20 frames, seeds 2
pelvis_band: at frame 10: pelvis.y in [0.8, 1.2]
"""

SLOW = """motion "a person walks" for 20 frames, seeds 2
high: at frame 10: head.y > 3 m
"""
"""Infeasible for the tiny model, so it runs every iteration (no early stop)."""

BROKEN = """motion "a person walks" for 20 frames
bad: at frame 3: lefthand.y > 1
"""

BASE = OptimizeConfig(steps=2, iterations=30, polish_iterations=0)


def write_manifest(path: Path, entries: list[dict]) -> Path:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return path


def test_directory_jobs_are_sorted_and_named_by_stem(tmp_path):
    (tmp_path / "walk.mprog").write_text(QUICK)
    (tmp_path / "duck.mprog").write_text(SLOW)
    (tmp_path / "notes.txt").write_text("not a program")
    jobs = load_jobs(tmp_path)
    assert [job.name for job in jobs] == ["duck", "walk"]
    assert jobs[1].source == QUICK and jobs[1].filename == str(tmp_path / "walk.mprog")


def test_manifest_reads_paths_inline_source_seeds_and_overrides(tmp_path):
    (tmp_path / "progs").mkdir()
    (tmp_path / "progs" / "walk.mprog").write_text(QUICK)
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(
        '{"program": "progs/walk.mprog", "seeds": 3, "overrides": {"iterations": 7, "seed": 5}}\n'
        "\n# a comment\n"
        + json.dumps({"source": SLOW, "name": "high-1"}) + "\n"
        + json.dumps({"source": QUICK}) + "\n"
    )
    walk, high, inline = load_jobs(manifest)
    assert (walk.name, walk.seeds, walk.overrides, walk.source) == ("walk", 3, {"iterations": 7, "seed": 5}, QUICK)
    assert (high.name, high.source, high.filename) == ("high-1", SLOW, "jobs.jsonl#4")
    assert inline.name == "job0005"
    config = job_config(walk, BASE, "cpu")
    assert (config.iterations, config.seed, config.seeds, config.steps, config.device) == (7, 5, 3, 2, "cpu")


@pytest.mark.parametrize("line, message", [
    ("{not json", "jobs.jsonl:1: not valid JSON"),
    ('{"source": "x", "program": "a.mprog"}', "jobs.jsonl:1: give exactly one of"),
    ('{"program": "missing.mprog"}', "jobs.jsonl:1: program file"),
    ('{"source": "x", "overrides": {"device": "cuda"}}', "jobs.jsonl:1: cannot override 'device'"),
    ('{"source": "x", "seeds": 0}', "jobs.jsonl:1: seeds must be a positive integer"),
    ('{"source": "x", "overrides": {"iterations": 0}}', "jobs.jsonl:1: bad overrides (iterations must be at least 1"),
    ('{"source": "x", "name": "../escape"}', "jobs.jsonl:1: job name '../escape'"),
    ('{"source": "x", "prompt": "walk"}', "jobs.jsonl:1: unknown key 'prompt'"),
    ('{"source": "x", "name": "a"}\n{"source": "y", "name": "a"}', "job name 'a' appears twice"),
])
def test_bad_manifest_lines_raise_input_error_naming_file_and_line(tmp_path, line, message):
    (tmp_path / "jobs.jsonl").write_text(line + "\n")
    with pytest.raises(InputError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_jobs(tmp_path / "jobs.jsonl")


def test_missing_or_empty_jobs_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="no such directory or manifest"):
        load_jobs(tmp_path / "nowhere")
    with pytest.raises(InputError, match="no jobs"):
        load_jobs(tmp_path)


def test_ray_actor_count_fills_gpus_or_cpus_and_never_exceeds_jobs():
    resources = {"CPU": 16.0, "GPU": 4.0}
    assert actor_count(resources, 1.0, jobs=100, workers=None) == 4
    assert actor_count(resources, 0.5, jobs=100, workers=None) == 8
    assert actor_count(resources, 0.0, jobs=100, workers=None) == 16
    assert actor_count(resources, 0.5, jobs=3, workers=None) == 3
    assert actor_count(resources, 0.0, jobs=100, workers=2) == 2
    with pytest.raises(InputError, match="no room"):
        actor_count({"CPU": 2.0}, 1.0, jobs=3, workers=None)


def test_a_recorded_job_round_trips_and_a_failure_is_replaced_on_success(tiny_model, tmp_path):
    job = Job(name="walk", source=QUICK)
    failed = record(execute(Job(name="walk", source=BROKEN, filename="walk.mprog"), tiny_model, BASE, "cpu"), tmp_path)
    motion_path, report_path, error_path = outputs(tmp_path, "walk")
    assert failed.status == "failed" and failed.error == "walk.mprog:2:18: unknown joint 'lefthand'"
    error = json.loads(error_path.read_text())
    assert error["error"] == failed.error and "help: did you mean 'left_hand'?" in error["detail"]
    assert not is_done(tmp_path, "walk")

    result = execute(job, tiny_model, BASE, "cpu")
    outcome = record(result, tmp_path)
    assert outcome.status == "done" and outcome.satisfied is True
    assert is_done(tmp_path, "walk") and not error_path.exists()
    motion = load_npz(motion_path)
    np.testing.assert_array_equal(motion.joints, result.motion.joints)
    assert motion.joints.shape == (20, 22, 3)
    assert json.loads(report_path.read_text()) == result.report == motion.metadata["report"]
    pelvis_y = float(motion.joints[10, 0, 1])
    (row,) = result.report["constraints"]
    assert row["margin"] == pytest.approx(min(pelvis_y - 0.8, 1.2 - pelvis_y), abs=1e-5)

    motion_path.unlink()  # only the report left: not done
    assert not is_done(tmp_path, "walk")


def test_an_unknown_executor_or_misplaced_ray_option_is_rejected(tmp_path):
    import motionprog

    jobs = [Job(name="walk", source=QUICK)]
    with pytest.raises(InputError, match="executor must be 'local' or 'ray'"):
        motionprog.batch(jobs, tmp_path, executor="slurm")
    with pytest.raises(InputError, match="apply to the ray executor"):
        batch(jobs, tmp_path, gpus_per_job=1.0)


@pytest.fixture(scope="module")
def killed_then_resumed(tmp_path_factory, tiny_weights):
    """A CLI batch of four jobs (quick, broken, slow, slow) on one worker, killed as soon as the
    first job's files exist, then rerun through the Python API.

    Returns (outdir, names done at the kill, their mtimes then, the rerun's Summary, names the
    rerun finished in order)."""
    root = tmp_path_factory.mktemp("resume")
    slow = {"overrides": {"iterations": 150, "polish_iterations": 0}}
    manifest = write_manifest(root / "jobs.jsonl", [
        {"name": "a_quick", "source": QUICK}, {"name": "b_broken", "source": BROKEN},
        {"name": "c_slow", "source": SLOW, **slow}, {"name": "d_slow", "source": SLOW, **slow},
    ])
    outdir = root / "out"
    command = [sys.executable, "-m", "motionprog", "batch", str(manifest), "-o", str(outdir), "--workers", "1",
               "--model", str(tiny_weights), "--steps", "2", "--iters", "30", "--threads", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not is_done(outdir, "a_quick") and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its worker: the group this test started
    process.wait()
    done_at_kill = {name for name in ("a_quick", "c_slow", "d_slow") if is_done(outdir, name)}
    mtimes = {name: [p.stat().st_mtime_ns for p in outputs(outdir, name)[:2]] for name in done_at_kill}
    finished: list[str] = []
    summary = batch(manifest, outdir, workers=1, threads=1, model=str(tiny_weights),
                    config=OptimizeConfig(steps=2, iterations=30),
                    callback=lambda outcome, count, total: finished.append(outcome.name))
    return outdir, done_at_kill, mtimes, summary, finished


@pytest.mark.slow
def test_a_killed_batch_resumes_without_redoing_finished_jobs(killed_then_resumed):
    outdir, done_at_kill, mtimes, summary, finished = killed_then_resumed
    assert "a_quick" in done_at_kill and done_at_kill != {"a_quick", "c_slow", "d_slow"}  # killed midway
    for name, before in mtimes.items():
        assert [p.stat().st_mtime_ns for p in outputs(outdir, name)[:2]] == before  # not rewritten
    assert summary.skipped == len(done_at_kill)
    assert set(finished) == {"a_quick", "b_broken", "c_slow", "d_slow"} - done_at_kill
    assert summary.done == 3 - len(done_at_kill) and summary.failed == 1
    assert all(is_done(outdir, name) for name in ("a_quick", "c_slow", "d_slow"))
    assert not list(outdir.glob(".*"))  # no temporary files left behind
    assert load_npz(outdir / "c_slow.npz").joints.shape == (20, 22, 3)


@pytest.mark.slow
def test_a_broken_program_is_recorded_and_the_rest_complete(killed_then_resumed):
    outdir, _, _, summary, _ = killed_then_resumed
    (broken,) = [outcome for outcome in summary.outcomes if outcome.status == "failed"]
    assert broken.name == "b_broken" and broken.error == "jobs.jsonl#2:2:18: unknown joint 'lefthand'"
    assert json.loads(outputs(outdir, "b_broken")[2].read_text())["error"] == broken.error
    assert not (outdir / "b_broken.npz").exists()
    reports = {name: json.loads(outputs(outdir, name)[1].read_text()) for name in ("a_quick", "c_slow", "d_slow")}
    assert reports["a_quick"]["satisfied"] is True
    assert reports["c_slow"]["satisfied"] is False and reports["c_slow"]["violated"] == ["high"]


@pytest.mark.slow
def test_ray_runs_a_batch_of_three_programs_through_the_cli(tmp_path, tiny_weights):
    ray = pytest.importorskip("ray")
    from typer.testing import CliRunner

    from motionprog.cli.app import app

    programs = tmp_path / "programs"
    programs.mkdir()
    for name, source in (("one", QUICK), ("two", QUICK.replace("0.8", "0.7")), ("three", SLOW)):
        (programs / f"{name}.mprog").write_text(source)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = CliRunner().invoke(app, [
            "batch", str(programs), "-o", str(tmp_path / "out"), "--executor", "ray", "--workers", "2",
            "--model", str(tiny_weights), "--steps", "2", "--iters", "20",
        ])
        assert ray.is_initialized()  # joined the running instance and left it running
    finally:
        ray.shutdown()
    assert result.exit_code == 0, result.output
    assert all(is_done(tmp_path / "out", name) for name in ("one", "two", "three"))
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.output.splitlines()
             if line.count("│") == 3}
    assert (lines["done"], lines["failed"], lines["satisfied"]) == ("3", "0", "2/3")


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_ray_shares_one_gpu_between_two_actors(tmp_path, tiny_weights):
    ray = pytest.importorskip("ray")
    jobs = [Job(name=f"walk{i}", source=QUICK) for i in range(4)]
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        summary = batch(jobs, tmp_path, executor="ray", gpus_per_job=0.5, model=str(tiny_weights), config=BASE)
    finally:
        ray.shutdown()
    assert (summary.done, summary.failed) == (4, 0)
    assert json.loads((tmp_path / "reports" / "walk0.json").read_text())["satisfied"] is True


DRIVER = """
import sys, time, multiprocessing
from motionprog.batching.jobs import Job, ModelSpec
from motionprog.batching.local import run_local
from motionprog.optimize import OptimizeConfig

if __name__ == "__main__":
    jobs = [Job(name="a", source=sys.argv[2]), Job(name="b", source=sys.argv[2])]
    config = OptimizeConfig(steps=2, iterations=5, polish_iterations=0, device="cpu")
    results = run_local(jobs, ModelSpec(sys.argv[1]), config, workers=1, threads=1)
    next(results)
    print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited
        return stat.read().split()[2] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_worker_exits_when_its_driver_is_killed(tmp_path, tiny_weights):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = subprocess.Popen([sys.executable, str(script), str(tiny_weights), QUICK], stdout=subprocess.PIPE,
                              text=True)
    workers = [int(pid) for pid in driver.stdout.readline().split()]
    assert workers and all(_alive(pid) for pid in workers)
    driver.kill()  # SIGKILL: no cleanup runs in the driver
    driver.wait()
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def test_job_names_cannot_share_files(tmp_path):
    names = ["a", "a.error", "a.json", "reports", "errors"]
    paths = [path for name in names for path in outputs(tmp_path, name)]
    assert len(set(paths)) == len(paths) == 15
    with pytest.raises(InputError, match="job name 'Walk' and 'walk' differ only in case"):
        batch([Job(name="walk", source=QUICK), Job(name="Walk", source=QUICK)], tmp_path)
    with pytest.raises(InputError, match=r"job name '\.\./escape' must use letters"):
        batch([Job(name="../escape", source=QUICK)], tmp_path)


def test_a_job_named_like_another_ones_error_keeps_both_reports(tiny_model, tmp_path):
    record(execute(Job(name="a.error", source=QUICK), tiny_model, BASE, "cpu"), tmp_path)
    record(execute(Job(name="a", source=BROKEN, filename="a.mprog"), tiny_model, BASE, "cpu"), tmp_path)
    assert is_done(tmp_path, "a.error") and json.loads(outputs(tmp_path, "a.error")[1].read_text())["satisfied"]
    assert json.loads(outputs(tmp_path, "a")[2].read_text())["error"].startswith("a.mprog:2:")
    record(execute(Job(name="a", source=QUICK), tiny_model, BASE, "cpu"), tmp_path)  # a succeeds: its error goes
    assert is_done(tmp_path, "a") and is_done(tmp_path, "a.error") and not outputs(tmp_path, "a")[2].exists()


def test_an_unwritable_output_folder_or_an_input_in_its_way_stops_the_batch_first(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="is a file, expected a folder"):
        batch([Job(name="walk", source=QUICK)], blocker)
    report = tmp_path / "out" / "reports" / "walk.json"
    report.parent.mkdir(parents=True)
    report.write_text(QUICK)
    with pytest.raises(InputError, match="would overwrite .*walk.json, an input of the batch"):
        batch([Job(name="walk", source=QUICK, filename=str(report))], tmp_path / "out")
    assert report.read_text() == QUICK


def test_allowed_paths_reach_every_job(tiny_weights, tmp_path):
    """One batch, one worker: the job importing from the allowed folder runs; the job importing
    the same file from a folder not allowed is refused there (the command exits 1)."""
    from typer.testing import CliRunner

    from motionprog.cli.app import app

    (tmp_path / "jobs").mkdir()
    for folder, job in (("shared", "walk"), ("private", "stray")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "lib.mprog").write_text("def band(j) = j.y in [0.8, 1.2]\n")
        (tmp_path / "jobs" / f"{job}.mprog").write_text(
            f'import "../{folder}/lib.mprog"\n' + QUICK.replace("pelvis.y in [0.8, 1.2]", "band(pelvis)"))
    result = CliRunner().invoke(app, [
        "batch", str(tmp_path / "jobs"), "-o", str(tmp_path / "out"), "--model", str(tiny_weights), "--steps", "2",
        "--iters", "30", "--workers", "1", "--threads", "1", "--allow-path", str(tmp_path / "shared")])
    assert result.exit_code == 1, result.output
    walk, stray = outputs(tmp_path / "out", "walk"), outputs(tmp_path / "out", "stray")
    assert json.loads(walk[1].read_text())["satisfied"] is True and not walk[2].exists()
    assert "outside the program's directory" in json.loads(stray[2].read_text())["error"] and not stray[0].exists()
