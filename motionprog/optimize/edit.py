"""``edit``: a motion the user has and a program in, the motion changed only where the program
asks, with its report (margins and how far it moved).

The search runs in the prior's feature space (docs/optimizer.md says why, with the figures
against DDIM inversion): a correction ``delta`` of the input's normalised features, taken by
each frame as far as it may change (``preserve.change_scale``), optimised by the latent
search's Adam and schedule (``latent.Search``) on

    program loss (its weight growing with the iterations)
    + preservation (near the input where the program asks for no change)
    + prior (the bundled denoiser's pull, where the edit is free) + naturalness
    + bone lengths and directions near the input's + accelerations near the input's.

The prior term is score distillation: the features, noised to ``PRIOR_TIMESTEP``, are denoised
by the model (no gradient through it) and the result pulls them, weighted by how free each
frame is. The denoiser is convolutional, so it reads a long input in windows of the model's
length: an edit has no length limit of its own.
"""

from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from motionprog.errors import InputError
from motionprog.models.registry import load_model, resolve_device
from motionprog.motion import Motion
from motionprog.optimize import naturalness
from motionprog.optimize.edit_input import Placement, edit_input, feature_joints, input_features
from motionprog.optimize.generate import Result
from motionprog.optimize.latent import Callback, Recipe, Search, run_search
from motionprog.optimize.memory import peak_memory
from motionprog.optimize.preserve import (acceleration_change, bone_change, change_scale, edit_frames, free_frames, moved_report, preservation,
                                          preservation_weights)
from motionprog.optimize.report import build_report
from motionprog.optimize.solution import Iterate, Solution
from motionprog.sampling.schedule import cosine_schedule

if TYPE_CHECKING:
    from motionprog.lang.program import Program
    from motionprog.models.bundled import BundledModel

TAPER_S = 0.25
"""Seconds over which the feature correction fades in and out at the edges of what may change."""

EDIT_PATIENCE = 20
"""Iterations over which the lowest cost of an edit that holds every hard constraint must still
fall (``verdict.stalled``): a program with objectives or soft constraints stops once it does not."""

PRIOR_TIMESTEP = 200
"""Diffusion timestep (of 1000) the prior term noises the features to: enough noise for the
denoiser to correct a pose, little enough to keep the motion's timing."""


@dataclass(frozen=True)
class EditConfig:
    """Settings of one edit.

    iterations:       the most Adam updates (the edit stops once every constraint holds).
    program_weight:   weight of the program's loss against the terms below at the first
                      iteration; it grows by as much again every ``pressure_iterations``, so the
                      search first finds a change the other terms accept, then pushes it until
                      the program holds.
    lr, lr_final, warmup: Adam on delta (normalised feature units; the gradient is normalised).
    radius_s:         seconds over which the preservation weight rises from 0 at the frames the
                      program asks to change to 1 (``preserve.preservation_weights``).
    preserve_weight:  weight of ``preserve.preservation``.
    prior_weight:     weight of the prior's pull (mean squared normalised features, per free frame).
    smooth_weight:    weight of ``preserve.acceleration_change`` (joint accelerations near the input's).
    bone_weight:      weight of the squared change of bone lengths, m^2 (``preserve.bone_change``).
    pose_weight:      weight of the squared change of bone directions (``preserve.bone_change``).
    natural_weight:   weight of ``naturalness.penalty`` (jerks above 50 m/s^2, joints under the floor).
    seed:             seed of the prior term's noise.
    device:           "auto", "cpu" or "cuda".
    """

    iterations: int = 400
    program_weight: float = 10.0
    pressure_iterations: float = 100.0
    lr: float = 0.1
    lr_final: float = 0.01
    warmup: int = 5
    radius_s: float = 1.0
    preserve_weight: float = 0.01
    prior_weight: float = 0.1
    smooth_weight: float = 1.0
    bone_weight: float = 1000.0
    pose_weight: float = 0.03
    natural_weight: float = 0.1
    seed: int = 0
    device: str = "auto"

    def recipe(self) -> Recipe:
        """The latent search's recipe for Adam on delta (one row, no noise or placement terms)."""
        return Recipe(seeds=(self.seed,), steps=0, iterations=self.iterations, lr=self.lr, lr_final=self.lr_final,
                      warmup=self.warmup, normalize=True, noise_weight=0.0, early_stop=True, keep_best=True,
                      placement_lr=0.0, checkpoint=False, guidance=None, rigid=False,
                      natural_weight=self.natural_weight, patience=EDIT_PATIENCE)


