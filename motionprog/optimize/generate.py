"""``generate``: a program and a model in, a Motion with its report out."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Any

from motionprog.models.registry import load_model, resolve_device
from motionprog.motion import Motion
from motionprog.optimize.config import OptimizeConfig
from motionprog.optimize.latent import (
    Callback, check_length, fast_recipe, hard_mask, optimize_latent, redecode, violations,
)
from motionprog.optimize.memory import peak_memory
from motionprog.optimize.polish import polish, with_polished_seed
from motionprog.optimize.progmogen import reference_recipe
from motionprog.optimize.report import build_report
from motionprog.optimize.selection import choose_best, naturalness, naturalness_score


@dataclass(frozen=True)
class Result:
    """motion: the chosen seed's Motion (report and scene in its metadata); report: the JSON report."""

    motion: Motion
    report: dict[str, Any]

    @property
    def satisfied(self) -> bool:
        return bool(self.report["satisfied"])


def load_program(program: Any) -> Any:
    """A compiled Program, compiling source text or a ``.mprog`` path when given one."""
    if isinstance(program, (str, os.PathLike)):
        from motionprog.lang import compile as compile_program

        return compile_program(program)
    return program


def generate(
    program: Any,
    model: Any = None,
    seeds: int | None = None,
    device: str = "auto",
    config: OptimizeConfig | None = None,
    callback: Callback | None = None,
) -> Result:
    """Generate a motion that satisfies ``program`` (a Program, source text or a path).

    model:    a MotionModel, a model spec for ``load_model``, or None (program's or bundled).
    seeds:    seeds optimised together (default: the config's, else the program's).
    device:   "auto", "cpu" or "cuda"; overrides ``config.device`` unless "auto".
    callback: called per iteration with (iteration, mean loss, seeds satisfied).
    Returns a :class:`Result`; ``result.report["satisfied"]`` says whether every hard constraint
    holds. Raises InputError (bad program, too long for the model, unknown device).
    """
    config = config or OptimizeConfig()
    if seeds is not None:
        config = replace(config, seeds=seeds)
    if device != "auto":
        config = replace(config, device=device)
    program = load_program(program)
    where = resolve_device(config.device)
    if model is None or isinstance(model, str):
        model = load_model(model or program.model or "bundled", device=where)
    check_length(program, model)
    if config.method == "progmogen":
        recipe = reference_recipe(config)
    else:
        recipe = fast_recipe(config, config.seeds or program.seeds)
    start = time.perf_counter()
    with peak_memory(model.device) as memory:
        solution = optimize_latent(program, model, recipe, callback)
        if config.final_steps is not None and config.method == "fast":
            solution = redecode(program, model, solution, config.final_steps, config.guidance, config.rigid)
        metrics = naturalness(solution.joints)
        count, total = violations(solution.margins, hard_mask(program, solution.margins.device))
        best = choose_best(count, total, naturalness_score(metrics))
        polished: dict[str, Any] = {"applied": False, "accepted": False, "iterations": 0}
        if config.method == "fast" and config.polish_iterations > 0 and int(count[best]) > 0 and solution.error is None:
            outcome = polish(program, model, solution.features[best : best + 1], solution.yaw[best : best + 1],
                             solution.xz[best : best + 1], config)
            polished = outcome.summary()
            if outcome.accepted:
                solution = with_polished_seed(solution, best, outcome)
                metrics = naturalness(solution.joints)
    report = build_report(
        program, solution, best, seeds=recipe.seeds, metrics=metrics, time_s=time.perf_counter() - start,
        peak_memory_mb=memory.mb, method=config.method, model_name=model.name, polish=polished,
    )
    motion = Motion(
        joints=solution.joints[best].detach().float().cpu().numpy(), fps=model.fps, text=program.text,
        metadata={"report": report, "scene": [obj.to_dict() for obj in program.scene]},
    )
    return Result(motion=motion, report=report)
