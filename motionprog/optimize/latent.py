"""The latent optimizer: Adam on the initial DDIM noise z of B seeds at once.

One loop serves both methods; a :class:`Recipe` says which. The fast recipe follows DNO
(Karunratanakul et al., CVPR 2024): few DDIM steps with gradients, gradients normalised per
seed, a learning-rate schedule, a penalty keeping z standard normal, and an early stop as soon
as some seed satisfies every constraint (programs with objectives run every iteration). The
reference recipe (``progmogen.py``) is plain Adam at a fixed rate for a fixed number of
iterations through a 100-step chain, one seed.

Each iteration evaluates ``z -> model.decode (K steps) -> model.to_joints -> rigid skeleton ->
place (relaxed goals) -> program.margins / program.loss``; the margins come with the loss, so
checking the stop rule, keeping the best iterate and recording the history cost nothing extra.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from motionprog.body.kinematics import project_keeping_contacts
from motionprog.body.placement import place
from motionprog.body.quantities import acceleration
from motionprog.numerics import safe_norm
from motionprog.errors import InputError

Callback = Callable[[int, float, int], None]
"""Called once per iteration with (iteration, mean loss over seeds, seeds satisfied)."""


@dataclass(frozen=True)
class Recipe:
    """How to optimise z (see :class:`motionprog.optimize.config.OptimizeConfig` for units).

    seeds:        random seed of each batch row (B = len(seeds)).
    steps:        DDIM steps of the decode inside the loop.
    iterations:   the most Adam updates (iterations + 1 evaluations).
    lr, lr_final, warmup: linear warm-up to ``lr``, then cosine decay to ``lr_final``.
    normalize:    divide each seed's gradient by its RMS before Adam (DNO).
    noise_weight: weight of :func:`noise_penalty`.
    natural_weight: weight of :func:`naturalness_penalty` (0: constraints alone).
    rigid:        project decoded joints onto the rigid skeleton (:func:`body_joints`).
    early_stop:   stop as soon as some seed satisfies every constraint (hard and soft), unless
                  the program has objectives (they run every iteration).
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


@dataclass(frozen=True)
class History:
    """Per-evaluation record for plots and time-to-satisfy (N evaluations, B seeds, K constraints).

    time_s:    [N] seconds since the start when the evaluation finished.
    loss:      [N, B] program loss per seed.
    margins:   [N, B, K] margins, each in its constraint's unit.
    satisfied: [N] number of seeds satisfying every hard constraint.
    """

    time_s: Tensor
    loss: Tensor
    margins: Tensor
    satisfied: Tensor


@dataclass(frozen=True)
class Solution:
    """What the optimizer found, per seed (all tensors detached, on the model's device).

    z:        [B, *latent] the optimised initial noise.
    yaw:      [B] rotation about +Y of the placement, radians (zeros unless relaxed).
    xz:       [B, 2] ground translation of the placement, metres (zeros unless relaxed).
    features: [B, T, D] normalised features decoded from z.
    joints:   [B, T, 22, 3] global joint positions (placed), metres, Y up, 20 fps.
    margins:  [B, K] margins of ``joints``.
    loss:     [B] program loss of ``joints``.
    steps:    [B] int, DDIM steps each seed's ``features`` were decoded with.
    iterations: Adam updates made.
    error:    why the run stopped early on a non-finite value, or None.
    """

    z: Tensor
    yaw: Tensor
    xz: Tensor
    features: Tensor
    joints: Tensor
    margins: Tensor
    loss: Tensor
    steps: Tensor
    iterations: int
    history: History
    error: str | None = None


def hard_mask(program: Any, device: torch.device | None = None) -> Tensor:
    """[K] bool: which constraints must hold (hard constraints, not objectives)."""
    return torch.tensor(
        [c.hard and c.kind == "constraint" for c in program.constraints], dtype=torch.bool, device=device
    )


