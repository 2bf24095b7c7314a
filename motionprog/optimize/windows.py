"""Motions longer than the model's window: one long noise, decoded as overlapping windows and
cross-faded in feature space (docs/optimizer.md, "Long motions").

The latent of a long motion is one noise sequence [B, T, D] over the whole timeline; each
window decodes its own slice of it, so neighbouring windows start from the very same noise in
the frames they share, and every window's noise is a variable of the one search. The decoded
windows are blended over their overlaps with raised-cosine weights that sum to one, in the
model's normalised features, before the features become joints: the features are relative
(root velocities, root-relative joints with the heading removed), so the root trajectory is
integrated once over the whole timeline and the seams are continuous in position and velocity.

Each part of a program (``then``) gets windows of its own, widened by half an overlap into its
neighbours, so every window has one prompt and the prompt changes inside a cross-fade.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from motionprog.body.quantities import acceleration
from motionprog.errors import InputError
from motionprog.models.protocol import MotionModel
from motionprog.numerics import safe_norm
from motionprog.sampling.ddim import initial_noise

if TYPE_CHECKING:
    from motionprog.lang.ir import Part
    from motionprog.lang.program import Program

OVERLAP = 40
"""Frames neighbouring windows share at least (2 s at 20 fps; a third of a shorter model window)."""

MAX_DECODED_FRAMES = 64 * 196
"""Most window frames decoded per evaluation (seeds x frames of every window): what the
largest one-window program (64 seeds of 196 frames) decodes, which bounds memory."""

WindowDecode = Callable[[Tensor, list[str]], Tensor]
"""Decodes window noise [N, L, D] with one prompt per row into normalised features [N, L, D']."""


@dataclass(frozen=True)
class Window:
    """Frames ``start .. start + frames - 1`` of the timeline, decoded with ``text``."""

    start: int
    frames: int
    text: str

    @property
    def stop(self) -> int:
        return self.start + self.frames


@dataclass(frozen=True)
class Timeline:
    """The windows of a long motion of ``frames`` frames, in order of their start."""

    frames: int
    windows: tuple[Window, ...]

    def weights(self, index: int) -> Tensor:
        """[frames of window ``index``] cross-fade weights: a raised-cosine ramp over the frames
        it shares with each neighbour, 1 elsewhere; over the timeline they sum to 1."""
        window = self.windows[index]
        before = min(self.windows[index - 1].stop - window.start, window.frames) if index > 0 else 0
        after = min(window.stop - self.windows[index + 1].start, window.frames) if index + 1 < len(self.windows) else 0
        weight = torch.ones(window.frames, dtype=torch.float64)
        if before > 0:
            weight[:before] *= ramp(before)
        if after > 0:
            weight[-after:] *= ramp(after).flip(0)
        return weight

    def decode(self, z: Tensor, decode: WindowDecode) -> Tensor:
        """Long noise z [B, T, D] -> blended features [B, T, D']: windows of one length are
        decoded in one batch (window-major rows), then weighted into the timeline."""
        batch = z.shape[0]
        cover = sum(_placed(self.weights(i), w.start, self.frames) for i, w in enumerate(self.windows))
        out: Tensor | None = None
        order = sorted(range(len(self.windows)), key=lambda i: self.windows[i].frames)
        for _, group in groupby(order, key=lambda i: self.windows[i].frames):
            group = list(group)
            rows = torch.cat([z[:, self.windows[i].start:self.windows[i].stop] for i in group])
            features = decode(rows, [self.windows[i].text for i in group for _ in range(batch)])
            out = features.new_zeros(batch, self.frames, features.shape[-1]) if out is None else out
            for k, i in enumerate(group):
                window = self.windows[i]
                weight = (self.weights(i) / cover[window.start:window.stop]).to(features)
                out[:, window.start:window.stop] += weight[None, :, None] * features[k * batch:(k + 1) * batch]
        assert out is not None
        return out

    def to_json(self) -> list[dict[str, int | str]]:
        """The windows as the report gives them: ``start``, ``frames``, ``text``."""
        return [{"start": w.start, "frames": w.frames, "text": w.text} for w in self.windows]

    @property
    def seams(self) -> tuple[tuple[int, int], ...]:
        """The frames ``(first, stop)`` each pair of neighbouring windows shares."""
        return tuple((b.start, a.stop) for a, b in zip(self.windows, self.windows[1:]))


def ramp(frames: int) -> Tensor:
    """[frames] rising raised cosine, sampled at frame centres (never exactly 0 or 1)."""
    phase = (torch.arange(frames, dtype=torch.float64) + 0.5) / frames
    return 0.5 - 0.5 * torch.cos(math.pi * phase)


def _placed(weight: Tensor, start: int, frames: int) -> Tensor:
    """``weight`` written into a timeline of ``frames`` zeros at ``start``."""
    timeline = torch.zeros(frames, dtype=weight.dtype)
    timeline[start:start + weight.shape[0]] = weight
    return timeline


def spread(start: int, stop: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """(start, frames) of the fewest windows of at most ``window`` frames that cover
    ``start .. stop - 1`` with neighbours sharing at least ``overlap`` frames, spread evenly."""
    length = stop - start
    if length <= window:
        return [(start, length)]
    count = math.ceil((length - overlap) / (window - overlap))
    return [(start + round(i * (length - window) / (count - 1)), window) for i in range(count)]


def reach(part: Part, frames: int, window: int, overlap: int) -> int:
    """Frames a part's windows reach into each neighbouring part: half an overlap, or down to
    a quarter of one when that lets a single window hold the part."""
    sides = (part.start > 0) + (part.start + part.frames < frames)
    if sides and part.frames + sides * (overlap // 4) <= window < part.frames + sides * (overlap // 2):
        return (window - part.frames) // sides
    return overlap // 2


def plan(parts: Sequence[Part], frames: int, window: int, overlap: int = OVERLAP) -> Timeline:
    """The windows of a timeline of ``frames`` frames cut into ``parts``: each part is widened
    into its neighbours (:func:`reach`) and covered by :func:`spread` windows."""
    overlap = min(overlap, window // 3)
    windows: list[Window] = []
    for part in parts:
        widen = reach(part, frames, window, overlap)
        first = max(part.start - widen, 0)
        stop = min(part.start + part.frames + widen, frames)
        windows += [Window(s, n, part.prompt) for s, n in spread(first, stop, window, overlap)]
    return Timeline(frames, tuple(windows))


def timeline_of(program: Program, model: MotionModel) -> Timeline | None:
    """The windows ``program`` is decoded in on ``model``; None when one window of the model
    holds the whole motion with one prompt (decoded as it always was)."""
    if len(program.parts) == 1 and program.frames <= model.max_frames:
        return None
    return plan(program.parts, program.frames, model.max_frames)


def check_length(program: Program, model: MotionModel, seeds: int) -> None:
    """InputError when ``seeds`` seeds of ``program`` would decode more window frames per
    evaluation than ``MAX_DECODED_FRAMES``."""
    timeline = timeline_of(program, model)
    frames = sum(w.frames for w in timeline.windows) if timeline else program.frames
    if seeds * frames > MAX_DECODED_FRAMES:
        windows = len(timeline.windows) if timeline else 1
        raise InputError(
            f"the program asks for {seeds} seed(s) of {program.frames} frames ({program.frames / model.fps:g} s): "
            f"{windows} windows of model '{model.name}' per seed, {seeds * frames} frames to decode per iteration, "
            f"over the limit of {MAX_DECODED_FRAMES}; ask for fewer seeds or a shorter motion"
        )


def latents(model: MotionModel, timeline: Timeline | None, seeds: Sequence[int], frames: int) -> Tensor:
    """The start noise of ``seeds``: the model's own for one window, else one standard normal
    sequence over the whole timeline [B, T, *latent_shape(1)[1:]], reproducible per seed (the
    latent's first axis is time, as in every model of the project)."""
    if timeline is None:
        return model.latents(seeds, frames)
    shape = (frames, *model.latent_shape(1)[1:])
    return initial_noise(seeds, shape, device=model.device, dtype=model.dtype)


def seam_acceleration(joints: Tensor, timeline: Timeline, fps: float) -> tuple[Tensor, Tensor]:
    """([B] the largest joint acceleration in frames neighbouring windows share, [B] the largest
    elsewhere), m/s^2, of joints [B, T, 22, 3]: what a seam costs in smoothness."""
    per_frame = safe_norm(acceleration(joints, fps)).amax(-1)
    seam = torch.zeros(joints.shape[1], dtype=torch.bool, device=joints.device)
    for first, stop in timeline.seams:
        seam[first:stop] = True
    return per_frame[:, seam].amax(1), per_frame[:, ~seam].amax(1)
