"""`motionprog bench`: the fast optimizer against the ProgMoGen reference, same model, same run.

For every example program both methods run in this process on the same model; each row keeps
the time to satisfy, the constraint error, success, foot skating, maximum acceleration and
peak memory, and each task gets the speed ratio (reference time / fast time). A language part
times compiling a generated 200-constraint program and evaluating its margins on 8 seeds x
196 frames. Results are JSON data; :func:`markdown` renders them as tables.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from motionprog.body.skeleton import JOINT_NAMES
from motionprog.models.protocol import MotionModel
from motionprog.optimize.config import OptimizeConfig
from motionprog.optimize.generate import generate, load_program
from motionprog.optimize.report import max_violation

Progress = Callable[[int, int, str], None]
"""Called before each run with (runs done, total runs, "task (method)")."""

COLUMNS = (
    "task", "method", "success", "time_s", "time_to_satisfy_s", "constraint_error_cm",
    "foot_skating_ratio", "max_acceleration", "peak_memory_mb", "iterations", "time_per_iteration_s",
)
"""Columns of the per-run table, in order."""


def machine() -> dict[str, Any]:
    """Where the benchmark ran: CPU, core count, torch threads, GPU, Python and torch versions."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def run_row(task: str, report: dict[str, Any]) -> dict[str, Any]:
    """One table row from a run's report."""
    error = max_violation(report)
    return {
        "task": task, "method": report["method"], "success": report["satisfied"], "time_s": report["time_s"],
        "time_to_satisfy_s": report["time_to_satisfy_s"],
        "constraint_error_cm": round(error * 100, 3) if error != float("inf") else None,
        "foot_skating_ratio": report["metrics"].get("foot_skating_ratio"),
        "max_acceleration": report["metrics"].get("max_acceleration"),
        "peak_memory_mb": report["peak_memory_mb"], "iterations": report["iterations"],
        "time_per_iteration_s": iteration_time(report),
    }


def iteration_time(report: dict[str, Any]) -> float | None:
    """Median seconds between consecutive evaluations of the search (None with fewer than two)."""
    times = report["history"]["time_s"]
    steps = [later - earlier for earlier, later in zip(times, times[1:])]
    return round(statistics.median(steps), 4) if steps else None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile of ``values`` (linear interpolation), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def generated_source(constraints: int, frames: int, seeds: int) -> str:
    """A program with ``constraints`` constraints over varied joints, windows and relations."""
    lines = [f'motion "a person walks forward" for {frames} frames, seeds {seeds}']
    for i in range(constraints):
        joint = JOINT_NAMES[i % len(JOINT_NAMES)]
        other = JOINT_NAMES[(i * 7 + 3) % len(JOINT_NAMES)]
        frame = (i * 13) % frames
        form = i % 4
        if form == 0:
            lines.append(f"c{i}: at frame {frame}: {joint}.y > 0")
        elif form == 1:
            lines.append(f"c{i}: always: distance({joint}, {other}) < 2 m")
        elif form == 2:
            lines.append(f"c{i}: during frame {frame // 2} .. frame {frame}: {joint}.y in [-1, 3]")
        else:
            lines.append(f"c{i}: eventually: speed({joint}) < 10 m/s")
    return "\n".join(lines) + "\n"


def language_bench(constraints: int = 200, seeds: int = 8, frames: int = 196, repeats: int = 3) -> dict[str, Any]:
    """Median seconds to compile a generated program, evaluate its margins, and its loss with
    the gradient, on random joints [seeds, frames, 22, 3] (fixed seed 0)."""
    source = generated_source(constraints, frames, seeds)
    compile_times, margin_times, loss_times = [], [], []
    joints = torch.randn(seeds, frames, 22, 3, generator=torch.Generator().manual_seed(0)) * 0.3
    joints[..., 1] += 1.0
    for _ in range(repeats):
        start = time.perf_counter()
        program = load_program(source)
        compile_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        with torch.no_grad():
            program.margins(joints)
        margin_times.append(time.perf_counter() - start)
        probe = joints.clone().requires_grad_(True)
        start = time.perf_counter()
        program.loss(probe).sum().backward()
        loss_times.append(time.perf_counter() - start)
    return {
        "constraints": constraints, "seeds": seeds, "frames": frames,
        "compile_s": statistics.median(compile_times), "margins_s": statistics.median(margin_times),
        "loss_and_gradient_s": statistics.median(loss_times),
    }


