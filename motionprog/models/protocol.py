"""The MotionModel protocol: what the optimizer and the CLI may rely on from any motion model.

Every model (``mdm``, ``bundled``) implements it; checkpoint quirks stay in the adapters.
Conventions: features are per frame (HumanML3D layout, possibly only a prefix of its 263
dimensions), joints are ``[B, T, 22, 3]`` in metres, Y up, at the model's ``fps`` (20).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class MotionModel(Protocol):
    """A text-conditioned motion generator decoded by K DDIM steps from a Gaussian latent.

    name:       short identifier ("mdm", "bundled").
    max_frames: the longest motion it generates.
    default_steps: the DDIM steps it is meant to be sampled with when the caller names none.
    fps:        frames per second of its motions (20).
    device:     where its weights live; latents and features are created there.
    dtype:      floating dtype of its latents and features.
    """

    name: str
    max_frames: int
    default_steps: int
    fps: int
    device: torch.device
    dtype: torch.dtype

    def latent_shape(self, frames: int) -> tuple[int, ...]:
        """Shape of one sample's latent for a motion of ``frames`` frames."""
        ...

    def latents(self, seeds: Sequence[int], frames: int) -> torch.Tensor:
        """Standard normal latents [B, *latent_shape(frames)], one per seed, reproducible per seed on CPU."""
        ...

    def decode(self, z: torch.Tensor, text: str | Sequence[str], steps: int,
               guidance: float | None = None) -> torch.Tensor:
        """K = ``steps`` DDIM steps from ``z`` [B, *latent]: normalised features [B, T, D].

        ``text`` is one prompt for every sample or one per sample; ``guidance`` overrides the
        model's classifier-free guidance scale. Differentiable in ``z``; never sets the
        gradient mode (the caller does).
        """
        ...

    def to_joints(self, features: torch.Tensor) -> torch.Tensor:
        """Normalised features [B, T, D] -> global joints [B, T, 22, 3] (metres, Y up); differentiable."""
        ...


@runtime_checkable
class DistilledModel(MotionModel, Protocol):
    """A MotionModel that may carry a distilled one-step student of its default decode.

    student: None when it has none (``decode_distilled`` then raises InputError); otherwise an
             object with ``guidance`` (the classifier-free guidance scale it was distilled at).
    """

    student: object | None

    def decode_distilled(self, z: torch.Tensor, text: str | Sequence[str]) -> torch.Tensor:
        """One evaluation from ``z`` [B, *latent]: normalised features [B, T, D] approximating
        ``decode(z, text, default_steps)``. Differentiable in ``z``; sets no gradient mode."""
        ...
