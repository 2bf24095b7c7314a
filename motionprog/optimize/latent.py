"""The latent search: Adam on the initial DDIM noise z of B seeds at once.

One loop (:func:`run_search`) serves both methods, and ``edit``'s search in feature space too; a
:class:`Recipe` says which method. The fast recipe follows DNO
(Karunratanakul et al., CVPR 2024) and optimises through the distilled one-step student when
the model has one (ReNO, MotionLCM): gradients normalised per seed, a warm-up and cosine
learning-rate schedule, a penalty keeping z standard normal, and an early stop as soon as some
seed satisfies every constraint (programs with objectives run every iteration). The reference
recipe (``progmogen.py``) is plain Adam at a fixed rate for a fixed number of iterations
through a 100-step chain, one seed.

Each iteration evaluates ``z -> Decoder -> place (relaxed goals) -> program.margins / loss``;
checking the stop rule, keeping the best iterate and recording the history reuse those margins.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from motionprog.errors import InputError
from motionprog.models.protocol import MotionModel
from motionprog.optimize import naturalness
from motionprog.optimize.decode import Decoder, place_joints
from motionprog.optimize.solution import History, Iterate, Solution
from motionprog.optimize.verdict import finished, hard_mask, is_better, stalled, violations
from motionprog.optimize.windows import check_length

if TYPE_CHECKING:
    from motionprog.lang.ir import Relax
    from motionprog.lang.program import Program

Callback = Callable[[int, float, int], None]
"""Called once per iteration with (iteration, mean loss over seeds, seeds satisfied)."""
Step = Callable[[int], tuple[Iterate, Tensor]]
"""One evaluation of every row at an iteration: (the detached Iterate, whose ``loss`` the best
iterate, history and progress use; the live scalar whose gradient updates the search)."""


@dataclass(frozen=True)
class Recipe:
    """How to optimise z (see :class:`motionprog.optimize.config.OptimizeConfig` for units).

    seeds:        random seed of each batch row (B = len(seeds)).
    steps:        decode inside the loop: DDIM steps of the teacher, or 0 for the student.
    iterations:   the most Adam updates (iterations + 1 evaluations).
    lr, lr_final, warmup: linear warm-up to ``lr``, then cosine decay to ``lr_final``.
    normalize:    divide each seed's gradient by its RMS before Adam (DNO).
    noise_weight: weight of :func:`noise_penalty`.
    natural_weight: weight of :func:`motionprog.optimize.naturalness.penalty` (0: constraints alone).
    rigid:        measure constraints on the rigid skeleton (``Decoder``).
    early_stop:   stop as soon as some seed reaches the program's finish line (every
                  constraint holds, every ``until`` goal is met); a program with open-ended
                  objectives stops once they stall (``patience``).
    patience:     with objectives: stop when the best satisfying seed's loss gained less than
                  ``verdict.STALL_TOLERANCE`` over this many iterations (0: run every iteration).
    keep_best:    return each seed's best iterate (fewest violated hard constraints, then
                  smallest total violation, then lowest loss) rather than the last one.
    """

    seeds: tuple[int, ...]
    steps: int
    iterations: int
    lr: float
    lr_final: float
    warmup: int
    normalize: bool
    noise_weight: float
    early_stop: bool
    keep_best: bool
    placement_lr: float
    checkpoint: bool
    guidance: float | None
    rigid: bool
    natural_weight: float
    patience: int = 0

    def decoder(self, model: MotionModel, program: Program) -> Decoder:
        return Decoder.of(program, model, self.steps, self.guidance, self.rigid, self.checkpoint)


def schedule_factor(iteration: int, recipe: Recipe) -> float:
    """Learning rate of update ``iteration`` (0-based) over ``recipe.lr``: linear warm-up, then
    cosine decay to ``lr_final``."""
    if iteration < recipe.warmup:
        return (iteration + 1) / recipe.warmup
    span = max(recipe.iterations - recipe.warmup, 1)
    progress = min((iteration - recipe.warmup) / span, 1.0)
    final = recipe.lr_final / recipe.lr
    return final + 0.5 * (1 - final) * (1 + math.cos(math.pi * progress))


def noise_penalty(z: Tensor) -> Tensor:
    """[B] penalty that is near 0 for standard-normal noise and grows as z drifts from it.

    z: [B, T, ...] (time first after the batch). Two terms: the chi-square norm term
    ``(mean(z^2) - 1)^2`` and DNO's decorrelation term, the squared lag-1 autocorrelation along
    time (pooled over channels) at every scale of a 2x pooling pyramid (rescaled by sqrt(2) per
    level so that white noise keeps unit variance). For white noise each level adds about
    ``1 / (T_l * channels)``.
    """
    per_seed = tuple(range(1, z.dim()))
    penalty = (z.pow(2).mean(per_seed) - 1).pow(2)
    level = z.flatten(2) if z.dim() > 2 else z.unsqueeze(-1)
    while level.shape[1] >= 4:
        lag = (level[:, 1:] * level[:, :-1]).mean((1, 2))
        penalty = penalty + lag.pow(2)
        pairs = level.shape[1] // 2 * 2
        level = (level[:, 0:pairs:2] + level[:, 1:pairs:2]) / math.sqrt(2.0)
    return penalty


def normalize_per_seed(grad: Tensor, eps: float = 1e-12) -> Tensor:
    """grad [B, ...] divided by its root-mean-square per seed (zero gradients stay zero)."""
    rms = grad.flatten(1).pow(2).mean(1).sqrt().clamp_min(eps)
    return grad / rms.view(-1, *([1] * (grad.dim() - 1)))


def nonfinite_message(program: Program, margins: Tensor, loss: Tensor, iteration: int) -> str | None:
    """Why this evaluation cannot be used (the first constraint whose margin is NaN or infinite,
    or a non-finite loss), or None when everything is finite."""
    bad = ~torch.isfinite(margins).all(0)
    if bad.any():
        info = program.constraints[int(bad.nonzero()[0, 0])]
        return f"the margin of constraint '{info.name}' ({info.source}) became non-finite at iteration {iteration}"
    if not torch.isfinite(loss).all():
        return f"the loss became non-finite at iteration {iteration}"
    return None


@dataclass
class Search:
    """The variables of one search (z, placement), their optimizer and schedule."""

    z: Tensor
    yaw: Tensor
    xz: Tensor
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler

    @property
    def params(self) -> list[Tensor]:
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    @classmethod
    def start(cls, z: Tensor, relax: Relax, recipe: Recipe) -> Search:
        """Search variables from noise z; the placement's yaw and xz are free as ``relax`` says."""
        z = z.detach().clone().requires_grad_(True)
        yaw = torch.zeros(z.shape[0], device=z.device, dtype=z.dtype, requires_grad=relax.yaw)
        xz = torch.zeros(z.shape[0], 2, device=z.device, dtype=z.dtype, requires_grad=relax.xz)
        groups = [{"params": [z], "lr": recipe.lr}]
        placement = [p for p in (yaw, xz) if p.requires_grad]
        if placement:
            groups.append({"params": placement, "lr": recipe.placement_lr})
        optimizer = torch.optim.Adam(groups)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: schedule_factor(i, recipe))
        return cls(z, yaw, xz, optimizer, scheduler)