@dataclass(frozen=True)
class EditTarget:
    """Everything an edit holds fixed: the input's joints [1, T, 22, 3] and normalised features
    [1, T, 67], its placement, how much of delta each frame takes [1, T, 1] (0: the input's own
    joints; ``preserve.change_scale``), the preservation
    weights [T], and the prompt the prior is conditioned on."""

    joints: Tensor
    features: Tensor
    placement: Placement
    free: Tensor
    weights: Tensor
    text: str


def prior_target(model: BundledModel, features: Tensor, text: str, noise: Tensor) -> Tensor:
    """[1, T, 67] the denoiser's clean estimate of ``features`` noised to ``PRIOR_TIMESTEP`` with
    ``noise`` (no gradient), read in windows of ``model.max_frames`` that overlap by half and
    averaged where they do."""
    frames, size = features.shape[1], min(model.max_frames, features.shape[1])
    starts = sorted({*range(0, frames - size, max(size // 2, 1)), frames - size})
    alpha_bar = float(cosine_schedule().alphas_cumprod[PRIOR_TIMESTEP])
    noisy = math.sqrt(alpha_bar) * features + math.sqrt(1 - alpha_bar) * noise
    batch = torch.cat([noisy[:, s:s + size] for s in starts])
    t = torch.full((len(starts),), PRIOR_TIMESTEP, device=features.device, dtype=torch.long)
    with torch.no_grad():
        conditional = torch.ones(len(starts), device=features.device)
        clean = model.denoiser(batch, t, model.embed(text, len(starts)), conditional)
    total, count = torch.zeros_like(features), torch.zeros_like(features[..., :1])
    for row, s in enumerate(starts):
        total[:, s:s + size] += clean[row:row + 1]
        count[:, s:s + size] += 1
    return total / count


def edit_target(program: Program, model: BundledModel, motion: Motion, config: EditConfig) -> EditTarget:
    """The fixed parts of an edit of ``motion`` (already checked by ``edit_input``)."""
    joints = torch.as_tensor(motion.joints, dtype=model.dtype, device=model.device)[None]
    wanted = edit_frames(program, joints)
    weights = preservation_weights(wanted, config.radius_s * model.fps)
    free = free_frames(program, weights)
    weights = torch.where(free, weights, torch.ones_like(weights))
    scale = change_scale(free, weights, TAPER_S * model.fps)
    text = program.text or motion.text
    return EditTarget(joints, input_features(joints, model.mean, model.std), Placement.of(joints),
                      scale.to(model.device, model.dtype)[None, :, None], weights.to(model.device), text)


def edited(target: EditTarget, model: BundledModel, delta: Tensor) -> tuple[Tensor, Tensor]:
    """(features [1, T, 67], joints [1, T, 22, 3]) of the input changed by ``delta`` where free;
    frames outside ``keep``'s window are the input's own joints."""
    features = target.features + target.free * delta
    joints = feature_joints(features, model.mean, model.std, target.placement)
    return features, torch.where(target.free[..., None] > 0, joints, target.joints)


def edit_objective(model: BundledModel, target: EditTarget, config: EditConfig, delta: Tensor, features: Tensor,
                   joints: Tensor, noise: Tensor) -> Tensor:
    """[1] everything the edit minimises besides the program's loss (module doc)."""
    pull = (features - prior_target(model, features.detach(), target.text, noise)).pow(2).mean(-1)
    lengths, directions = bone_change(joints, target.joints)
    return (config.preserve_weight * preservation(joints, target.joints, target.weights)
            + config.prior_weight * (pull * (1 - target.weights)).sum(-1)
            + config.bone_weight * lengths + config.pose_weight * directions
            + config.smooth_weight * acceleration_change(joints, target.joints)
            + config.natural_weight * naturalness.penalty(joints, model.fps))


def search_edit(program: Program, model: BundledModel, target: EditTarget, config: EditConfig,
                callback: Callback | None = None) -> Solution:
    """Adam on delta until every constraint holds or ``config.iterations`` updates; the best
    iterate (fewest violated hard constraints, least violation, then the lowest total cost)."""
    recipe, started = config.recipe(), time.perf_counter()
    search = Search.start(torch.zeros_like(target.features), program.relax, recipe)
    generator = torch.Generator().manual_seed(config.seed)
    step = functools.partial(edit_step, program, model, target, config, search, generator)
    return run_search(program, search, recipe, step, callback, started, "this motion")


def edit_step(program: Program, model: BundledModel, target: EditTarget, config: EditConfig, search: Search,
              generator: torch.Generator, iteration: int) -> tuple[Iterate, Tensor]:
    """The edit's :data:`~motionprog.optimize.latent.Step`: the total cost, its program loss
    weighted by the pressure of ``iteration`` and the prior's noise drawn from ``generator``."""
    features, joints = edited(target, model, search.z)
    noise = torch.randn(target.features.shape, generator=generator).to(target.features)
    pressure = config.program_weight * (1 + iteration / config.pressure_iterations)
    cost = (pressure * program.loss(joints)
            + edit_objective(model, target, config, search.z, features, joints, noise))
    with torch.no_grad():
        margins = program.margins(joints)
    current = Iterate(search.z.detach(), search.yaw.detach(), search.xz.detach(), features.detach(),
                      joints.detach(), margins, cost.detach(), torch.zeros(1, device=model.device))
    return current, cost.sum()


def edit_program(program: Program | str | os.PathLike, motion: Motion, allow_paths: tuple = ()) -> Program:
    """The program for an edit of ``motion``: compiled for its length with ``input`` and ``keep``
    allowed (source text or a path), or checked (a Program)."""
    if isinstance(program, (str, os.PathLike)):
        from motionprog.lang import compile as compile_program

        program = compile_program(program, frames=motion.num_frames, allow_paths=allow_paths, editing=True)
    if program.frames != motion.num_frames:
        raise InputError(f"the program is for {program.frames} frames but the input motion has {motion.num_frames}")
    if program.relaxed:
        raise InputError("an edit keeps the input where it stands; remove 'relax' from the program")
    return program


def edit(motion: Motion, program: Program | str | os.PathLike, model: BundledModel | str | None = None,
         config: EditConfig | None = None, callback: Callback | None = None, allow_paths: tuple = ()) -> Result:
    """Edit ``motion`` so that ``program`` (a Program compiled with ``editing=True`` for its
    length, source text or a path) holds, keeping it wherever the program asks for no change.

    model: the bundled prior (None: load it; a spec or a loaded BundledModel). Returns a
    :class:`~motionprog.optimize.generate.Result` whose report adds ``moved`` and ``edit``.
    Raises InputError (too short an input, a model without a denoiser, a relaxed program).
    """
    config = config or EditConfig()
    motion = edit_input(motion)
    program = edit_program(program, motion, allow_paths)
    if model is None or isinstance(model, str):
        model = load_model(model or "bundled", device=resolve_device(config.device))
    if not hasattr(model, "denoiser"):
        raise InputError(f"editing needs the bundled prior's denoiser; model '{model.name}' has none")
    program = program.with_input(torch.as_tensor(motion.joints, dtype=model.dtype, device=model.device)[None])
    start = time.perf_counter()
    with peak_memory(model.device) as memory:
        target = edit_target(program, model, motion, config)
        solution = search_edit(program, model, target, config, callback)
    report = edit_report(program, model, solution, target, time.perf_counter() - start, memory.mb)
    joints = solution.best.joints[0].detach().float().cpu().numpy()
    metadata = {**motion.metadata, "report": report, "scene": [obj.to_dict() for obj in program.scene]}
    result = Motion(joints=joints, fps=model.fps, text=motion.text, metadata=metadata)
    return Result(motion=result, report=report, noise=None)


def edit_report(program: Program, model: BundledModel, solution: Solution, target: EditTarget, time_s: float,
                memory_mb: float) -> dict[str, Any]:
    """The run report (``report.build_report``) with ``moved`` and what the edit held (``edit``)."""
    report = build_report(program, solution, 0, seeds=(0,), metrics=naturalness.measure(solution.best.joints),
                          time_s=time_s, peak_memory_mb=memory_mb, method="edit", model_name=model.name,
                          polish={"applied": False, "accepted": False, "iterations": 0})
    wanted = (target.weights < 1).nonzero().flatten().tolist()
    free = (target.free[0, :, 0] > 0).nonzero().flatten().tolist()
    report["moved"] = moved_report(solution.best.joints, target.joints)
    report["edit"] = {"space": "features", "weighted_down_frames": [wanted[0], wanted[-1]] if wanted else None,
                      "free_frames": [free[0], free[-1]] if free else None, "prompt": target.text}
    return report
