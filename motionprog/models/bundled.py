"""The bundled motion prior: a small text-conditioned temporal-convolution denoiser.

What it models: the first 67 HumanML3D feature dims (``FEATURE_DIM``): root rotation
velocity (rad/frame), root XZ velocity in the body frame (m/frame), root height (m) and the
21 root-relative joint positions with the heading removed (m); everything the
recover-from-ric decoder needs (``motionprog.body.features.features_to_joints``), at 20 fps,
normalised with the training data's own mean and std. All 67 dims are invariant to where the
motion starts and which way it faces, so any window of a motion is a valid sample.

The network (``Denoiser``) is a 1-D U-Net over time: residual conv blocks with FiLM
conditioning on the diffusion timestep and the all-MiniLM-L6-v2 sentence embedding
(zeroed for the unconditional branch of classifier-free guidance). It predicts x0, and uses
MDM's diffusion: a 1000-step cosine schedule sampled by DDIM with few respaced steps.
Lengths up to ``max_frames`` = 196 work; inside, time is padded to a multiple of 4.

The shipped weights live in ``motionprog/data/bundled.safetensors``: the parameters, the
normalisation stats (``norm.mean``, ``norm.std`` [67]) and the config as JSON metadata.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from motionprog.body.features import features_to_joints
from motionprog.body.skeleton import FPS
from motionprog.errors import InputError
from motionprog.models.text_encoder import embed_texts
from motionprog.sampling.ddim import ddim_sample, initial_noise
from motionprog.sampling.schedule import cosine_schedule, respace

FEATURE_DIM = 67
"""Feature dims the bundled model predicts: HumanML3D dims 0:67 (root + ric)."""

WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "data" / "bundled.safetensors"
"""The shipped weights (their distilled student lies beside them: ``student_path_for``)."""

DEFAULT_STEPS = 6
"""DDIM steps of ``decode`` when the caller gives none."""

DEFAULT_GUIDANCE = 2.0
"""Classifier-free guidance scale of ``decode`` when the caller gives none (1: conditional only)."""

STUDENT_REFERENCE_PROMPT = "a person walks forward"
"""Prompt of the stored reference decode of the shipped student (tests/assets/student_reference.npy)."""


@dataclass(frozen=True)
class DenoiserConfig:
    """Shape of the denoiser. ``widths`` are the channels at time scales 1, 1/2, 1/4, ..."""

    feature_dim: int = FEATURE_DIM
    text_dim: int = 384
    widths: tuple[int, ...] = (96, 160, 256)
    blocks: int = 2
    kernel: int = 3
    emb_dim: int = 256
    max_frames: int = 196
    cond_drop: float = 0.1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> DenoiserConfig:
        """The config stored in a weights file; ValueError unless every size is a whole number in
        [1, 4096] (so a corrupt file cannot make the network allocate gigabytes)."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("widths"), list):
            raise ValueError("the config must be a JSON object with a 'widths' list")
        data["widths"] = tuple(data["widths"])
        sizes = [*data["widths"], *(data.get(k, 1) for k in ("feature_dim", "text_dim", "blocks", "kernel",
                                                             "emb_dim", "max_frames"))]
        if not data["widths"] or not all(type(n) is int and 1 <= n <= 4096 for n in sizes):
            raise ValueError(f"sizes out of range in the config: {text[:120]}")
        return cls(**data)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of diffusion timesteps (as in DDPM/MDM): t [B] -> [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


class ResBlock(nn.Module):
    """Two convolutions over time with FiLM from the conditioning vector, plus a skip.

    x [B, C_in, T], emb [B, E] -> [B, C_out, T].
    """

    def __init__(self, c_in: int, c_out: int, emb_dim: int, kernel: int, dilation: int) -> None:
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.norm1 = nn.GroupNorm(8, c_in)
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, padding=pad, dilation=dilation)
        self.film = nn.Linear(emb_dim, 2 * c_out)
        self.norm2 = nn.GroupNorm(8, c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, padding=pad, dilation=dilation)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return self.skip(x) + h