def evaluate(program: Program, decoder: Decoder, search: Search) -> tuple[Iterate, Tensor, Tensor]:
    """One evaluation of every seed: (the detached Iterate, live joints and loss for the gradient)."""
    features, joints = decoder(search.z)
    joints = place_joints(program, joints, search.yaw, search.xz)
    with torch.no_grad():
        margins = program.margins(joints)
    loss = program.loss(joints)
    steps = torch.full((search.z.shape[0],), decoder.steps, device=search.z.device)
    iterate = Iterate(search.z.detach(), search.yaw.detach(), search.xz.detach(), features.detach(),
                      joints.detach(), margins, loss.detach(), steps)
    return iterate, joints, loss


def update(search: Search, objective: Tensor, recipe: Recipe, iteration: int) -> str | None:
    """One Adam step on the search's variables; an error message instead if a gradient is not finite."""
    params = search.params
    grads = torch.autograd.grad(objective, params)
    if not all(torch.isfinite(g).all() for g in grads):
        return f"the gradient became non-finite at iteration {iteration}"
    for param, grad in zip(params, grads):
        param.grad = grad
    if recipe.normalize:
        search.z.grad = normalize_per_seed(search.z.grad)
    search.optimizer.step()
    search.scheduler.step()
    return None


def keep(best: Iterate | None, current: Iterate, verdict: tuple[Tensor, Tensor], hard: Tensor,
         keep_best: bool) -> Iterate:
    """The iterate to keep per seed: the current one, or the better of it and ``best``.
    ``verdict``: the current iterate's (violated count, total violation), as ``violations`` gives."""
    if best is None or not keep_best:
        return current.clone()
    take = is_better(*verdict, *violations(best.margins, hard), current.loss, best.loss)
    return current.where(take, best)


