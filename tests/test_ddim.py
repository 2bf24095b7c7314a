"""The cosine schedule, MDM's respacing and the DDIM sampler (no model: closed-form denoisers)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conftest import shared_path
from motionprog.sampling import (
    cosine_schedule, ddim_sample, ddim_step, initial_noise, respace, respaced_timesteps,
)


def test_cosine_schedule_reproduces_mdm_alphas_cumprod():
    reference = np.load(shared_path("fixtures/mdm/reference_outputs.npz"))["alphas_cumprod_1000"]
    alphas_cumprod = cosine_schedule(1000).alphas_cumprod
    assert alphas_cumprod.dtype == torch.float64
    np.testing.assert_allclose(alphas_cumprod.numpy(), reference, rtol=0, atol=1e-12)


def test_cosine_schedule_closed_form():
    """alpha_bar_0 = f(1/N) / f(0) with f(u) = cos((u + 0.008) / 1.008 * pi/2)^2; the last beta is clipped."""
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    schedule = cosine_schedule(10)
    assert schedule.alphas_cumprod[0].item() == pytest.approx(f(0.1) / f(0.0), rel=1e-14)
    assert schedule.alphas_cumprod[-1].item() == pytest.approx(schedule.alphas_cumprod[-2].item() * 0.001, rel=1e-12)


@pytest.mark.parametrize(("steps", "expected"), [
    (10, list(range(0, 1000, 100))),
    (3, [0, 334, 668]),          # first stride with exactly 3 elements is 334
    (7, list(range(0, 1000, 143))),
    (1000, list(range(1000))),
])
def test_respaced_timesteps_use_mdm_integer_stride(steps, expected):
    assert respaced_timesteps(1000, steps).tolist() == expected


def test_respaced_timesteps_fall_back_to_even_spacing():
    """999 steps have no integer stride: evenly spaced rounded timesteps from 0 to 999."""
    timesteps = respaced_timesteps(1000, 999)
    assert timesteps.shape == (999,)
    assert timesteps[0] == 0 and timesteps[-1] == 999
    assert bool((timesteps.diff() >= 1).all())


def test_respaced_timesteps_reject_bad_counts():
    with pytest.raises(ValueError, match="sampling steps"):
        respaced_timesteps(1000, 0)


def test_respace_keeps_original_alpha_bar_and_ends_at_one():
    """MDM's quirk: the respaced betas make alpha_bar'[i] = alpha_bar[t_i]; the first step's prev is 1."""
    reference = np.load(shared_path("fixtures/mdm/reference_outputs.npz"))
    base = cosine_schedule()
    sampling = respace(base, 10)
    assert sampling.timesteps.tolist() == reference["ddim_timesteps"].tolist()
    np.testing.assert_allclose(sampling.alpha_bar.numpy(), base.alphas_cumprod[sampling.timesteps].numpy(),
                               rtol=1e-13)
    assert sampling.alpha_bar_prev[0].item() == 1.0
    assert torch.equal(sampling.alpha_bar_prev[1:], sampling.alpha_bar[:-1])
    assert sampling.alpha_bar[-1].item() == pytest.approx(0.0236, abs=1e-4)  # alpha_bar[900], not [999]


def test_ddim_step_follows_the_forward_process_of_a_known_x0():
    """With x_t = sqrt(a) x0 + sqrt(1-a) eps and a perfect x0, eq. 12 gives sqrt(a') x0 + sqrt(1-a') eps."""
    generator = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(2, 3, 5, 4, generator=generator, dtype=torch.float64)
    alpha_bar_t, alpha_bar_prev = torch.tensor(0.3, dtype=torch.float64), torch.tensor(0.8, dtype=torch.float64)
    x_t = alpha_bar_t.sqrt() * x0 + (1 - alpha_bar_t).sqrt() * eps
    step = ddim_step(x_t, x0, alpha_bar_t, alpha_bar_prev)
    expected = alpha_bar_prev.sqrt() * x0 + (1 - alpha_bar_prev).sqrt() * eps
    torch.testing.assert_close(step.prev_sample, expected, rtol=1e-12, atol=1e-12)
    assert step.pred_original_sample is x0


def test_ddim_sample_with_a_constant_denoiser_ends_at_its_x0():
    """The last step goes to alpha_bar_prev = 1, so the sample is the final x0 prediction."""
    target = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(1, 3, 4)
    z = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    out = ddim_sample(lambda x, t, cond: target.expand_as(x), z, respace(cosine_schedule(), 5), None)
    torch.testing.assert_close(out, target.expand_as(z), rtol=0, atol=1e-12)


def test_ddim_sample_passes_original_timesteps_and_reports_progress():
    seen, progress = [], []

    def denoise(x, t, cond):
        seen.append(t.tolist())
        return x * cond

    z = torch.ones(2, 3)
    ddim_sample(denoise, z, respace(cosine_schedule(), 4), 0.5,
                callback=lambda done, total, step: progress.append((done, total, step.prev_sample.shape)))
    assert seen == [[750, 750], [500, 500], [250, 250], [0, 0]]
    assert progress == [(k, 4, (2, 3)) for k in range(1, 5)]


def test_ddim_sample_gradient_matches_finite_differences():
    """A linear-tanh denoiser: the sampler's gradient in z (float64) passes gradcheck."""
    weight = torch.randn(4, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64) / 2
    schedule = respace(cosine_schedule(), 3)

    def sample(z):
        return ddim_sample(lambda x, t, cond: torch.tanh(x @ weight) * (1 + t[:, None] / 1000), z, schedule, None)

    z = torch.randn(2, 4, generator=torch.Generator().manual_seed(4), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(sample, (z,), fast_mode=True)


def test_initial_noise_is_reproducible_per_seed():
    batch = initial_noise([3, 7], (5, 2))
    alone = initial_noise([7], (5, 2))
    assert batch.shape == (2, 5, 2) and batch.dtype == torch.float32
    torch.testing.assert_close(batch[1], alone[0], rtol=0, atol=0)
    torch.testing.assert_close(batch[0], torch.randn(5, 2, generator=torch.Generator().manual_seed(3)), rtol=0, atol=0)
    assert not torch.equal(batch[0], batch[1])
