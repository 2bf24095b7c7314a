"""From noise to the measured body: z -> features (the distilled student, or K DDIM steps of the
teacher) -> joints (rigid skeleton) -> placed joints (relaxed goals).

The search decodes through the student whenever the model has one: one network evaluation
instead of K steps with two guidance passes each. The latent is the teacher's DDIM start
noise either way, so the teacher can decode the same z afterwards (``redecode.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from motionprog.body.kinematics import project_keeping_contacts
from motionprog.body.placement import place
from motionprog.models.protocol import DistilledModel, MotionModel
from motionprog.optimize.windows import Timeline, latents, timeline_of

if TYPE_CHECKING:
    from motionprog.lang.program import Program

STUDENT = 0
"""``steps`` value that names the distilled student (one evaluation, no DDIM steps)."""


def has_student(model: MotionModel, guidance: float | None = None) -> bool:
    """True when ``model`` carries a distilled student for ``guidance`` (None: its default)."""
    student = getattr(model, "student", None) if isinstance(model, DistilledModel) else None
    return student is not None and (guidance is None or guidance == student.guidance)


def search_steps(model: MotionModel, steps: int | None, guidance: float | None) -> int:
    """The decode the search uses: ``steps`` DDIM steps when given, else the student
    (``STUDENT``) when the model has one for this guidance, else the model's default steps."""
    if steps is not None:
        return steps
    return STUDENT if has_student(model, guidance) else model.default_steps


@dataclass(frozen=True)
class Decoder:
    """z [B, *latent] -> (normalised features [B, T, D], joints [B, T, 22, 3] metres, unplaced).

    steps:      DDIM steps of the teacher, or ``STUDENT``.
    guidance:   classifier-free guidance scale of the teacher (None: the model's default).
    rigid:      project the joints onto the rigid skeleton (same bone directions, rest bone
                lengths, floor contacts kept): constraints are measured on, and the output
                is, a body whose bones keep their length.
    checkpoint: keep no activations of the decode for the backward pass and run it again
                during it (torch.utils.checkpoint), trading time for memory.
    timeline:   the overlapping windows of a motion longer than the model's window or with
                several prompts (``windows.py``; z then spans the whole timeline); None: one window.
    """

    model: MotionModel
    text: str
    steps: int
    guidance: float | None
    rigid: bool
    checkpoint: bool = False
    timeline: Timeline | None = None

    @classmethod
    def of(cls, program: Program, model: MotionModel, steps: int, guidance: float | None, rigid: bool,
           checkpoint: bool = False) -> Decoder:
        """The decoder of ``program``'s prompt(s) and windows on ``model``."""
        return cls(model, program.text, steps, guidance, rigid, checkpoint, timeline_of(program, model))

    def latents(self, seeds: list[int], frames: int) -> Tensor:
        """The start noise of ``seeds`` for ``frames`` frames: the model's own for one window, else
        one sequence over the whole timeline that every window takes its slice of."""
        return latents(self.model, self.timeline, seeds, frames)

    def features(self, z: Tensor) -> Tensor:
        if self.timeline is not None:
            return self.timeline.decode(z, self.window_features)
        return self.window_features(z, self.text)

    def window_features(self, z: Tensor, text: str | list[str]) -> Tensor:
        """One window's decode: z [B, L, D] -> normalised features [B, L, D]."""
        if self.steps == STUDENT:
            return self.model.decode_distilled(z, text)
        return self.model.decode(z, text, self.steps, guidance=self.guidance)

    def joints(self, features: Tensor) -> Tensor:
        joints = self.model.to_joints(features)
        return project_keeping_contacts(joints) if self.rigid else joints

    def _run(self, z: Tensor) -> tuple[Tensor, Tensor]:
        features = self.features(z)
        return features, self.joints(features)

    def __call__(self, z: Tensor) -> tuple[Tensor, Tensor]:
        if self.checkpoint and torch.is_grad_enabled():
            return checkpoint(self._run, z, use_reentrant=False)
        return self._run(z)


def place_joints(program: Program, joints: Tensor, yaw: Tensor, xz: Tensor) -> Tensor:
    """Apply the rigid placement (yaw [B] rad about +Y through the program's pivot, xz [B, 2] m)
    when the program is relaxed (``program.relax`` says which of the two is free)."""
    return place(joints, yaw, xz, program.relax.pivot) if program.relaxed else joints
