"""Distilling the bundled prior into a one-step student (issue: seconds, not tens of seconds).

The teacher (``BundledModel``) maps start noise z to a clean motion with K = 6 DDIM steps and
classifier-free guidance (two network passes per step: 12 evaluations). That map is
deterministic (DDIM, eta 0), so it can be learned directly (Luhman & Luhman 2021, "knowledge
distillation" of a deterministic sampler): the student, a ``Denoiser`` of the same shape
initialised from the teacher, is evaluated once at the teacher's noisiest respaced timestep on
the conditional branch and trained to reproduce the teacher's guided K-step output. Guidance
is folded in (the student is distilled at the teacher's default scale), so one pass replaces
twelve. The latent stays the DDIM start noise: the teacher can decode the student's optimised
noise again.

Pipeline (``distill``), resumable at every stage from ``DIR``:
1. ``pairs.pt``: (noise, prompt, teacher output) triples at several lengths, generated in
   chunks with gradients off (the expensive part is done once, then reused for every epoch);
2. ``checkpoint.pt``: student, EMA, optimizer, step and RNG every ``checkpoint_every`` steps;
3. ``student.safetensors`` (and ``export``): the EMA student in float16, with the teacher's
   steps, guidance and timestep in its metadata; ``log.jsonl``: losses per checkpoint.

Loss: MSE of the normalised features plus ``joint_weight`` x MSE of the decoded global joints
(m^2), since constraints are measured on joints.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path
from motionprog.models.bundled import BundledModel, Denoiser, save_weights, student_forward
from motionprog.models.training import append_log, learning_rate, optimizer_step

EVERYDAY_PROMPTS = (
    "a person stands still", "a person walks in a circle", "a person jumps in place",
    "a person sits down on a chair", "a person squats down and stands up", "a person waves with the right hand",
    "a person picks something up from the floor", "a person kicks with the left leg", "a person runs forward",
    "a person walks backwards", "a person turns around", "a person crouches and walks forward",
    "a person steps to the side", "a person dances", "a person climbs stairs", "a person stretches the arms",
    "a person throws a ball", "a person punches forward", "a person lies down", "a person hops on one leg",
)
"""Prompts beyond the training labels, so the student follows the teacher on unseen text too."""


@dataclass(frozen=True)
class DistillConfig:
    """Everything that shapes a distillation run (stored in the checkpoint).

    pairs:          teacher samples generated (in chunks of ``pair_batch``, cycling ``lengths``).
    heldout_chunks: the last chunks, kept out of training for the held-out loss.
    steps, frames_per_batch, lr, warmup, ema_decay: the student's optimisation (AdamW,
                    linear warm-up then cosine decay to 10 %).
    joint_weight:   weight of the joint-position term (m^2) against the feature term.
    """

    pairs: int = 6144
    pair_batch: int = 32
    lengths: tuple[int, ...] = (40, 64, 88, 120, 152, 196)
    heldout_chunks: int = 6
    steps: int = 2000
    frames_per_batch: int = 4096
    lr: float = 2e-4
    warmup: int = 100
    ema_decay: float = 0.995
    joint_weight: float = 4.0
    checkpoint_every: int = 250
    seed: int = 0

    @property
    def chunks(self) -> int:
        return math.ceil(self.pairs / self.pair_batch)

    @property
    def held_chunks(self) -> list[int]:
        """The held-out chunks: the last ``heldout_chunks``, at most a quarter of all."""
        held = min(self.heldout_chunks, self.chunks // 4)
        return list(range(self.chunks - held, self.chunks))


@dataclass
class Pairs:
    """Teacher samples: per chunk, noise z [B, T, D], prompt indices [B] and teacher output [B, T, D]."""

    prompts: list[str]
    z: list[torch.Tensor]
    prompt_index: list[torch.Tensor]
    target: list[torch.Tensor]

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            torch.save(asdict(self), tmp)

    @classmethod
    def load(cls, path: Path) -> Pairs:
        return cls(**torch.load(path, weights_only=True))


def distillation_prompts(teacher_labels: Sequence[str], extra: Sequence[str] = EVERYDAY_PROMPTS) -> list[str]:
    """The prompts the student learns: the teacher's training labels plus everyday requests."""
    return sorted(set(teacher_labels) | set(extra))


