"""The DDIM schedule and sampler: no model inside (the caller passes a denoiser)."""

from motionprog.sampling.ddim import DDIMStep, Denoiser, ddim_sample, ddim_step, initial_noise
from motionprog.sampling.schedule import NoiseSchedule, SamplingSchedule, cosine_schedule, respace, respaced_timesteps

__all__ = [
    "DDIMStep", "Denoiser", "NoiseSchedule", "SamplingSchedule", "cosine_schedule", "ddim_sample",
    "ddim_step", "initial_noise", "respace", "respaced_timesteps",
]
