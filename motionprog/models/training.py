"""Training the bundled denoiser: dataset windows, losses, the loop, checkpoints and export.

Data: motions (joints [T, 22, 3], metres, Y up, 20 fps, with a text label) are encoded once
to the 67 compact features (``bundled.FEATURE_DIM``), normalised with the training set's own
mean/std, and cut into random windows of ``min_frames`` .. ``max_frames`` frames (one window
length per batch; the batch shrinks as windows grow so every step sees about the same number
of frames). Every label is embedded once with the sentence encoder.

Loss (all terms averaged over the batch):
- ``x0``:   MSE of the predicted clean features, normalised units (the diffusion loss);
- ``pos``:  MSE of the decoded global joint positions (m^2), as MDM's geometric loss;
- ``vel``:  MSE of the decoded joint velocities (m^2 per frame^2);
- ``foot``: mean squared horizontal velocity of the predicted feet on frames where the
  training motion's foot is planted (slower than ``CONTACT_SPEED`` and lower than
  ``CONTACT_HEIGHT``): the term that keeps samples from sliding.
- ``bone``: MSE of the decoded bone lengths against the training motion's (m^2): the 67
  features do not fix bone lengths, so without it limbs stretch and shrink.

A checkpoint (``DIR/checkpoint.pt``: weights, EMA weights, optimizer, step, RNG) is written
every ``checkpoint_every`` steps; training resumes from it. The EMA weights are exported to
``DIR/bundled.safetensors`` (and to ``export`` when given) at each checkpoint.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from motionprog.body.features import features_to_joints, joints_to_features
from motionprog.body.skeleton import FOOT_JOINTS, FPS, PARENTS
from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path
from motionprog.motion import Motion
from motionprog.models.bundled import FEATURE_DIM, Denoiser, DenoiserConfig, save_weights
from motionprog.models.text_encoder import embed_texts
from motionprog.sampling.schedule import cosine_schedule

CONTACT_SPEED = 0.3
"""A training foot slower than this (m/s, horizontal) and ..."""
CONTACT_HEIGHT = 0.08
"""... lower than this (m) counts as planted for the foot loss."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that shapes a training run besides the data (stored in the checkpoint)."""

    steps: int = 20000
    frames_per_batch: int = 4096
    min_frames: int = 16
    max_frames: int = 196
    lr: float = 1e-3
    warmup: int = 500
    weight_decay: float = 0.01
    ema_decay: float = 0.999
    pos_weight: float = 1.0
    vel_weight: float = 400.0
    foot_weight: float = 1000.0
    bone_weight: float = 400.0
    checkpoint_every: int = 500
    holdout_every: int = 10
    seed: int = 0
    model: DenoiserConfig = field(default_factory=DenoiserConfig)


@dataclass(frozen=True)
class TrainingSet:
    """Windows of encoded motions, ready to sample.

    features: float32 [N, T_max, D] normalised features (zero past each length).
    lengths:  int64 [N] valid frames of each motion.
    text:     float32 [N, 384] sentence embedding of each motion's label.
    labels:   the label strings, [N].
    mean, std: float32 [D] normalisation stats (of the training motions).
    """

    features: torch.Tensor
    lengths: torch.Tensor
    text: torch.Tensor
    labels: tuple[str, ...]
    mean: torch.Tensor
    std: torch.Tensor

    @property
    def minutes(self) -> float:
        return float(self.lengths.sum()) / FPS / 60.0

    def to(self, device: torch.device) -> TrainingSet:
        return TrainingSet(self.features.to(device), self.lengths.to(device), self.text.to(device),
                           self.labels, self.mean.to(device), self.std.to(device))


def compact_features(joints: torch.Tensor) -> torch.Tensor:
    """The 67 features the bundled model predicts, from joints [..., T, 22, 3] -> [..., T, 67]."""
    return joints_to_features(joints)[..., :FEATURE_DIM]


