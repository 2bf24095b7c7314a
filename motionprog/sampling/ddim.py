"""Deterministic DDIM sampling (eta = 0) with a denoiser that predicts the clean sample x0.

Song, Meng & Ermon, "Denoising Diffusion Implicit Models" (ICLR 2021). Symbols:

| code             | paper                  | meaning                                        |
|------------------|------------------------|------------------------------------------------|
| ``x_t``          | x_t                    | the current noisy sample                       |
| ``alpha_bar_t``  | alpha_t                | cumulative signal level at step t              |
| ``alpha_bar_prev`` | alpha_{t-1}          | the level of the next (less noisy) kept step   |
| ``pred_x0``      | f_theta(x_t) (eq. 9)   | the denoiser's prediction of x_0               |
| ``pred_eps``     | eps_theta(x_t)         | the noise implied by x_t and pred_x0           |

No model lives here: the caller passes a denoiser callable and chooses the gradient mode
(the optimizer back-propagates through :func:`ddim_sample`; a final decode wraps it in
``torch.no_grad()`` at the call site).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from motionprog.sampling.schedule import SamplingSchedule

Denoiser = Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]
"""``denoise(x_t [B, ...], t int64 [B] original timesteps, cond) -> pred_x0 [B, ...]``."""

StepCallback = Callable[[int, int, "DDIMStep"], None]
"""``callback(steps_done, total_steps, step)``, called after every step."""


@dataclass(frozen=True)
class DDIMStep:
    """The result of one DDIM step.

    prev_sample:          [B, ...] x_{t-1}, same shape and dtype as the input sample.
    pred_original_sample: [B, ...] the denoiser's x0 prediction at this step.
    """

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor


def ddim_step(x_t: torch.Tensor, pred_x0: torch.Tensor, alpha_bar_t: torch.Tensor,
              alpha_bar_prev: torch.Tensor) -> DDIMStep:
    """One deterministic DDIM update from x_t to x_{t-1} given the x0 prediction.

    x_t, pred_x0: [B, ...]; alpha_bar_t, alpha_bar_prev: scalars (any float dtype; cast to x_t's).
    1. pred_eps = (x_t - sqrt(alpha_bar_t) * pred_x0) / sqrt(1 - alpha_bar_t)   (eq. 9 inverted),
       computed as MDM does: (x_t / sqrt(alpha_bar_t) - pred_x0) / sqrt(1 / alpha_bar_t - 1);
    2. sigma_t = 0 (eta = 0 in eq. 16), so the random term of eq. 12 vanishes;
    3. x_{t-1} = sqrt(alpha_bar_prev) * pred_x0 + sqrt(1 - alpha_bar_prev) * pred_eps  (eq. 12).
    """
    sqrt_recip_alpha_bar = torch.sqrt(1.0 / alpha_bar_t).to(x_t.dtype)
    sqrt_recipm1_alpha_bar = torch.sqrt(1.0 / alpha_bar_t - 1.0).to(x_t.dtype)
    pred_eps = (sqrt_recip_alpha_bar * x_t - pred_x0) / sqrt_recipm1_alpha_bar
    prev = (pred_x0 * torch.sqrt(alpha_bar_prev).to(x_t.dtype)
            + torch.sqrt(1.0 - alpha_bar_prev).to(x_t.dtype) * pred_eps)
    return DDIMStep(prev_sample=prev, pred_original_sample=pred_x0)


def ddim_sample(denoise: Denoiser, z: torch.Tensor, schedule: SamplingSchedule, cond: Any,
                callback: StepCallback | None = None) -> torch.Tensor:
    """DDIM sampling (eta = 0, no clipping) from noise ``z``: returns x_0 [B, ...] like ``z``.

    Walks the schedule's K steps from the noisiest (index K-1) to index 0, calling
    ``denoise(x_t, t, cond)`` once per step with the original timestep ``t`` ([B], int64).
    Differentiable in ``z`` and the denoiser's inputs; sets no gradient mode.
    """
    x = z
    total = schedule.num_steps
    for done, index in enumerate(reversed(range(total)), start=1):
        t = schedule.timesteps[index].to(z.device).expand(z.shape[0])
        step = ddim_step(x, denoise(x, t, cond), schedule.alpha_bar[index], schedule.alpha_bar_prev[index])
        x = step.prev_sample
        if callback is not None:
            callback(done, total, step)
    return x


def initial_noise(seeds: Sequence[int], shape: Sequence[int], *, device: str | torch.device = "cpu",
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal noise [B, *shape], sample b drawn from ``torch.Generator().manual_seed(seeds[b])``.

    Drawn on the CPU in float32 and then moved, so a seed gives the same noise on every device
    and in every batch it appears in.
    """
    draws = [torch.randn(*shape, generator=torch.Generator().manual_seed(int(seed))) for seed in seeds]
    return torch.stack(draws).to(device=device, dtype=dtype)
