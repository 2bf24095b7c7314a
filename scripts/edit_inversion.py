"""Why `motionprog edit` searches in feature space: how far the bundled prior's DDIM inversion
of an input motion lands from it before any edit (docs/optimizer.md, "Editing").

DDIM inversion (eta 0) runs the sampler backwards: from the input's features x0, each step
solves ``x_{i+1} = sqrt(a_{i+1}) x0_hat + sqrt(1 - a_{i+1}) eps`` with the step's own x0 and
noise estimates (a few fixed-point iterations per step, since the x0-predicting denoiser is
evaluated at the noisier level). Decoding the inverted noise with the same K steps should
give the input back; the distance it lands from it is what a latent edit starts from.

Usage: python scripts/edit_inversion.py [MDM_SAMPLES.npz]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from motionprog.models.bundled import load_bundled
from motionprog.motion import load_npz
from motionprog.optimize.edit_input import Placement, feature_joints, input_features
from motionprog.sampling.schedule import cosine_schedule, respace

FIXED_POINT_ITERATIONS = 4


def invert(model, features: torch.Tensor, text: str, steps: int) -> torch.Tensor:
    """Features [1, T, 67] -> the noise [1, T, 67] whose K-step DDIM decode (conditional
    pass only) reproduces them as closely as the fixed point allows."""
    schedule = respace(cosine_schedule(), steps)
    text_emb, keep = model.embed(text, 1), torch.ones(1)
    current = features
    for i in range(steps - 1):
        t = schedule.timesteps[i + 1].expand(1)
        a_next, a_here = schedule.alpha_bar[i + 1].float(), schedule.alpha_bar[i].float()
        following = current
        for _ in range(FIXED_POINT_ITERATIONS):
            x0 = model.denoiser(following, t, text_emb, keep)
            if i == 0:
                eps = (following - a_next.sqrt() * x0) / (1 - a_next).sqrt()
                x0 = features
            else:
                eps = (current - a_here.sqrt() * x0) / (1 - a_here).sqrt()
            following = a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps
        current = following
    return current


def measure(model, joints: torch.Tensor, text: str, steps: int) -> str:
    """One line: the reconstruction error of inversion then decoding, the noise's std, the time."""
    started = time.perf_counter()
    placement = Placement.of(joints)
    with torch.no_grad():
        noise = invert(model, input_features(joints, model.mean, model.std), text, steps)
        decoded = feature_joints(model.decode(noise, text, steps, guidance=1.0), model.mean, model.std, placement)
    error = (decoded - joints).norm(dim=-1).mean(-1)[0]
    return (f"K={steps}: mean {error.mean() * 100:.1f} cm, worst frame {error.max() * 100:.1f} cm, "
            f"noise std {noise.std():.2f}, {time.perf_counter() - started:.1f} s")


def main() -> None:
    torch.set_num_threads(1)
    model = load_bundled()
    clip = load_npz("motionprog/data/cmu_01_01.npz")
    for steps in (6, 20, 50):
        print("CMU 01_01, first 196 frames:", measure(model, torch.tensor(clip.joints[:196])[None],
                                                      "a person jumps forward", steps))
    if len(sys.argv) > 1:
        samples = np.load(sys.argv[1])
        length = int(samples["lengths"][24])
        joints = torch.tensor(samples["joints"][24, :length])[None]
        for steps in (6, 20):
            print("MDM sample 24:", measure(model, joints, str(samples["text"][24]), steps))


if __name__ == "__main__":
    main()