def violations(margins: Tensor, hard: Tensor) -> tuple[Tensor, Tensor]:
    """Violated hard constraints per seed: (count [B] int, total violation [B]).

    margins: [B, K]; hard: [K] bool. The total is the sum of ``-margin`` over violated hard
    constraints, in their units (metres for most).
    """
    deficit = torch.relu(-margins) * hard
    return (deficit > 0).sum(-1), deficit.sum(-1)


def is_better(count: Tensor, total: Tensor, best_count: Tensor, best_total: Tensor,
              loss: Tensor | None = None, best_loss: Tensor | None = None) -> Tensor:
    """[B] bool: (count, total[, loss]) is lexicographically smaller than the best so far."""
    better = (count < best_count) | ((count == best_count) & (total < best_total))
    if loss is None:
        return better
    return better | ((count == best_count) & (total == best_total) & (loss < best_loss))


def finished(margins: Tensor, program: Any) -> Tensor:
    """[B] bool: nothing left to improve for a seed: every constraint (hard and soft) holds and
    the program has no objectives (which could always be pushed further). margins: [B, K]."""
    kinds = [c.kind for c in program.constraints]
    if "objective" in kinds:
        return torch.zeros(margins.shape[0], dtype=torch.bool, device=margins.device)
    return (margins >= 0).all(-1)


def learning_rate(iteration: int, recipe: Recipe) -> float:
    """Learning rate of update ``iteration`` (0-based): linear warm-up, then cosine decay."""
    if iteration < recipe.warmup:
        return recipe.lr * (iteration + 1) / recipe.warmup
    span = max(recipe.iterations - recipe.warmup, 1)
    progress = min((iteration - recipe.warmup) / span, 1.0)
    return recipe.lr_final + 0.5 * (recipe.lr - recipe.lr_final) * (1 + math.cos(math.pi * progress))


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


ACCELERATION_LIMIT = 50.0
"""m/s^2: joint accelerations above this are penalised by :func:`naturalness_penalty` (the
prior's own samples stay below it; jerks the search finds to satisfy a program do not)."""


def naturalness_penalty(joints: Tensor, fps: float) -> Tensor:
    """[B] cost, in metres of constraint violation, of joints [B, T, 22, 3] (metres, Y up) that
    leave what the prior generates: per frame, the largest joint acceleration beyond
    ``ACCELERATION_LIMIT`` (in units of 100 m/s^2) plus the depth of the lowest joint below the
    floor (metres), summed over frames."""
    jerk = torch.relu(safe_norm(acceleration(joints, fps=fps)).amax(-1) - ACCELERATION_LIMIT) / 100.0
    depth = torch.relu(-joints[..., 1].amin(-1))
    return (jerk + depth).sum(-1)


def normalize_per_seed(grad: Tensor, eps: float = 1e-12) -> Tensor:
    """grad [B, ...] divided by its root-mean-square per seed (zero gradients stay zero)."""
    rms = grad.flatten(1).pow(2).mean(1).sqrt().clamp_min(eps)
    return grad / rms.view(-1, *([1] * (grad.dim() - 1)))


def check_length(program: Any, model: Any) -> None:
    """Refuse a program longer than the model can generate, naming the limit."""
    if program.frames > model.max_frames:
        raise InputError(
            f"the program asks for {program.frames} frames ({program.frames / model.fps:g} s) but model "
            f"'{model.name}' generates at most {model.max_frames} frames ({model.max_frames / model.fps:g} s)"
        )


def body_joints(model: Any, features: Tensor, rigid: bool) -> Tensor:
    """Normalised features [B, T, D] -> joints [B, T, 22, 3] (metres, Y up, unplaced).

    With ``rigid`` the model's joints go through
    :func:`motionprog.body.kinematics.project_keeping_contacts` (same bone directions, rest bone
    lengths, floor contacts kept): constraints are measured on, and the output is, a body whose
    bones keep their length. Differentiable.
    """
    joints = model.to_joints(features)
    return project_keeping_contacts(joints) if rigid else joints