def build_training_set(joints: Sequence[np.ndarray], labels: Sequence[str],
                       stats: tuple[torch.Tensor, torch.Tensor] | None = None,
                       min_std: float = 1e-3) -> TrainingSet:
    """Encode motions (each joints [T_i, 22, 3]) with their labels into a :class:`TrainingSet`.

    ``stats`` (mean, std) are computed from these motions when not given.
    """
    encoded = [compact_features(torch.as_tensor(np.asarray(j), dtype=torch.float32)) for j in joints]
    lengths = torch.tensor([f.shape[0] for f in encoded], dtype=torch.int64)
    if stats is None:
        frames = torch.cat(encoded)
        stats = frames.mean(0), frames.std(0).clamp_min(min_std)
    mean, std = stats
    padded = torch.nn.utils.rnn.pad_sequence([(f - mean) / std for f in encoded], batch_first=True)
    unique = sorted(set(labels))
    embeddings = embed_texts(unique)
    index = torch.tensor([unique.index(label) for label in labels])
    return TrainingSet(padded, lengths, embeddings[index], tuple(labels), mean, std)


def split_training_sets(motions: Sequence[Motion], holdout_every: int, mirror: bool
                        ) -> tuple[TrainingSet, TrainingSet | None]:
    """(training set, held-out set or None) of labelled motions: every ``holdout_every``-th motion
    (0: none) is held out; with ``mirror`` the training motions get their left-right mirror
    images (words left/right swapped). The held-out set uses the training set's statistics."""
    from motionprog.io.datasets import mirror as mirror_motion

    held = [m for i, m in enumerate(motions) if holdout_every and i % holdout_every == holdout_every - 1]
    kept = [m for m in motions if all(m is not h for h in held)]
    if mirror:
        kept = kept + [mirror_motion(m) for m in kept]
    training = build_training_set([m.joints for m in kept], [m.text for m in kept])
    heldout = build_training_set([m.joints for m in held], [m.text for m in held],
                                 stats=(training.mean, training.std)) if held else None
    return training, heldout