def task_entry(task: str, reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A task's line: the speed ratio (reference time / fast time) and both successes (None
    without a reference run)."""
    reference = reports.get("progmogen")
    fast = reports["fast"]
    return {
        "task": task,
        "speed_ratio": None if reference is None else round(reference["time_s"] / max(fast["time_s"], 1e-9), 2),
        "fast_success": fast["satisfied"], "reference_success": None if reference is None else reference["satisfied"],
    }


def summary(rows: list[dict[str, Any]], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Success rates, the fast method's median and p90 time, and the median speed ratio."""
    fast_times = [row["time_s"] for row in rows if row["method"] == "fast"]
    ratios = [t["speed_ratio"] for t in tasks if t["speed_ratio"] is not None]
    compared = [t for t in tasks if t["reference_success"] is not None]
    return {
        "fast_success_rate": sum(t["fast_success"] for t in tasks) / max(len(tasks), 1),
        "reference_success_rate": sum(t["reference_success"] for t in compared) / len(compared) if compared else None,
        "fast_median_time_s": percentile(fast_times, 0.5),
        "fast_p90_time_s": percentile(fast_times, 0.9),
        "median_speed_ratio": percentile(ratios, 0.5),
    }


def warm_up(model: MotionModel, path: Path, fast: OptimizeConfig) -> float:
    """One untimed short run (one iteration, no candidates, polish, feet or re-decode), so that
    start-up costs (the text encoder, lazy imports) do not land in the first task's time;
    returns its seconds."""
    start = time.perf_counter()
    generate(load_program(path), model=model, config=replace(fast, iterations=1, candidates=0, polish_iterations=0,
                                                             clean_feet=False, final_steps=0))
    return round(time.perf_counter() - start, 3)


def run_bench(programs: Sequence[Path], model: MotionModel, fast: OptimizeConfig, reference: OptimizeConfig | None,
              progress: Progress | None = None, language: bool = True,
              checkpoint: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run every program with the fast method and (unless ``reference`` is None) the reference on
    ``model``; returns the JSON results. ``checkpoint`` receives the results so far after each
    task (``complete`` false), so a long run leaves what it measured."""
    methods = [fast] + ([replace(reference, method="progmogen")] if reference is not None else [])
    rows: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    settings = {"fast": {"seeds": fast.seeds, "steps": fast.steps or "student", "iterations": fast.iterations,
                         "candidates": fast.candidates},
                "reference": None if reference is None else {
                    "steps": reference.progmogen_steps, "iterations": reference.progmogen_iterations,
                    "lr": reference.progmogen_lr}}
    warm_up_s = warm_up(model, programs[0], fast) if programs else 0.0
    for path in programs:
        program, task, reports = load_program(path), Path(path).stem, {}
        for config in methods:
            if progress is not None:
                progress(len(rows), len(methods) * len(programs), f"{task} ({config.method})")
            reports[config.method] = generate(program, model=model, config=config).report
            rows.append(run_row(task, reports[config.method]))
        tasks.append(task_entry(task, reports))
        if checkpoint is not None:
            checkpoint(assemble(model, settings | {"warm_up_s": warm_up_s}, rows, tasks, None, complete=False))
    return assemble(model, settings | {"warm_up_s": warm_up_s}, rows, tasks,
                    language_bench() if language else None, complete=True)


def assemble(model: MotionModel, settings: dict[str, Any], rows: list[dict[str, Any]], tasks: list[dict[str, Any]],
            language: dict[str, Any] | None, complete: bool) -> dict[str, Any]:
    """The JSON results of a (possibly partial) run."""
    return {"machine": machine(), "model": model.name, "settings": settings, "complete": complete,
            "runs": rows, "tasks": tasks, "summary": summary(rows, tasks), "language": language}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown: machine, per-run table, per-task speed ratios, language timings."""
    info = results["machine"]
    lines = [
        "# Benchmark", "",
        f"Machine: {info['processor']}, {info['cpu_count']} cores ({info['torch_threads']} torch threads), "
        f"GPU: {info['cuda'] or 'none'}; Python {info['python']}, torch {info['torch']}; model `{results['model']}`.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |" for row in results["runs"]]
    lines += ["", "| task | speed ratio (reference / fast) | fast success | reference success |", "|---|---|---|---|"]
    lines += [f"| {t['task']} | {_cell(t['speed_ratio'])} | {_cell(t['fast_success'])} | "
              f"{_cell(t['reference_success'])} |" for t in results["tasks"]]
    totals = results["summary"]
    lines += ["", f"Fast success rate {_cell(totals['fast_success_rate'])} (reference "
                  f"{_cell(totals['reference_success_rate'])}), fast time median {_cell(totals['fast_median_time_s'])} s "
                  f"and p90 {_cell(totals['fast_p90_time_s'])} s, median speed ratio {_cell(totals['median_speed_ratio'])}."]
    if not results.get("complete", True):
        lines += ["", f"Partial: {len(results['tasks'])} tasks measured so far."]
    if results["language"]:
        lang = results["language"]
        lines += ["", "| language | seconds |", "|---|---|",
                  f"| compile a {lang['constraints']}-constraint program | {lang['compile_s']:.4f} |",
                  f"| margins, {lang['seeds']} seeds x {lang['frames']} frames | {lang['margins_s']:.4f} |",
                  f"| loss and gradient, same | {lang['loss_and_gradient_s']:.4f} |"]
    return "\n".join(lines) + "\n"
