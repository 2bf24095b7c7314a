"""The optimizer's one frozen configuration; the CLI fills it in, library code only reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from motionprog.errors import InputError

MAX_SEEDS = 64
"""Seeds optimised together at most (the language's limit, docs/security.md)."""

Method = Literal["fast", "progmogen"]


@dataclass(frozen=True)
class OptimizeConfig:
    """Settings of one optimisation run.

    Fast method (``method="fast"``, DNO-style):
        seeds:           seeds optimised together in one batch (None: the program's ``seeds``).
        seed:            base random seed; seed ``seed + b`` draws the noise of batch row b.
        steps:           the decode inside the search: None (default) decodes through the
                         model's distilled one-step student when it has one (else its default
                         DDIM steps); K decodes K DDIM steps of the teacher at every iteration.
        final_steps:     DDIM steps of the teacher's final decode of the optimised noise (None:
                         the model's default after a search through the student, none
                         otherwise; 0: none). Per seed it is kept where it is at least as close
                         to satisfying the program and more natural, or violates less.
        candidates:      candidate noises decoded (without gradients) and scored before the
                         search, which starts from the best ``seeds`` of them (<= seeds: off).
        iterations:      the most Adam iterations; the run stops early once every margin of
                         some seed is >= 0 (programs without objectives).
        patience:        programs with objectives stop once some seed satisfies every hard
                         constraint and the best such seed's loss gained less than 1e-3 over
                         this many iterations (0: run every iteration).
        lr:              peak learning rate on z (the gradient is normalised per seed, so a step
                         moves each seed's z by about ``lr`` in RMS).
        lr_final:        learning rate reached at the last iteration (cosine decay from ``lr``).
        warmup:          iterations of linear warm-up to ``lr``.
        noise_weight:    weight of the penalty that keeps z standard normal (chi-square norm
                         term plus DNO's decorrelation term).
        natural_weight:  weight of the naturalness penalty added to the loss: joint accelerations
                         above 50 m/s^2 and joints below the floor (see ``naturalness_penalty``).
        placement_lr:    learning rate of the per-seed yaw (rad) and XZ shift (m) of relaxed goals.
        checkpoint:      recompute each decode on the backward pass (torch.utils.checkpoint)
                         to save memory at long lengths and many seeds.
        guidance:        classifier-free guidance scale (None: the model's default).
        polish_iterations, polish_lr, polish_smooth_weight, polish_prior_weight: the polish
                         step in feature space (0 iterations: no polish).
        polish_tolerance: how much the polish may worsen a naturalness metric, as a fraction of
                         its value before (plus a small absolute slack), and still be accepted.
        clean_feet:      pin the kept motion's planted feet (``motionprog.body.feet``), kept
                         when no hard constraint gets worse and naturalness passes the polish's
                         acceptance rule (``polish_tolerance``).
        rigid:           project the decoded joints onto the rigid skeleton (rest bone lengths,
                         same root and bone directions) before measuring constraints; the
                         output is that body.
        device:          "auto" (CUDA when available), "cpu" or "cuda".

    Reference method (``method="progmogen"``): ProgMoGen's recipe on the same model, one seed,
    ``progmogen_steps`` DDIM steps (eta 0) with both guidance passes, plain Adam on the noise at
    ``progmogen_lr`` for exactly ``progmogen_iterations`` iterations.
    """

    method: Method = "fast"
    seeds: int | None = None
    seed: int = 0
    steps: int | None = None
    final_steps: int | None = None
    candidates: int = 32
    patience: int = 20
    iterations: int = 150
    lr: float = 0.1
    lr_final: float = 0.01
    warmup: int = 5
    noise_weight: float = 0.05
    natural_weight: float = 0.1
    placement_lr: float = 0.05
    checkpoint: bool = False
    guidance: float | None = None
    polish_iterations: int = 100
    polish_lr: float = 0.01
    polish_smooth_weight: float = 1.0
    polish_prior_weight: float = 0.1
    polish_tolerance: float = 0.2
    clean_feet: bool = True
    rigid: bool = True
    device: str = "auto"
    progmogen_steps: int = 100
    progmogen_iterations: int = 100
    progmogen_lr: float = 0.05

    def __post_init__(self) -> None:
        if self.method not in ("fast", "progmogen"):
            raise InputError(f"method must be 'fast' or 'progmogen', got {self.method!r}")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise InputError(f"device must be auto, cpu or cuda, got {self.device!r}")
        positive = {
            "iterations": self.iterations,
            "progmogen_steps": self.progmogen_steps,
            "progmogen_iterations": self.progmogen_iterations,
        }
        if self.seeds is not None:
            positive["seeds"] = self.seeds
            if self.seeds > MAX_SEEDS:
                raise InputError(f"seeds must be at most {MAX_SEEDS}, got {self.seeds}")
        if self.steps is not None:
            positive["steps"] = self.steps
        for name, value in positive.items():
            if value < 1:
                raise InputError(f"{name} must be at least 1, got {value}")
        for name in ("polish_iterations", "final_steps", "candidates", "patience"):
            if (getattr(self, name) or 0) < 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.lr > 0 or not self.progmogen_lr > 0:
            raise InputError("learning rates must be positive")