def optimize_latent(program: Program, model: MotionModel, recipe: Recipe,
                    callback: Callback | None = None, start_noise: Tensor | None = None) -> Solution:
    """Optimise the initial noise of ``len(recipe.seeds)`` seeds so that the program holds,
    starting from the seeds' noise or from ``start_noise`` [len(seeds), *latent] when given.

    Returns a :class:`Solution` (best iterate per seed when ``recipe.keep_best``). A margin or
    gradient that becomes NaN/inf ends the run at the last finite iterate, with
    ``Solution.error`` naming the constraint; if even the first evaluation is non-finite the
    run raises InputError.
    """
    check_length(program, model, len(recipe.seeds))
    started = time.perf_counter()
    decoder = recipe.decoder(model, program)
    drawn = decoder.latents(list(recipe.seeds), program.frames)
    if start_noise is not None and start_noise.shape != drawn.shape:
        raise InputError(f"the start noise has shape {list(start_noise.shape)}, the program needs {list(drawn.shape)}")
    search = Search.start((drawn if start_noise is None else start_noise).to(model.device), program.relax, recipe)
    step = functools.partial(latent_step, program, model, decoder, search, recipe)
    return run_search(program, search, recipe, step, callback, started, "this model's motions")


def latent_step(program: Program, model: MotionModel, decoder: Decoder, search: Search, recipe: Recipe,
                iteration: int) -> tuple[Iterate, Tensor]:
    """The latent search's :data:`Step`: the program's loss plus the noise and naturalness
    penalties, summed over seeds (``iteration`` does not change it)."""
    current, joints, loss = evaluate(program, decoder, search)
    objective = (loss.sum() + recipe.noise_weight * noise_penalty(search.z).sum()
                 + recipe.natural_weight * naturalness.penalty(joints, model.fps).sum())
    return current, objective


def run_search(program: Program, search: Search, recipe: Recipe, step: Step, callback: Callback | None,
               started: float, subject: str) -> Solution:
    """The loop of every search (``optimize_latent`` and ``edit``): evaluate, keep the best iterate,
    record the history, report progress, apply the stop rule, update, for at most
    ``recipe.iterations`` updates.

    A margin, loss or gradient that becomes NaN/inf ends the run at the last finite iterate, with
    ``Solution.error`` saying which; if even the first evaluation is non-finite the run raises
    InputError (the program cannot be evaluated on ``subject``). ``started``: the
    ``time.perf_counter()`` the history's times count from.
    """
    hard = hard_mask(program, search.z.device)
    best, record, best_loss, error, updates = None, [], [], None, 0
    for iteration in range(recipe.iterations + 1):
        current, objective = step(iteration)
        error = nonfinite_message(program, current.margins, current.loss, iteration)
        if error is not None:
            break
        verdict = violations(current.margins, hard)
        best = keep(best, current, verdict, hard, recipe.keep_best)
        satisfying = verdict[0] == 0
        record.append((time.perf_counter() - started, current.loss, current.margins, int(satisfying.sum())))
        best_loss.append(float(torch.where(satisfying, current.loss, torch.inf).min()))
        if callback is not None:
            callback(iteration, float(current.loss.mean()), int(satisfying.sum()))
        if iteration == recipe.iterations or (recipe.early_stop and done(program, current.margins, best_loss,
                                                                         recipe.patience)):
            break
        error = update(search, objective, recipe, iteration)
        if error is not None:
            break
        updates += 1
    if best is None:
        raise InputError(f"{error}; the program cannot be evaluated on {subject}")
    return Solution(best=best, iterations=updates, history=history_of(record), error=error)


def done(program: Program, margins: Tensor, best_loss: list[float], patience: int) -> bool:
    """The early-stop rule: some seed of the latest evaluation (margins [B, K]) reaches the
    finish line, or (programs with objectives) the lowest loss among satisfying seeds, one value
    per evaluation so far (``best_loss``), has stalled for ``patience`` evaluations."""
    return bool(finished(margins, program).any()) or stalled(best_loss, patience)


def history_of(record: list[tuple[float, Tensor, Tensor, int]]) -> History:
    """Stack per-evaluation (time, loss [B], margins [B, K], satisfied) into a History."""
    times, losses, margins, satisfied = zip(*record)
    return History(time_s=torch.tensor(times), loss=torch.stack(losses), margins=torch.stack(margins),
                   satisfied=torch.tensor(satisfied))
