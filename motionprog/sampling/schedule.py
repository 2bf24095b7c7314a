"""Noise schedules: the 1000-step cosine schedule and its respacing to K sampling steps.

Symbols follow the DDPM/DDIM papers: ``alpha_bar_t`` is the cumulative product
``prod_{s<=t} (1 - beta_s)`` (DDIM's ``alpha_t``; Song et al. 2021 write it without the bar).
All schedule values are float64 (as MDM computes them in numpy); the sampler casts them to
the sample's dtype when it uses them.

Respacing follows MDM / guided-diffusion (``space_timesteps`` and ``SpacedDiffusion``):
- the K kept timesteps are ``range(0, N, stride)`` for the integer stride that gives exactly K
  ("ddimK": 0, 100, ..., 900 for K=10), else K evenly spaced rounded timesteps over [0, N-1];
- the respaced process keeps the ORIGINAL ``alpha_bar`` at those timesteps: its betas are
  ``1 - alpha_bar[t_i] / alpha_bar[t_{i-1}]`` (with ``alpha_bar[t_{-1}] = 1``), so the noisiest
  respaced step is ``alpha_bar[900]`` for K=10 (not ``alpha_bar[999]``), sampling starts there
  from pure noise, and the last step goes to ``alpha_bar_prev = 1``;
- the denoiser is always called with the original timestep (``t_i``, not the index ``i``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

MAX_BETA = 0.999
"""Upper clip of each beta (guided-diffusion's ``betas_for_alpha_bar``)."""

COSINE_OFFSET = 0.008
"""The small offset ``s`` of Nichol & Dhariwal (2021), eq. (17)."""


@dataclass(frozen=True)
class NoiseSchedule:
    """A discrete forward process of N steps.

    alphas_cumprod: float64 [N], ``alpha_bar_t`` for t = 0 .. N-1 (decreasing from ~1 to ~0).
    """

    alphas_cumprod: torch.Tensor

    @property
    def num_steps(self) -> int:
        return int(self.alphas_cumprod.shape[0])


@dataclass(frozen=True)
class SamplingSchedule:
    """K respaced sampling steps of a :class:`NoiseSchedule`, in increasing time order.

    timesteps:       int64 [K], original timesteps passed to the denoiser (0 .. N-1).
    alpha_bar:       float64 [K], ``alpha_bar`` at each kept timestep.
    alpha_bar_prev:  float64 [K], ``alpha_bar`` of the next less noisy kept step (1 for the first).
    The sampler walks them from index K-1 down to 0.
    """

    timesteps: torch.Tensor
    alpha_bar: torch.Tensor
    alpha_bar_prev: torch.Tensor

    @property
    def num_steps(self) -> int:
        return int(self.timesteps.shape[0])


def cosine_schedule(num_steps: int = 1000) -> NoiseSchedule:
    """The cosine schedule (Nichol & Dhariwal 2021, eq. 17) with betas clipped at 0.999.

    ``beta_t = min(1 - f((t+1)/N) / f(t/N), 0.999)`` with ``f(u) = cos((u + s) / (1 + s) * pi/2)^2``,
    and ``alpha_bar_t = prod_{s<=t} (1 - beta_s)``, as MDM builds it (float64).
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be positive, got {num_steps}")
    u = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
    f = torch.cos((u + COSINE_OFFSET) / (1 + COSINE_OFFSET) * math.pi / 2) ** 2
    betas = torch.clamp(1 - f[1:] / f[:-1], max=MAX_BETA)
    return NoiseSchedule(alphas_cumprod=torch.cumprod(1 - betas, dim=0))


def respaced_timesteps(num_train_steps: int, num_sample_steps: int) -> torch.Tensor:
    """The kept timesteps, int64 [K] increasing, as MDM's ``space_timesteps`` chooses them.

    The first integer stride whose ``range(0, N, stride)`` has exactly K elements ("ddimK"),
    otherwise K evenly spaced timesteps ``round(i * (N - 1) / (K - 1))`` (its section rule).
    """
    n, k = num_train_steps, num_sample_steps
    if not 1 <= k <= n:
        raise ValueError(f"the number of sampling steps must be in [1, {n}], got {k}")
    strides = torch.arange(1, n + 1)
    exact = ((n + strides - 1) // strides == k).nonzero()
    if exact.numel() > 0:
        return torch.arange(0, n, int(strides[exact[0, 0]]), dtype=torch.int64)
    if k == 1:
        return torch.zeros(1, dtype=torch.int64)
    positions = torch.arange(k, dtype=torch.float64) * ((n - 1) / (k - 1))
    return torch.round(positions).to(torch.int64)


def respace(schedule: NoiseSchedule, num_sample_steps: int) -> SamplingSchedule:
    """The K-step sampling process of ``schedule`` (MDM's ``SpacedDiffusion``; see the module doc)."""
    timesteps = respaced_timesteps(schedule.num_steps, num_sample_steps)
    kept = schedule.alphas_cumprod[timesteps]
    betas = 1 - kept / torch.cat([kept.new_ones(1), kept[:-1]])
    alpha_bar = torch.cumprod(1 - betas, dim=0)
    alpha_bar_prev = torch.cat([alpha_bar.new_ones(1), alpha_bar[:-1]])
    return SamplingSchedule(timesteps=timesteps, alpha_bar=alpha_bar, alpha_bar_prev=alpha_bar_prev)