def teacher_chunk(teacher: BundledModel, prompts: Sequence[str], chunk: int, config: DistillConfig
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Chunk ``chunk`` of teacher samples: (z [B, T, D], prompt indices [B], teacher output [B, T, D]).

    Deterministic per (config.seed, chunk): the noise and prompts come from a generator seeded
    with both, so an interrupted generation resumes with the same samples.
    """
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + chunk)
    frames = config.lengths[chunk % len(config.lengths)]
    z = torch.randn(config.pair_batch, frames, teacher.config.feature_dim, generator=generator)
    index = torch.randint(0, len(prompts), (config.pair_batch,), generator=generator)
    with torch.no_grad():
        target = teacher.decode(z.to(teacher.device), [prompts[i] for i in index.tolist()])
    return z, index, target.cpu()


ProgressCallback = Callable[[str, int, int, dict[str, float]], None]
"""``callback(stage, done, total, metrics)``: stage is "teacher" or "student"."""


def generate_pairs(teacher: BundledModel, prompts: Sequence[str], path: Path, config: DistillConfig,
                   callback: ProgressCallback | None = None, save_every: int = 16) -> Pairs:
    """Generate (or finish generating) every chunk of teacher samples into ``path``."""
    pairs = Pairs.load(path) if path.is_file() else Pairs(list(prompts), [], [], [])
    if pairs.prompts != list(prompts):
        raise InputError(f"{path}: generated for other prompts; remove it to start again")
    for chunk in range(len(pairs.z), config.chunks):
        z, index, target = teacher_chunk(teacher, prompts, chunk, config)
        pairs.z.append(z)
        pairs.prompt_index.append(index)
        pairs.target.append(target)
        if (chunk + 1) % save_every == 0 or chunk + 1 == config.chunks:
            pairs.save(path)
        if callback is not None:
            callback("teacher", chunk + 1, config.chunks, {})
    return pairs


def student_timestep(teacher: BundledModel) -> int:
    """The diffusion timestep the student is evaluated at: the teacher's noisiest respaced step."""
    from motionprog.sampling.schedule import cosine_schedule, respace

    return int(respace(cosine_schedule(), teacher.default_steps).timesteps[-1])


def distill_loss(student: Denoiser, teacher: BundledModel, z: torch.Tensor, text: torch.Tensor,
                 target: torch.Tensor, timestep: int, joint_weight: float) -> dict[str, torch.Tensor]:
    """Loss terms of one batch (module doc): ``features``, ``joints`` and ``total``."""
    pred = student_forward(student, z, text, timestep)
    terms = {
        "features": (pred - target).square().mean(),
        "joints": (teacher.to_joints(pred) - teacher.to_joints(target)).square().sum(-1).mean(),
    }
    terms["total"] = terms["features"] + joint_weight * terms["joints"]
    return terms


def sample_batch(pairs: Pairs, chunks: Sequence[int], frames_per_batch: int, generator: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A training batch from one random chunk length: (z, prompt indices, target)."""
    chunk = chunks[int(torch.randint(0, len(chunks), (1,), generator=generator))]
    frames = pairs.z[chunk].shape[1]
    same = [c for c in chunks if pairs.z[c].shape[1] == frames]
    z = torch.cat([pairs.z[c] for c in same])
    index = torch.cat([pairs.prompt_index[c] for c in same])
    target = torch.cat([pairs.target[c] for c in same])
    rows = torch.randint(0, z.shape[0], (max(4, frames_per_batch // frames),), generator=generator)
    return z[rows], index[rows], target[rows]


@torch.no_grad()
def heldout_loss(student: Denoiser, teacher: BundledModel, pairs: Pairs, text: torch.Tensor,
                 chunks: Sequence[int], timestep: int, config: DistillConfig) -> dict[str, float]:
    """Mean loss terms over the held-out chunks."""
    totals: dict[str, float] = {}
    for chunk in chunks:
        terms = distill_loss(student, teacher, pairs.z[chunk], text[pairs.prompt_index[chunk]],
                             pairs.target[chunk], timestep, config.joint_weight)
        for key, value in terms.items():
            totals[key] = totals.get(key, 0.0) + float(value) / len(chunks)
    return totals


def distill(teacher: BundledModel, teacher_labels: Sequence[str], out_dir: str | Path, config: DistillConfig, *,
            resume: bool = False, export: str | Path | None = None, callback: ProgressCallback | None = None,
            stop_after: int | None = None) -> Denoiser:
    """Distil ``teacher`` into a one-step student (module doc); returns the EMA student.

    ``resume`` continues from ``out_dir``'s pairs and checkpoint; ``stop_after`` ends the
    student's training at that step (with a checkpoint), so a run can be made in pieces.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not resume and (out_dir / "checkpoint.pt").exists():
        raise InputError(f"{out_dir}: holds a distillation run already; pass --resume to continue it")
    prompts = distillation_prompts(teacher_labels)
    pairs = generate_pairs(teacher, prompts, out_dir / "pairs.pt", config, callback)
    text = teacher.embed(prompts, len(prompts)).cpu()
    timestep = student_timestep(teacher)
    state = _initial_state(teacher, out_dir / "checkpoint.pt", config, resume)
    student, ema, optimizer, generator = state["student"], state["ema"], state["optimizer"], state["generator"]
    held_chunks = config.held_chunks
    train_chunks = [chunk for chunk in range(config.chunks) if chunk not in held_chunks]
    step, last = state["step"], config.steps if stop_after is None else min(stop_after, config.steps)
    started, running = time.monotonic(), {}
    while step < last:
        z, index, target = sample_batch(pairs, train_chunks, config.frames_per_batch, generator)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        terms = distill_loss(student, teacher, z, text[index], target, timestep, config.joint_weight)
        optimizer_step(student, ema, optimizer, terms["total"], config.ema_decay)
        step += 1
        running = {k: 0.95 * running.get(k, v.item()) + 0.05 * v.item() for k, v in terms.items()}
        if callback is not None:
            callback("student", step, config.steps, running)
        if step % config.checkpoint_every == 0 or step == last:
            record = {"step": step, "seconds": round(time.monotonic() - started, 1), "train": running,
                      "heldout": heldout_loss(ema, teacher, pairs, text, held_chunks, timestep, config)}
            _save_checkpoint(out_dir, student, ema, optimizer, generator, step, config)
            info = {"kind": "student", "teacher_steps": str(teacher.default_steps),
                    "teacher_guidance": str(teacher.default_guidance), "timestep": str(timestep),
                    "step": str(step), "heldout_loss": json.dumps(record["heldout"])}
            for path in [out_dir / "student.safetensors", *([export] if export is not None else [])]:
                save_weights(path, ema, teacher.mean, teacher.std, info, dtype=torch.float16)
            append_log(out_dir / "log.jsonl", record)
    return ema.eval()


def _initial_state(teacher: BundledModel, checkpoint: Path, config: DistillConfig, resume: bool) -> dict:
    """Student (initialised from the teacher), EMA, optimizer, RNG and step; from the checkpoint on resume."""
    student = copy.deepcopy(teacher.denoiser).cpu().train().requires_grad_(True)
    ema = copy.deepcopy(student).requires_grad_(False)
    optimizer = torch.optim.AdamW(student.parameters(), lr=config.lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(config.seed)
    step = 0
    if resume and checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=True)
        student.load_state_dict(saved["student"])
        ema.load_state_dict(saved["ema"])
        optimizer.load_state_dict(saved["optimizer"])
        generator.set_state(saved["generator"])
        step = int(saved["step"])
    return {"student": student, "ema": ema, "optimizer": optimizer, "generator": generator, "step": step}


def _save_checkpoint(out_dir: Path, student: Denoiser, ema: Denoiser, optimizer: torch.optim.Optimizer,
                     generator: torch.Generator, step: int, config: DistillConfig) -> None:
    state = {"student": student.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
             "generator": generator.get_state(), "step": torch.tensor(step),
             "config": json.dumps(asdict(config))}
    with atomic_path(out_dir / "checkpoint.pt") as tmp:
        torch.save(state, tmp)