class Denoiser(nn.Module):
    """x0-predicting denoiser: (x_t [B,T,D] normalised features, t [B] timesteps in [0, 1000),
    text [B,384] sentence embeddings, keep [B] 1 = conditional / 0 = unconditional) -> x0 [B,T,D].
    """

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__()
        self.config = config
        e = config.emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.text_proj = nn.Linear(config.text_dim, e)
        self.emb_out = nn.Sequential(nn.SiLU(), nn.Linear(e, e))
        widths = config.widths
        self.inp = nn.Conv1d(config.feature_dim, widths[0], config.kernel, padding=config.kernel // 2)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        for level, width in enumerate(widths):
            c_in = widths[max(level - 1, 0)]
            self.downsample.append(
                nn.Conv1d(c_in, c_in, 4, stride=2, padding=1) if level > 0 else nn.Identity()
            )
            self.down.append(nn.ModuleList(
                ResBlock(c_in if i == 0 else width, width, e, config.kernel, dilation=2**i)
                for i in range(config.blocks)
            ))
        self.up = nn.ModuleList(
            ResBlock(widths[level] + widths[level + 1], widths[level], e, config.kernel, dilation=1)
            for level in range(len(widths) - 1)
        )
        self.out_norm = nn.GroupNorm(8, widths[0])
        self.out = nn.Conv1d(widths[0], config.feature_dim, config.kernel, padding=config.kernel // 2)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def stride(self) -> int:
        """Time is padded to a multiple of this inside the network."""
        return 2 ** (len(self.config.widths) - 1)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, text: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        frames = x_t.shape[1]
        pad = (-frames) % self.stride
        h = F.pad(x_t.transpose(1, 2), (0, pad), mode="replicate") if pad else x_t.transpose(1, 2)
        emb = self.time_mlp(timestep_embedding(t, self.config.emb_dim))
        emb = self.emb_out(emb + self.text_proj(text * keep.to(text.dtype)[:, None]))
        h = self.inp(h)
        skips = []
        for downsample, blocks in zip(self.downsample, self.down):
            h = downsample(h)
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
        for level in reversed(range(len(self.up))):
            h = F.interpolate(h, scale_factor=2.0, mode="linear", align_corners=False)
            h = self.up[level](torch.cat([h, skips[level]], dim=1), emb)
        h = self.out(F.silu(self.out_norm(h)))
        return h[:, :, :frames].transpose(1, 2)


def student_forward(student: Denoiser, z: torch.Tensor, text: torch.Tensor, timestep: int) -> torch.Tensor:
    """One conditional evaluation of a distilled student at ``timestep``: noise z [B, T, D] and
    text embeddings [B, 384] -> clean normalised features [B, T, D]."""
    batch = z.shape[0]
    t = torch.full((batch,), timestep, device=z.device, dtype=torch.long)
    return student(z, t, text, torch.ones(batch, device=z.device))


@dataclass(frozen=True)
class Student:
    """A distilled one-step student of a bundled teacher (``motionprog.models.distill``).

    timestep: the diffusion timestep it is evaluated at (the teacher's noisiest respaced step);
    teacher_steps, guidance: the teacher decode it reproduces.
    """

    denoiser: Denoiser
    timestep: int
    teacher_steps: int
    guidance: float


def save_weights(path: str | os.PathLike, model: Denoiser, mean: torch.Tensor, std: torch.Tensor,
                 info: dict[str, str] | None = None, dtype: torch.dtype = torch.float32) -> None:
    """Write the denoiser (its parameters as ``dtype``), its normalisation stats [D] (float32)
    and config into one safetensors file (atomic)."""
    from safetensors.torch import save_file

    from motionprog.io.atomic import atomic_path

    tensors = {f"model.{k}": v.detach().to(dtype).cpu().contiguous() for k, v in model.state_dict().items()}
    tensors["norm.mean"] = mean.detach().float().cpu().contiguous()
    tensors["norm.std"] = std.detach().float().cpu().contiguous()
    metadata = {"config": model.config.to_json(), **(info or {})}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def load_weights(path: str | os.PathLike) -> tuple[Denoiser, torch.Tensor, torch.Tensor, dict[str, str]]:
    """Read a file written by :func:`save_weights`: (denoiser in eval mode, mean [D], std [D], metadata)."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such weights file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        config = DenoiserConfig.from_json(metadata["config"])
        model = Denoiser(config)
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, SafetensorError) as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise InputError(f"{path}: not a bundled-model weights file ({reason})") from exc
    state = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise InputError(f"{path}: weights do not match the bundled architecture ({reason}...)") from exc
    if not all(isinstance(tensors.get(k), torch.Tensor) and tensors[k].shape == (config.feature_dim,)
               for k in ("norm.mean", "norm.std")):
        raise InputError(f"{path}: norm.mean and norm.std must be tensors of shape [{config.feature_dim}]")
    model.eval()
    return model, tensors["norm.mean"], tensors["norm.std"], metadata


class BundledModel:
    """The bundled prior behind the MotionModel protocol (docs/architecture.md).

    Latent: the DDIM start noise, [T, 67] per sample. ``decode`` runs K DDIM steps of the
    cosine schedule (default ``default_steps``) with classifier-free guidance
    (``default_guidance``; 1 means the conditional pass alone) and returns normalised
    features [B, T, 67]; ``to_joints`` de-normalises them and recovers global joints.
    With a distilled ``student`` (``motionprog.models.distill``), ``decode_distilled`` maps the
    same noise to (an approximation of) the teacher's default decode in one evaluation.
    """

    name = "bundled"
    fps = FPS

    def __init__(self, denoiser: Denoiser, mean: torch.Tensor, std: torch.Tensor,
                 device: str | torch.device = "cpu", default_steps: int = DEFAULT_STEPS,
                 default_guidance: float = DEFAULT_GUIDANCE, student: Student | None = None,
                 labels: Sequence[str] = ()) -> None:
        self.device = torch.device(device)
        self.labels = tuple(labels)
        self.student = None if student is None else replace(
            student, denoiser=student.denoiser.to(self.device).eval().requires_grad_(False))
        self.default_steps = default_steps
        self.default_guidance = default_guidance
        self.dtype = torch.float32
        self.denoiser = denoiser.to(self.device).eval().requires_grad_(False)
        self.config = denoiser.config
        self.max_frames = denoiser.config.max_frames
        self.mean = mean.to(self.device, self.dtype)
        self.std = std.to(self.device, self.dtype)
        self._noise = cosine_schedule()
        self._text_cache: dict[str, torch.Tensor] = {}

    def latent_shape(self, frames: int) -> tuple[int, ...]:
        """Per-sample latent shape for ``frames`` frames: (frames, 67)."""
        if not 1 <= frames <= self.max_frames:
            raise InputError(f"the bundled model generates 1 to {self.max_frames} frames, got {frames}")
        return (frames, self.config.feature_dim)

    def latents(self, seeds: Sequence[int], frames: int) -> torch.Tensor:
        """Standard normal start noise [B, frames, 67], one reproducible draw per seed."""
        return initial_noise(seeds, self.latent_shape(frames), device=self.device, dtype=self.dtype)

    def embed(self, text: str | Sequence[str], batch: int) -> torch.Tensor:
        """Sentence embeddings [batch, 384] of one prompt (repeated) or one prompt per sample."""
        texts = [text] * batch if isinstance(text, str) else list(text)
        if len(texts) != batch:
            raise InputError(f"got {len(texts)} prompts for {batch} samples")
        missing = sorted({t for t in texts if t not in self._text_cache})
        if missing:
            self._text_cache.update(zip(missing, embed_texts(missing, self.device)))
        return torch.stack([self._text_cache[t] for t in texts])

    def decode(self, z: torch.Tensor, text: str | Sequence[str], steps: int | None = None,
               guidance: float | None = None) -> torch.Tensor:
        """K DDIM steps from noise z [B, T, 67] -> normalised features [B, T, 67].

        Differentiable in z; sets no gradient mode. ``guidance`` w mixes the conditional and
        unconditional predictions as uncond + w * (cond - uncond), in one batched forward.
        """
        steps = self.default_steps if steps is None else steps
        guidance = self.default_guidance if guidance is None else guidance
        batch = z.shape[0]
        text_emb = self.embed(text, batch)
        schedule = respace(self._noise, steps)
        if guidance == 1.0:
            keep = torch.ones(batch, device=self.device)

            def denoise(x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
                return self.denoiser(x_t, t, cond, keep)
        else:
            keep = torch.cat([torch.ones(batch, device=self.device), torch.zeros(batch, device=self.device)])

            def denoise(x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
                both = self.denoiser(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([cond, cond]), keep)
                conditional, unconditional = both.chunk(2)
                return unconditional + guidance * (conditional - unconditional)

        return ddim_sample(denoise, z, schedule, text_emb)

    def decode_distilled(self, z: torch.Tensor, text: str | Sequence[str]) -> torch.Tensor:
        """One student evaluation from noise z [B, T, 67] -> normalised features [B, T, 67]:
        the teacher's ``decode(z, text)`` at its default steps and guidance, distilled.
        Differentiable in z; sets no gradient mode. Raises InputError without a student."""
        if self.student is None:
            raise InputError(f"model '{self.name}' has no distilled student")
        return student_forward(self.student.denoiser, z, self.embed(text, z.shape[0]), self.student.timestep)

    def to_joints(self, features: torch.Tensor) -> torch.Tensor:
        """Normalised features [B, T, 67] -> global joints [B, T, 22, 3] (metres, Y up)."""
        return features_to_joints(features * self.std + self.mean)


def student_path_for(path: str | os.PathLike) -> Path:
    """Where the distilled student of the weights at ``path`` lives: ``NAME-student.safetensors`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}-student.safetensors")


def load_student(path: str | os.PathLike) -> Student:
    """A student written by ``motionprog distill`` (float16 on disk, float32 in memory)."""
    denoiser, _, _, metadata = load_weights(path)
    if metadata.get("kind") != "student":
        raise InputError(f"{path}: not a distilled student (no kind=student in its metadata)")
    return Student(denoiser.float(), timestep=int(metadata["timestep"]),
                   teacher_steps=int(metadata["teacher_steps"]), guidance=float(metadata["teacher_guidance"]))


def training_labels(metadata: dict[str, str]) -> tuple[str, ...]:
    """The text labels a weights file was trained on (its ``labels`` metadata; empty if absent)."""
    try:
        labels = json.loads(metadata.get("labels", "[]"))
    except json.JSONDecodeError:
        return ()
    return tuple(label for label in labels if isinstance(label, str)) if isinstance(labels, list) else ()


def load_bundled(device: str | torch.device | None = None, path: str | os.PathLike = WEIGHTS_PATH,
                 student_path: str | os.PathLike | None | Literal["beside"] = "beside") -> BundledModel:
    """The bundled prior from its shipped weights (or another file of the same layout).

    ``student_path``: the distilled student to attach; "beside" takes :func:`student_path_for`
    when that file exists; None attaches none.
    """
    denoiser, mean, std, metadata = load_weights(path)
    if student_path == "beside":
        student_path = student_path_for(path) if student_path_for(path).is_file() else None
    student = load_student(student_path) if student_path is not None else None
    return BundledModel(denoiser, mean, std, device="cpu" if device is None else device, student=student,
                        labels=training_labels(metadata))