def decode_joints(
    model: Any, z: Tensor, text: str, steps: int, guidance: float | None, use_checkpoint: bool, rigid: bool
) -> tuple[Tensor, Tensor]:
    """z [B, *latent] -> (normalised features [B, T, D], joints [B, T, 22, 3] metres, unplaced).

    ``rigid``: see :func:`body_joints`. With ``use_checkpoint`` the decode keeps no activations
    for the backward pass and is run again during it (torch.utils.checkpoint), trading time
    for memory.
    """

    def run(noise: Tensor) -> tuple[Tensor, Tensor]:
        features = model.decode(noise, text, steps, guidance=guidance)
        return features, body_joints(model, features, rigid)

    if use_checkpoint and torch.is_grad_enabled():
        return checkpoint(run, z, use_reentrant=False)
    return run(z)


def place_joints(program: Any, joints: Tensor, yaw: Tensor, xz: Tensor) -> Tensor:
    """Apply the rigid placement (yaw [B] rad about +Y, xz [B, 2] m) when the program is relaxed."""
    return place(joints, yaw, xz) if program.relaxed else joints


def nonfinite_message(program: Any, margins: Tensor, iteration: int) -> str | None:
    """Name the first constraint whose margin is NaN or infinite, or None when all are finite."""
    bad = ~torch.isfinite(margins).all(0)
    if not bad.any():
        return None
    info = program.constraints[int(bad.nonzero()[0, 0])]
    return f"the margin of constraint '{info.name}' ({info.source}) became non-finite at iteration {iteration}"


def optimize_latent(
    program: Any, model: Any, recipe: Recipe, callback: Callback | None = None
) -> Solution:
    """Optimise the initial noise of ``len(recipe.seeds)`` seeds so that the program holds.

    program: a compiled Program (``margins``/``loss`` over joints [B, T, 22, 3]).
    model:   a MotionModel; its device and dtype are used throughout.
    Returns a :class:`Solution` (best iterate per seed when ``recipe.keep_best``). A margin or
    gradient that becomes NaN/inf ends the run at the last finite iterate, with
    ``Solution.error`` naming the constraint; if even the first evaluation is non-finite the
    run raises InputError.
    """
    check_length(program, model)
    start = time.perf_counter()
    hard = hard_mask(program, model.device)
    z = model.latents(list(recipe.seeds), program.frames).to(model.device).requires_grad_(True)
    batch = z.shape[0]
    yaw = torch.zeros(batch, device=model.device, dtype=z.dtype, requires_grad=program.relaxed)
    xz = torch.zeros(batch, 2, device=model.device, dtype=z.dtype, requires_grad=program.relaxed)
    groups = [{"params": [z], "lr": recipe.lr}]
    if program.relaxed:
        groups.append({"params": [yaw, xz], "lr": recipe.placement_lr})
    optimizer = torch.optim.Adam(groups)
    scale = [group["lr"] / recipe.lr for group in groups]

    best: dict[str, Tensor] = {}
    record: dict[str, list[Tensor]] = {"time_s": [], "loss": [], "margins": [], "satisfied": []}
    error = None
    updates = 0
    for iteration in range(recipe.iterations + 1):
        features, joints = decode_joints(
            model, z, program.text, recipe.steps, recipe.guidance, recipe.checkpoint, recipe.rigid
        )
        joints = place_joints(program, joints, yaw, xz)
        with torch.no_grad():
            margins = program.margins(joints)
        loss = program.loss(joints)
        error = nonfinite_message(program, margins, iteration) or (
            None if torch.isfinite(loss).all() else f"the loss became non-finite at iteration {iteration}"
        )
        if error is not None:
            break
        count, total = violations(margins, hard)
        satisfied = count == 0
        record["time_s"].append(torch.tensor(time.perf_counter() - start))
        record["loss"].append(loss.detach())
        record["margins"].append(margins)
        record["satisfied"].append(satisfied.sum())
        current = {
            "z": z.detach(), "yaw": yaw.detach(), "xz": xz.detach(), "features": features.detach(),
            "joints": joints.detach(), "margins": margins, "loss": loss.detach(),
            "count": count, "total": total,
        }
        if not best or not recipe.keep_best:
            best = {key: value.clone() for key, value in current.items()}
        else:
            take = is_better(count, total, best["count"], best["total"], loss.detach(), best["loss"])
            best = {key: torch.where(take.view(-1, *[1] * (value.dim() - 1)), value, best[key])
                    for key, value in current.items()}
        if callback is not None:
            callback(iteration, float(loss.detach().mean()), int(satisfied.sum()))
        if iteration == recipe.iterations or (recipe.early_stop and bool(finished(margins, program).any())):
            break
        objective = (loss.sum() + recipe.noise_weight * noise_penalty(z).sum()
                     + recipe.natural_weight * naturalness_penalty(joints, model.fps).sum())
        params = [z, yaw, xz] if program.relaxed else [z]
        grads = torch.autograd.grad(objective, params)
        if not all(torch.isfinite(g).all() for g in grads):
            error = f"the gradient became non-finite at iteration {iteration}"
            break
        for param, grad in zip(params, grads):
            param.grad = grad
        if recipe.normalize:
            z.grad = normalize_per_seed(z.grad)
        rate = learning_rate(iteration, recipe)
        for group, factor in zip(optimizer.param_groups, scale):
            group["lr"] = rate * factor
        optimizer.step()
        updates += 1
    if not best:
        raise InputError(f"{error}; the program cannot be evaluated on this model's motions")
    history = History(**{key: torch.stack(values) for key, values in record.items()})
    return Solution(
        z=best["z"], yaw=best["yaw"], xz=best["xz"], features=best["features"], joints=best["joints"],
        margins=best["margins"], loss=best["loss"], steps=torch.full((batch,), recipe.steps, device=z.device), iterations=updates,
        history=history, error=error,
    )


