"""MDM (Tevet et al. 2023), HumanML3D ``trans_enc`` variant: the denoiser, its files, its adapter.

The network reproduces the published model so that its checkpoint loads as it is (every key
and shape, ``strict=True``) and computes the same numbers (see
``../shared/fixtures/mdm/README.md``): a Linear pose embedding per frame, one condition token
(timestep embedding + projected CLIP text feature) in front of the frames, a sinusoidal
positional encoding, a post-norm GELU ``nn.TransformerEncoder`` (sequence first), a Linear
back to the 263 features; it predicts x0. Diffusion: 1000-step cosine schedule, DDIM
respaced to K steps, classifier-free guidance ``uncond + s * (cond - uncond)``.

The adapter keeps MDM's quirks inside: its ``[B, 263, 1, T]`` layout becomes ``[B, T, 263]``,
the two guidance passes run as one batched forward, and features are HumanML3D-normalised
with the dataset's Mean.npy / Std.npy.

Files of a model directory (``--model mdm:DIR``): ``model*.pt`` (the state_dict, e.g.
``model000475000.pt``; the one with the largest step is used), ``args.json``, and
``Mean.npy`` / ``Std.npy`` in DIR or in the ``--stats`` directory.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from motionprog.body.features import Normalizer, features_to_joints
from motionprog.body.skeleton import FPS
from motionprog.errors import InputError
from motionprog.sampling.ddim import ddim_sample, initial_noise
from motionprog.sampling.schedule import cosine_schedule, respace

MDM_HOWTO = ("it comes with the public MDM release (github.com/GuyTevet/motion-diffusion-model, "
             "humanml_trans_enc_512: model000475000.pt and args.json)")
STATS_HOWTO = "it is HumanML3D's dataset statistics (HumanML3D/Mean.npy and Std.npy); pass --stats DIR"
MAX_ARGS_BYTES = 1 << 20
"""Largest args.json read (1 MiB; the released one is about 2 kB)."""
DATASET_FEATURES = {"humanml": 263}
"""Feature width of each MDM dataset this adapter supports."""

TextEncoder = Callable[[Sequence[str]], torch.Tensor]
"""``encode(texts) -> float32 [B, clip_dim]`` (for example :class:`motionprog.models.clip_text.ClipTextEncoder`)."""


@dataclass(frozen=True)
class MDMConfig:
    """MDM's dimensions and diffusion settings, read from its ``args.json``.

    Defaults are the published HumanML3D model's (MDM hard-codes ``num_heads`` and ``ff_size``).
    """

    input_feats: int = 263
    latent_dim: int = 512
    num_layers: int = 8
    num_heads: int = 4
    ff_size: int = 1024
    dropout: float = 0.1
    activation: str = "gelu"
    clip_dim: int = 512
    max_len: int = 5000
    cond_mask_prob: float = 0.1
    guidance_param: float = 2.5
    diffusion_steps: int = 1000
    max_frames: int = 196

    @classmethod
    def from_args(cls, args: Any, source: str = "args.json") -> MDMConfig:
        """The config of an MDM ``args.json`` dict; InputError naming ``source`` for an unsupported
        model or a size outside :data:`ARG_RANGES`."""
        if not isinstance(args, dict):
            raise InputError(f"{source}: expected a JSON object of MDM arguments, got a {type(args).__name__}")
        arch, dataset = args.get("arch", "trans_enc"), args.get("dataset", "humanml")
        if arch != "trans_enc":
            raise InputError(f"{source}: arch '{arch}' is not supported (only 'trans_enc')")
        if not isinstance(dataset, str) or dataset not in DATASET_FEATURES:
            raise InputError(f"{source}: dataset '{dataset}' is not supported (only 'humanml')")
        if args.get("noise_schedule", "cosine") != "cosine":
            raise InputError(f"{source}: noise_schedule '{args['noise_schedule']}' is not supported (only 'cosine')")
        if args.get("text_encoder_type", "clip") != "clip":
            raise InputError(f"{source}: text_encoder_type '{args['text_encoder_type']}' is not supported (only 'clip')")
        base = cls()
        defaults = {"latent_dim": base.latent_dim, "layers": base.num_layers, "heads": base.num_heads,
                    "ff_size": base.ff_size, "cond_mask_prob": base.cond_mask_prob,
                    "guidance_param": base.guidance_param, "diffusion_steps": base.diffusion_steps}
        values = {key: _arg(args, key, default, source) for key, default in defaults.items()}
        if values["latent_dim"] % values["heads"]:
            raise InputError(f"{source}: latent_dim {values['latent_dim']} is not a multiple of heads {values['heads']}")
        return cls(input_feats=DATASET_FEATURES[dataset], latent_dim=values["latent_dim"], num_layers=values["layers"],
                   num_heads=values["heads"], ff_size=values["ff_size"], cond_mask_prob=values["cond_mask_prob"],
                   guidance_param=values["guidance_param"], diffusion_steps=values["diffusion_steps"])


ARG_RANGES: dict[str, tuple[float, float]] = {
    "latent_dim": (2, 4096), "layers": (1, 64), "heads": (1, 64), "ff_size": (1, 16384),
    "diffusion_steps": (1, 10000), "cond_mask_prob": (0.0, 1.0), "guidance_param": (-100.0, 100.0),
}
"""Accepted range of each args.json value read (sizes are whole numbers): far beyond any released
MDM, small enough that a hostile file cannot make the network allocate gigabytes."""


def _arg(args: dict[str, Any], key: str, default: float, source: str) -> Any:
    """``args[key]`` (or ``default``) checked against :data:`ARG_RANGES`; whole for sizes."""
    value = args.get(key, default)
    low, high = ARG_RANGES[key]
    whole = isinstance(default, int)
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or (whole and value != int(value)) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise InputError(f"{source}: '{key}' must be {kind} in [{low:g}, {high:g}], got {json.dumps(value)[:40]}")
    return int(value) if whole else float(value)


class PositionalEncoding(nn.Module):
    """MDM's sinusoidal table ``pe`` [max_len, 1, d] (a saved buffer) added to a sequence, then dropout."""

    def __init__(self, d_model: int, dropout: float, max_len: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len, dtype=torch.float32)[:, None]
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe[:, None, :])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [L, B, d] (sequence first) -> x + pe[:L], with dropout."""
        return self.dropout(x + self.pe[: x.shape[0]])


class TimestepEmbedder(nn.Module):
    """pe[t] -> Linear -> SiLU -> Linear: timesteps int64 [B] -> [1, B, d] (shares the positional table)."""

    def __init__(self, latent_dim: int, sequence_pos_encoder: PositionalEncoding) -> None:
        super().__init__()
        self.sequence_pos_encoder = sequence_pos_encoder
        self.time_embed = nn.Sequential(nn.Linear(latent_dim, latent_dim), nn.SiLU(),
                                        nn.Linear(latent_dim, latent_dim))

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        return self.time_embed(self.sequence_pos_encoder.pe[timesteps]).permute(1, 0, 2)


class MDMDenoiser(nn.Module):
    """The MDM network with the checkpoint's module names; predicts x0.

    ``forward(x_t [B, T, F], t int64 [B], text [B, clip_dim]) -> x0 [B, T, F]``: normalised
    HumanML3D features, original diffusion timesteps, CLIP text features (zeros for the
    unconditional pass, which leaves ``embed_text.bias`` in the condition token).
    """

    def __init__(self, config: MDMConfig) -> None:
        super().__init__()
        self.config = config
        d = config.latent_dim
        self.input_process = nn.ModuleDict({"poseEmbedding": nn.Linear(config.input_feats, d)})
        self.sequence_pos_encoder = PositionalEncoding(d, config.dropout, config.max_len)
        layer = nn.TransformerEncoderLayer(d_model=d, nhead=config.num_heads, dim_feedforward=config.ff_size,
                                           dropout=config.dropout, activation=config.activation)
        self.seqTransEncoder = nn.TransformerEncoder(layer, num_layers=config.num_layers,
                                                     enable_nested_tensor=False)
        self.embed_timestep = TimestepEmbedder(d, self.sequence_pos_encoder)
        self.embed_text = nn.Linear(config.clip_dim, d)
        self.output_process = nn.ModuleDict({"poseFinal": nn.Linear(d, config.input_feats)})

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        condition = self.embed_timestep(t) + self.embed_text(text)[None]           # [1, B, d]
        frames = self.input_process["poseEmbedding"](x_t.transpose(0, 1))           # [T, B, d]
        sequence = self.sequence_pos_encoder(torch.cat([condition, frames], dim=0))  # [T+1, B, d]
        encoded = self.seqTransEncoder(sequence)[1:]
        return self.output_process["poseFinal"](encoded).transpose(0, 1)


def guided_x0(network: MDMDenoiser, x_t: torch.Tensor, t: torch.Tensor, text: torch.Tensor | None,
              scale: float) -> torch.Tensor:
    """Classifier-free guided x0 [B, T, F]: ``uncond + scale * (cond - uncond)`` in ONE batched forward.

    ``text`` [B, clip_dim] or None (unconditional: a single pass with a zero text feature).
    """
    if text is None:
        return network(x_t, t, x_t.new_zeros(x_t.shape[0], network.config.clip_dim))
    both = network(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([text, torch.zeros_like(text)]))
    cond, uncond = both.chunk(2)
    return uncond + scale * (cond - uncond)


@dataclass(frozen=True)
class MDMModel:
    """MDM behind the MotionModel protocol (see ``motionprog.models.protocol``).

    network:      the frozen denoiser (eval mode) on ``device``.
    normalizer:   HumanML3D's Mean/Std [263] on ``device`` (features are normalised with them).
    text_encoder: CLIP text features, or None for unconditional generation.
    """

    network: MDMDenoiser
    normalizer: Normalizer
    text_encoder: TextEncoder | None
    name: str = "mdm"
    default_steps: int = 50
    fps: int = FPS

    @property
    def device(self) -> torch.device:
        return self.normalizer.mean.device

    @property
    def dtype(self) -> torch.dtype:
        return self.normalizer.mean.dtype

    @property
    def max_frames(self) -> int:
        return self.network.config.max_frames

    def latent_shape(self, frames: int) -> tuple[int, ...]:
        """(frames, 263): one normalised feature vector of noise per frame."""
        if not 1 <= frames <= self.max_frames:
            raise InputError(f"MDM generates 1 to {self.max_frames} frames, got {frames}")
        return (frames, self.network.config.input_feats)

    def latents(self, seeds: Sequence[int], frames: int) -> torch.Tensor:
        """Standard normal [B, frames, 263], sample b from seed ``seeds[b]``."""
        return initial_noise(seeds, self.latent_shape(frames), device=self.device, dtype=self.dtype)

    def decode(self, z: torch.Tensor, text: str | Sequence[str], steps: int,
               guidance: float | None = None) -> torch.Tensor:
        """``steps`` DDIM steps (eta 0) from z [B, T, 263] -> normalised features [B, T, 263].

        Guidance scale: ``guidance`` or args.json's ``guidance_param``; no guidance without a
        text encoder. Differentiable in z.
        """
        texts = [text] * z.shape[0] if isinstance(text, str) else list(text)
        if len(texts) != z.shape[0]:
            raise InputError(f"got {len(texts)} prompts for {z.shape[0]} latents")
        features = None if self.text_encoder is None else self.text_encoder(texts).to(self.device, self.dtype)
        scale = self.network.config.guidance_param if guidance is None else float(guidance)
        schedule = respace(cosine_schedule(self.network.config.diffusion_steps), steps)

        def denoise(x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
            return guided_x0(self.network, x_t, t, cond, scale)

        return ddim_sample(denoise, z, schedule, features)

    def to_joints(self, features: torch.Tensor) -> torch.Tensor:
        """Normalised features [B, T, 263] -> joints [B, T, 22, 3]; differentiable."""
        return features_to_joints(self.normalizer.denormalize(features))


def find_checkpoint(directory: Path) -> Path:
    """The ``model*.pt`` file of ``directory`` with the largest name (MDM numbers them by step)."""
    candidates = sorted(directory.glob("model*.pt"))
    if not candidates:
        raise InputError(f"{directory}: no model*.pt checkpoint found; {MDM_HOWTO}")
    return candidates[-1]


def read_args(directory: Path) -> MDMConfig:
    """The MDMConfig of ``directory/args.json``."""
    path = directory / "args.json"
    if not path.is_file():
        raise InputError(f"{path}: no such file; {MDM_HOWTO}")
    if path.stat().st_size > MAX_ARGS_BYTES:
        raise InputError(f"{path}: over the {MAX_ARGS_BYTES // 1024} KiB limit on MDM arguments")
    try:
        args = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError(f"{path}: cannot read MDM arguments ({type(exc).__name__}: {exc})") from exc
    return MDMConfig.from_args(args, str(path))


def read_stats(directories: Sequence[Path]) -> Normalizer:
    """HumanML3D Mean.npy and Std.npy ([263] each) from the first of ``directories`` that has both."""
    for directory in directories:
        if (directory / "Mean.npy").is_file() and (directory / "Std.npy").is_file():
            return Normalizer.from_directory(directory)
    searched = ", ".join(str(d) for d in directories)
    raise InputError(f"Mean.npy / Std.npy not found in {searched}; {STATS_HOWTO}")


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's state_dict without CLIP's weights (``torch.load(weights_only=True)``)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt or non-weights file
        raise InputError(f"{path}: cannot read the checkpoint ({exc})") from exc
    if isinstance(state, dict) and isinstance(state.get("model_avg", state.get("model")), dict):
        state = state.get("model_avg", state.get("model"))
    if not isinstance(state, dict):
        raise InputError(f"{path}: not a state_dict")
    return {k: v for k, v in state.items() if not k.startswith("clip_model.")}


def load_network(path: Path, config: MDMConfig) -> MDMDenoiser:
    """An MDMDenoiser with the checkpoint's weights, strictly (every key and shape), in eval mode."""
    network = MDMDenoiser(config)
    try:
        network.load_state_dict(read_state_dict(path), strict=True)
    except RuntimeError as exc:
        summary = str(exc).splitlines()[1:3]
        raise InputError(f"{path}: does not match the MDM architecture of args.json ({' '.join(summary)})") from exc
    return network.eval().requires_grad_(False)


def load_mdm(directory: str | os.PathLike, *, stats: str | os.PathLike | None = None,
             text_encoder: TextEncoder | None = None, device: str | torch.device = "cpu") -> MDMModel:
    """MDM from a directory laid out like the public release (see the module doc).

    ``text_encoder`` None means unconditional generation. Raises InputError naming any missing
    file and where it comes from; nothing is downloaded.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: no such directory; {MDM_HOWTO}")
    config = read_args(directory)
    network = load_network(find_checkpoint(directory), config)
    stats_found = read_stats([directory] if stats is None else [Path(stats), directory])
    device = torch.device(device)
    normalizer = Normalizer(mean=stats_found.mean.to(device), std=stats_found.std.to(device))
    return MDMModel(network=network.to(device), normalizer=normalizer, text_encoder=text_encoder)
