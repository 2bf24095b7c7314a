"""``generate``: a program and a model in, a Motion with its report out.

Fast method: choose the best seeds among candidate samples (``start.py``), search their noise
(``latent.py``, through the distilled student when the model has one), decode the result again
with the teacher where that is preferred (``redecode.py``), choose the seed to keep
(``verdict.py``, ``naturalness.py``), polish it when it still violates (``polish.py``) and pin
its planted feet (``feet.py``). The Motion carries the rig's rotations, so exports never solve
inverse kinematics again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from motionprog.models.protocol import MotionModel
from motionprog.models.registry import load_model, resolve_device
from motionprog.models.vocabulary import PromptMatch, model_prompt_match
from motionprog.motion import Motion
from motionprog.optimize import naturalness
from motionprog.optimize.config import OptimizeConfig
from motionprog.optimize.decode import STUDENT
from motionprog.optimize.feet import with_clean_feet
from motionprog.optimize.latent import Callback, Recipe, optimize_latent
from motionprog.optimize.memory import peak_memory
from motionprog.optimize.polish import polish
from motionprog.optimize.recipes import fast_recipe, reference_recipe
from motionprog.optimize.redecode import redecode
from motionprog.optimize.report import build_report
from motionprog.optimize.solution import Solution
from motionprog.optimize.start import best_seeds
from motionprog.optimize.verdict import choose_best, hard_mask, violations
from motionprog.optimize.windows import check_length, timeline_of

if TYPE_CHECKING:
    from torch import Tensor

    from motionprog.lang.program import Program


@dataclass(frozen=True)
class Result:
    """motion: the chosen seed's Motion (report and scene in its metadata); report: the JSON report;
    noise: the chosen seed's optimised noise [1, *latent], the ``start_noise`` of a warm re-run."""

    motion: Motion
    report: dict[str, Any]
    noise: Tensor | None = None

    @property
    def satisfied(self) -> bool:
        return bool(self.report["satisfied"])


def load_program(program: Program | str | os.PathLike) -> Program:
    """A compiled Program, compiling source text or a ``.mprog`` path when given one."""
    if isinstance(program, (str, os.PathLike)):
        from motionprog.lang import compile as compile_program

        return compile_program(program)
    return program


def plan(program: Program, model: MotionModel, config: OptimizeConfig, start_noise: Tensor | None = None
         ) -> Recipe:
    """The recipe of a run; for the fast method its seeds are the best candidates (one per row
    of a given ``start_noise``, which needs no candidates)."""
    if config.method == "progmogen":
        return reference_recipe(config)
    keep = (config.seeds or program.seeds) if start_noise is None else start_noise.shape[0]
    recipe = fast_recipe(config, model, tuple(range(config.seed, config.seed + keep)))
    if start_noise is not None:
        return recipe
    seeds = best_seeds(program, model, recipe.decoder(model, program), config.seed, config.candidates, keep)
    return replace(recipe, seeds=seeds)


def final_steps(config: OptimizeConfig, model: MotionModel, recipe: Recipe) -> int:
    """DDIM steps of the teacher's final decode (0: none): ``config.final_steps`` when given,
    else the model's default after a search through the student."""
    if config.method != "fast":
        return 0
    if config.final_steps is not None:
        return config.final_steps
    return model.default_steps if recipe.steps == STUDENT else 0


def finish(program: Program, model: MotionModel, solution: Solution, config: OptimizeConfig
           ) -> tuple[Solution, int, dict[str, Any]]:
    """Choose the seed to keep, polish it if it still violates and clean its feet:
    (solution, chosen index, {"polish": summary, "feet": summary})."""
    count, total = violations(solution.best.margins, hard_mask(program, solution.best.margins.device))
    best = choose_best(count, total, naturalness.score(naturalness.measure(solution.best.joints)))
    stages: dict[str, Any] = {"polish": {"applied": False, "accepted": False, "iterations": 0},
                              "feet": {"applied": False, "accepted": False}}
    fast = config.method == "fast" and solution.error is None
    if fast and config.polish_iterations > 0 and int(count[best]) > 0:
        outcome = polish(program, model, solution.best[best], config)
        stages["polish"] = outcome.summary()
        if outcome.accepted:
            solution = solution.with_best(solution.best.put(best, outcome.seed))
    if fast and config.clean_feet:
        seed, stages["feet"] = with_clean_feet(program, solution.best[best], model.fps, config.polish_tolerance)
        solution = solution.with_best(solution.best.put(best, seed))
    return solution, best, stages


def prompt_match(model: MotionModel, program: Program) -> PromptMatch | None:
    """How close the program's prompt is to the model's training labels: of a program with
    parts (``then``), the part least like them (None for a model that lists no labels)."""
    matches = [m for m in (model_prompt_match(model, part.prompt) for part in program.parts) if m is not None]
    return min(matches, key=lambda m: m.similarity, default=None)


def generate(
    program: Program | str | os.PathLike,
    model: MotionModel | str | None = None,
    seeds: int | None = None,
    device: str = "auto",
    config: OptimizeConfig | None = None,
    callback: Callback | None = None,
    start_noise: Tensor | None = None,
) -> Result:
    """Generate a motion that satisfies ``program`` (a Program, source text or a path).

    model:    a MotionModel, a model spec for ``load_model``, or None (program's or bundled).
    seeds:    seeds optimised together (default: the config's, else the program's).
    device:   "auto", "cpu" or "cuda"; overrides ``config.device`` unless "auto".
    callback: called per iteration with (iteration, mean loss, seeds satisfied).
    start_noise: noise [S, *latent] to search from instead of drawing seeds (a previous
              ``Result.noise``: a warm start after a small edit of the program).
    Returns a :class:`Result`; ``result.report["satisfied"]`` says whether every hard constraint
    holds. Raises InputError (bad program, more window frames to decode than the limit, unknown
    device).
    """
    config = config or OptimizeConfig()
    if seeds is not None:
        config = replace(config, seeds=seeds)
    if device != "auto":
        config = replace(config, device=device)
    program = load_program(program)
    if model is None or isinstance(model, str):
        model = load_model(model or program.model or "bundled", device=resolve_device(config.device))
    check_length(program, model, (config.seeds or program.seeds) if start_noise is None else start_noise.shape[0])
    start = time.perf_counter()
    with peak_memory(model.device) as memory:
        recipe = plan(program, model, config, start_noise)
        solution = optimize_latent(program, model, recipe, callback, start_noise)
        if final_steps(config, model, recipe):
            solution = redecode(program, model, solution, final_steps(config, model, recipe), config.guidance,
                                config.rigid)
        solution, best, stages = finish(program, model, solution, config)
    match = prompt_match(model, program)
    timeline = timeline_of(program, model)
    report = build_report(
        program, solution, best, seeds=recipe.seeds, metrics=naturalness.measure(solution.best.joints),
        time_s=time.perf_counter() - start, peak_memory_mb=memory.mb, method=config.method,
        model_name=model.name, polish=stages["polish"], feet=stages["feet"],
        prompt=None if match is None else match.to_json(),
        windows=None if timeline is None else timeline.to_json(),
    )
    motion = Motion(
        joints=solution.best.joints[best].detach().float().cpu().numpy(), fps=model.fps, text=program.text,
        metadata={"report": report, "scene": [obj.to_dict() for obj in program.scene]},
    )
    return Result(motion=replace(motion, rotations=motion.rig_rotations()), report=report,
                  noise=solution.best.z[best:best + 1].detach().clone())