def redecode(program: Any, model: Any, solution: Solution, steps: int, guidance: float | None,
             rigid: bool = True) -> Solution:
    """Decode ``solution.z`` again with ``steps`` DDIM steps (no gradients) and keep, per seed,
    whichever of the two decodes violates fewer hard constraints (then less in total)."""
    hard = hard_mask(program, model.device)
    with torch.no_grad():
        features, joints = decode_joints(model, solution.z, program.text, steps, guidance, False, rigid)
        joints = place_joints(program, joints, solution.yaw, solution.xz)
        margins = program.margins(joints)
        loss = program.loss(joints)
    if not torch.isfinite(margins).all():
        return solution
    take = is_better(*violations(margins, hard), *violations(solution.margins, hard))

    def pick(new: Tensor, old: Tensor) -> Tensor:
        return torch.where(take.view(-1, *[1] * (new.dim() - 1)), new, old)

    return Solution(
        z=solution.z, yaw=solution.yaw, xz=solution.xz, features=pick(features, solution.features),
        joints=pick(joints, solution.joints), margins=pick(margins, solution.margins),
        loss=pick(loss, solution.loss), steps=torch.where(take, steps, solution.steps),
        iterations=solution.iterations, history=solution.history, error=solution.error,
    )


def fast_recipe(config: Any, seeds: int) -> Recipe:
    """The fast (DNO-style) recipe of an OptimizeConfig for ``seeds`` seeds starting at ``config.seed``."""
    return Recipe(
        seeds=tuple(range(config.seed, config.seed + seeds)), steps=config.steps, iterations=config.iterations,
        lr=config.lr, lr_final=config.lr_final, warmup=config.warmup, normalize=True,
        noise_weight=config.noise_weight, early_stop=True, keep_best=True, placement_lr=config.placement_lr,
        checkpoint=config.checkpoint, guidance=config.guidance, rigid=config.rigid,
        natural_weight=config.natural_weight,
    )
