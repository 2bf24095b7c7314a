"""The measurement behind the long-motion method (docs/optimizer.md, "Long motions"): ways of
joining windows of the bundled prior over 30 s of "a person walks forward", 8 seeds, no
optimisation, one CPU thread.

    OMP_NUM_THREADS=1 python scripts/long_motion_methods.py

Per method: the largest joint acceleration in the frames neighbouring windows share over the
largest elsewhere (median over seeds and the worst seed), the medians of both (m/s^2), how much
neighbours disagree on their shared frames (mean absolute difference of normalised features)
and the decode time. The per-step and autoregressive methods call the bundled denoiser inside
their own DDIM loop, which the MotionModel protocol does not offer, so they live here only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor

from motionprog.lang.ir import Part
from motionprog.models.bundled import load_bundled
from motionprog.optimize.decode import STUDENT, Decoder
from motionprog.optimize.windows import Timeline, plan, seam_acceleration
from motionprog.sampling.ddim import ddim_step, initial_noise
from motionprog.sampling.schedule import respace

TEXT = "a person walks forward"
FRAMES, SEEDS, STEPS, GUIDANCE = 600, list(range(8)), 6, 2.0


def guided(model, batch: int) -> Callable[[Tensor, Tensor], Tensor]:
    """The teacher's classifier-free-guided x0 prediction for ``batch`` rows of ``TEXT``."""
    text = model.embed(TEXT, batch)
    keep = torch.cat([torch.ones(batch), torch.zeros(batch)])

    def denoise(x_t: Tensor, t: Tensor) -> Tensor:
        both = model.denoiser(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([text, text]), keep)
        conditional, unconditional = both.chunk(2)
        return unconditional + GUIDANCE * (conditional - unconditional)

    return denoise


def shared_every_step(model, timeline: Timeline, z: Tensor) -> Tensor:
    """DDIM over the whole timeline whose x0 prediction is the windows' cross-faded one at every step."""
    schedule = respace(model._noise, STEPS)
    denoise = guided(model, z.shape[0] * len(timeline.windows))
    x = z
    for index in reversed(range(schedule.num_steps)):
        t = schedule.timesteps[index].expand(z.shape[0] * len(timeline.windows))
        x0 = timeline.decode(x, lambda rows, texts: denoise(rows, t))
        x = ddim_step(x, x0, schedule.alpha_bar[index], schedule.alpha_bar_prev[index]).prev_sample
    return x


def autoregressive(model, timeline: Timeline, z: Tensor) -> Tensor:
    """Each window decoded after the previous one, its shared frames replaced at every step by
    the previous window's result noised to that step (inpainting), then appended."""
    schedule = respace(model._noise, STEPS)
    denoise = guided(model, z.shape[0])
    out: Tensor | None = None
    for index, window in enumerate(timeline.windows):
        shared = timeline.windows[index - 1].stop - window.start if index else 0
        noise = z[:, window.start:window.stop]
        x = noise
        for step in reversed(range(schedule.num_steps)):
            t = schedule.timesteps[step].expand(z.shape[0])
            x = ddim_step(x, denoise(x, t), schedule.alpha_bar[step], schedule.alpha_bar_prev[step]).prev_sample
            if shared:
                level = schedule.alpha_bar_prev[step].float()
                known = level.sqrt() * out[:, window.start:window.start + shared] + (1 - level).sqrt() * noise[:, :shared]
                x = torch.cat([known, x[:, shared:]], 1)
        out = x if out is None else torch.cat([out, x[:, shared:]], 1)
    return out


def disagreement(windows: list[Tensor], timeline: Timeline) -> float:
    """Mean absolute difference of neighbouring windows' features on the frames they share."""
    gaps = [(windows[i][:, b.start - a.start:] - windows[i + 1][:, :a.stop - b.start]).abs().mean()
            for i, (a, b) in enumerate(zip(timeline.windows, timeline.windows[1:]))]
    return float(torch.stack(gaps).mean())


def line(name: str, features: Tensor, timeline: Timeline, decoder: Decoder, seconds: float | None,
         disagree: float | None = None) -> str:
    seam, other = seam_acceleration(decoder.joints(features), timeline, 20)
    ratio = seam / other
    return (f"{name}: {float(ratio.median()):.2f} ({float(ratio.max()):.2f}), {float(seam.median()):.1f}, "
            f"{float(other.median()):.1f}" + (f", disagreement {disagree:.3f}" if disagree is not None else "")
            + (f", {seconds:.2f} s" if seconds is not None else ""))


def main() -> None:
    torch.set_num_threads(1)
    model = load_bundled("cpu")
    model.embed(TEXT, 1)  # loads the text encoder before anything is timed
    timeline = plan((Part(TEXT, 0, FRAMES),), FRAMES, model.max_frames)
    z = initial_noise(SEEDS, (FRAMES, 67))
    fresh = [initial_noise([100 * (i + 1) + s for s in SEEDS], (w.frames, 67)) for i, w in enumerate(timeline.windows)]
    cuts = [0, *((a + b) // 2 for a, b in timeline.seams), FRAMES]
    with torch.no_grad():
        for steps, name in ((STUDENT, "student"), (STEPS, "teacher")):
            decoder = Decoder(model, TEXT, steps, None, True, timeline=timeline)
            started = time.perf_counter()
            features = decoder.features(z)
            seconds = time.perf_counter() - started
            own = [decoder.window_features(z[:, w.start:w.stop], TEXT) for w in timeline.windows]
            print(line(f"shared noise, cross-fade, {name}", features, timeline, decoder, seconds,
                       disagreement(own, timeline)))
            apart = [decoder.window_features(n, TEXT) for n in fresh]
            print(line(f"independent noise, cross-fade, {name}", timeline.decode(z, lambda r, t: torch.cat(apart)),
                       timeline, decoder, None, disagreement(apart, timeline)))
            cut = torch.cat([own[i][:, cuts[i] - w.start:cuts[i + 1] - w.start] for i, w in enumerate(timeline.windows)], 1)
            print(line(f"shared noise, cut, {name}", cut, timeline, decoder, None))
        for name, method in (("x0 cross-faded at every step", shared_every_step), ("autoregressive", autoregressive)):
            started = time.perf_counter()
            features = method(model, timeline, z)
            print(line(f"{name}, teacher", features, timeline, decoder, time.perf_counter() - started))


if __name__ == "__main__":
    main()