def sample_windows(data: TrainingSet, batch: int, frames: int, generator: torch.Generator
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of random windows: (features [B, frames, D] normalised, text [B, 384]).

    Motions are drawn with probability proportional to their number of possible windows;
    only motions at least ``frames`` long qualify.
    """
    choices = (data.lengths - frames + 1).clamp_min(0).float()
    if choices.sum() == 0:
        raise InputError(f"no training motion is {frames} frames long")
    idx = torch.multinomial(choices.cpu(), batch, replacement=True, generator=generator).to(data.lengths.device)
    start = (torch.rand(batch, generator=generator).to(choices.device) * choices[idx]).long()
    rows = start[:, None] + torch.arange(frames, device=start.device)[None]
    return data.features[idx[:, None], rows], data.text[idx]


def decoded_joints(features: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Global joints [B, T, 22, 3] (m) of normalised compact features [B, T, 67]."""
    return features_to_joints(features * std + mean)


def losses(model: Denoiser, x0: torch.Tensor, text: torch.Tensor, data: TrainingSet,
           alphas_cumprod: torch.Tensor, config: TrainConfig, generator: torch.Generator
           ) -> dict[str, torch.Tensor]:
    """The loss terms (module doc) of one batch of clean windows x0 [B, T, D]; ``total`` included."""
    batch = x0.shape[0]
    t = torch.randint(0, alphas_cumprod.shape[0], (batch,), generator=generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    alpha_bar = alphas_cumprod.to(x0.device, x0.dtype)[t][:, None, None]
    x_t = alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
    keep = (torch.rand(batch, generator=generator) >= config.model.cond_drop).to(x0.device)
    pred = model(x_t, t, text, keep)
    target_joints = decoded_joints(x0, data.mean, data.std)
    pred_joints = decoded_joints(pred, data.mean, data.std)
    target_vel = target_joints.diff(dim=1)
    pred_vel = pred_joints.diff(dim=1)
    feet = list(FOOT_JOINTS)
    foot_speed = target_vel[:, :, feet][..., [0, 2]].norm(dim=-1) * FPS
    planted = (foot_speed < CONTACT_SPEED) & (target_joints[:, 1:, feet, 1] < CONTACT_HEIGHT)
    foot = (pred_vel[:, :, feet][..., [0, 2]].square().sum(-1) * planted).sum() / planted.sum().clamp_min(1)
    parents = list(PARENTS[1:])
    bone = (pred_joints[..., 1:, :] - pred_joints[..., parents, :]).norm(dim=-1)
    target_bone = (target_joints[..., 1:, :] - target_joints[..., parents, :]).norm(dim=-1)
    terms = {
        "x0": (pred - x0).square().mean(),
        "pos": (pred_joints - target_joints).square().sum(-1).mean(),
        "vel": (pred_vel - target_vel).square().sum(-1).mean(),
        "foot": foot,
        "bone": (bone - target_bone).square().mean(),
    }
    terms["total"] = (terms["x0"] + config.pos_weight * terms["pos"] + config.vel_weight * terms["vel"]
                      + config.foot_weight * terms["foot"] + config.bone_weight * terms["bone"])
    return terms


def window_frames(config: TrainConfig, longest: int, generator: torch.Generator) -> int:
    """The window length of a step: a multiple of 4, uniform in [min_frames, max_frames],
    never longer than the ``longest`` training motion."""
    high = min(config.max_frames, longest) // 4
    low = min(config.min_frames // 4, high)
    return 4 * int(torch.randint(low, high + 1, (1,), generator=generator))


class Schedule(Protocol):
    """What a learning-rate schedule reads from a training or distillation config."""

    lr: float
    warmup: int
    steps: int


def learning_rate(step: int, config: Schedule) -> float:
    """Linear warm-up, then cosine decay to 10% at ``config.steps``."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, config.steps - config.warmup))
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def evaluate(model: Denoiser, data: TrainingSet, config: TrainConfig, frames: int = 60,
             batches: int = 8, seed: int = 1234) -> dict[str, float]:
    """Mean loss terms on fixed random windows and timesteps of ``data`` (deterministic for a seed)."""
    generator = torch.Generator().manual_seed(seed)
    frames = min(frames, int(data.lengths.max()))
    alphas_cumprod = cosine_schedule().alphas_cumprod.float()
    totals: dict[str, float] = {}
    for _ in range(batches):
        x0, text = sample_windows(data, 32, frames, generator)
        terms = losses(model, x0, text, data, alphas_cumprod, config, generator)
        for key, value in terms.items():
            totals[key] = totals.get(key, 0.0) + float(value) / batches
    return totals


ProgressCallback = Callable[[int, int, dict[str, float]], None]
"""``callback(step, total_steps, metrics)`` after every step (metrics: the loss terms)."""


def optimizer_step(model: Denoiser, ema: Denoiser, optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                   ema_decay: float) -> None:
    """One update: backward of ``loss``, gradients clipped to norm 1, the optimizer's step, and
    the EMA copy moved ``1 - ema_decay`` of the way to the new weights."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    with torch.no_grad():
        for p_ema, p in zip(ema.parameters(), model.parameters()):
            p_ema.lerp_(p, 1 - ema_decay)


def train(data: TrainingSet, out_dir: str | Path, config: TrainConfig, *, resume: bool = False,
          device: str | torch.device = "cpu", export: str | Path | None = None,
          heldout: TrainingSet | None = None, callback: ProgressCallback | None = None,
          stop_after: int | None = None) -> Denoiser:
    """Train (or resume) the bundled denoiser on ``data``; returns the EMA model (eval mode).

    ``stop_after`` ends the run early at that step (with a checkpoint), so a long schedule
    can be trained in pieces and resumed.

    Writes ``out_dir/checkpoint.pt``, ``out_dir/bundled.safetensors`` (EMA weights and stats)
    and ``out_dir/log.jsonl`` (one line per checkpoint: step, losses, held-out losses, time).
    """
    out_dir = Path(out_dir)
    device = torch.device(device)
    checkpoint_path = out_dir / "checkpoint.pt"
    torch.manual_seed(config.seed)
    model = Denoiser(config.model).to(device)
    ema = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    step = 0
    if resume:
        if not checkpoint_path.is_file():
            raise InputError(f"{checkpoint_path}: no checkpoint to resume from")
        state = torch.load(checkpoint_path, map_location=device, weights_only=True)
        try:
            model.load_state_dict(state["model"])
            ema.load_state_dict(state["ema"])
        except RuntimeError as exc:
            raise InputError(f"{checkpoint_path}: the checkpoint's architecture differs from the requested one") from exc
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        step = int(state["step"])
    data = data.to(device)
    alphas_cumprod = cosine_schedule().alphas_cumprod.float()
    model.train()
    started = time.monotonic()
    running: dict[str, float] = {}
    last = config.steps if stop_after is None else min(stop_after, config.steps)
    while step < last:
        frames = window_frames(config, int(data.lengths.max()), generator)
        batch = max(4, config.frames_per_batch // frames)
        x0, text = sample_windows(data, batch, frames, generator)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, config)
        terms = losses(model, x0, text, data, alphas_cumprod, config, generator)
        optimizer_step(model, ema, optimizer, terms["total"], config.ema_decay)
        step += 1
        metrics = {key: float(value.detach()) for key, value in terms.items()}
        running = {k: 0.98 * running.get(k, v) + 0.02 * v for k, v in metrics.items()}
        if callback is not None:
            callback(step, config.steps, metrics)
        if step % config.checkpoint_every == 0 or step == last:
            _save_checkpoint(out_dir, model, ema, optimizer, generator, step, config, data, export,
                             heldout, running, time.monotonic() - started)
    ema.eval()
    return ema


def _save_checkpoint(out_dir: Path, model: Denoiser, ema: Denoiser, optimizer: torch.optim.Optimizer,
                     generator: torch.Generator, step: int, config: TrainConfig, data: TrainingSet,
                     export: str | Path | None, heldout: TrainingSet | None, running: dict[str, float],
                     seconds: float) -> None:
    """Write the checkpoint, the exported EMA weights and one log line (all atomic)."""
    state = {
        "model": model.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
        "generator": generator.get_state(), "step": torch.tensor(step),
        "mean": data.mean.cpu(), "std": data.std.cpu(),
        "model_config": config.model.to_json(),
        "train_config": json.dumps({k: v for k, v in asdict(config).items() if k != "model"}),
    }
    with atomic_path(out_dir / "checkpoint.pt") as tmp:
        torch.save(state, tmp)
    info = {"step": str(step), "minutes_of_motion": f"{data.minutes:.2f}", "labels": json.dumps(sorted(set(data.labels)))}
    record = {"step": step, "seconds": round(seconds, 1), "train": running}
    if heldout is not None:
        ema.eval()
        record["heldout"] = evaluate(ema, heldout.to(data.mean.device), config)
        info["heldout_loss"] = json.dumps(record["heldout"])
    for path in [out_dir / "bundled.safetensors", *([export] if export is not None else [])]:
        save_weights(path, ema, data.mean, data.std, info)
    append_log(out_dir / "log.jsonl", record)


def append_log(path: Path, record: dict) -> None:
    """Add ``record`` as one JSON line to ``path`` (rewritten atomically, so a kill never leaves half a line)."""
    previous = path.read_text() if path.is_file() else ""
    with atomic_path(path) as tmp:
        tmp.write_text(previous + json.dumps(record) + "\n")
