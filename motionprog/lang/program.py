"""``Program``: a compiled constraint program, and ``compile`` (source or path -> Program).

See docs/architecture.md for the contract the optimizer relies on. Reading and checking
(``read_source``, ``check_text``) import no torch, so ``check`` and the language server stay
light; the compiled ``Program`` imports it when built.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from motionprog.errors import InputError
from motionprog.lang import ast, ir
from motionprog.lang.checker import check
from motionprog.lang.diagnostics import Diagnostic, ProgramError, error, has_errors
from motionprog.lang.imports import parse_file, read_text_file, refusal

if TYPE_CHECKING:
    from torch import Tensor

LOSS_TEMPERATURE = 0.01
"""Smooth min/max temperature and hinge softness of the loss, in each constraint's unit."""


@dataclass(frozen=True)
class ConstraintInfo:
    """What a report says about a constraint or objective.

    ``joints``: indices of the joints it names (a joint, an alias or a group, ``collide``
    included; ``com`` and ``facing`` name none), taken from the checked IR, sorted.
    ``stop``: for an objective with ``until T``, the margin at which it is met (``T`` for
    maximize, ``-T`` for minimize, as margins are signed so larger is better); else None.
    """

    name: str
    source: str
    hard: bool
    weight: float
    unit: str
    kind: str
    description: str
    joints: tuple[int, ...] = ()
    stop: float | None = None

    @classmethod
    def of(cls, constraint: ir.Constraint) -> ConstraintInfo:
        """The report facts of one checked constraint."""
        named = ir.named_joints(constraint.body) | (ir.named_joints(constraint.when) if constraint.when else set())
        return cls(constraint.name, constraint.source, constraint.hard, constraint.weight, constraint.unit,
                   constraint.kind, constraint.description, tuple(sorted(named)), constraint.stop)


class Program:
    """A checked, compiled program: margins and loss over joints ``[B, T, 22, 3]``.

    Attributes follow docs/architecture.md: ``text`` (the prompts of ``parts`` joined by
    "then"), ``parts`` (``ir.Part``: each stretch of the timeline and its prompt), ``frames``, ``fps``, ``seeds``, ``model``,
    ``relax`` (``ir.Relax``: which placement is free, and the pivot of the turn), ``relaxed``
    (either is free), ``constraints`` (ConstraintInfo), ``scene`` (geometry objects with
    ``to_dict()``), and ``ir`` (the checked program). ``finish_line`` [K] (float64): a seed
    needs no more work once ``margins >= finish_line`` everywhere (0 for constraints, the
    ``until`` value of objectives that have one, +inf for other objectives).

    Editing (``motionprog edit``): ``reads_input`` says whether a constraint reads the input
    motion (``input.x``), ``input`` holds its joints [1, T, 22, 3] once bound by
    :meth:`with_input`, and ``changes`` the frames ``keep outside a .. b`` lets change (None
    without ``keep``).
    """

    def __init__(self, program: ir.Program, diagnostics: tuple[Diagnostic, ...] = (),
                 input_joints: Tensor | None = None):
        import torch

        self.ir = program
        self.parts = program.parts or (ir.Part(program.prompt, 0, program.frames),)
        self.text = " then ".join(part.prompt for part in self.parts)
        self.frames = program.frames
        self.fps = program.fps
        self.seeds = program.seeds
        self.model = program.model
        self.relax = program.relax
        self.relaxed = program.relax.yaw or program.relax.xz
        self.scene = tuple(obj for _, obj in program.scene)
        self.diagnostics = diagnostics
        self.constraints = tuple(ConstraintInfo.of(c) for c in program.constraints)
        self.changes = program.changes
        self.reads_input = any(ir.uses_input(c.body) or (c.when is not None and ir.uses_input(c.when))
                               for c in program.constraints)
        self.input = input_joints
        self._objects = dict(program.scene)
        self._weights = torch.tensor([c.weight for c in program.constraints], dtype=torch.float64)
        self._objective = torch.tensor([c.kind == "objective" for c in program.constraints], dtype=torch.bool)
        self.finish_line = torch.tensor([finish_line(c) for c in program.constraints], dtype=torch.float64)
        self._windows = torch.zeros(len(program.constraints), max(program.frames, 1), dtype=torch.bool)
        for k, constraint in enumerate(program.constraints):
            self._windows[k, list(constraint.frames)] = True

    def with_input(self, joints: Tensor) -> Program:
        """This program bound to the input motion of an edit: joints [1, T, 22, 3] (metres)."""
        if tuple(joints.shape) != (1, self.frames, 22, 3):
            raise InputError(f"the input motion must have shape [1, {self.frames}, 22, 3], got {list(joints.shape)}")
        return Program(self.ir, self.diagnostics, joints.detach())

    def _evaluate(self, joints: Tensor, temperature: float) -> tuple[Tensor, Tensor]:
        import torch

        from motionprog.lang.compiler import Context, margin

        if joints.ndim != 4 or joints.shape[2:] != (22, 3):
            raise InputError(f"joints must have shape [B, T, 22, 3], got {list(joints.shape)}")
        if joints.shape[1] != self.frames:
            raise InputError(f"the program is for {self.frames} frames but the joints have {joints.shape[1]}")
        if self.reads_input and self.input is None:
            raise InputError("the program reads the input motion ('input.'); bind one with Program.with_input "
                             "or run it with motionprog edit")
        batch = joints.shape[0]
        if not self.ir.constraints:
            empty = joints.new_zeros(batch, 0)
            return empty, joints.new_zeros(batch, 0, self.frames)
        totals, frames = [], []
        windows = self._windows.to(joints.device)
        for constraint, window in zip(self.ir.constraints, windows):
            ctx = Context(joints, self._objects, window, temperature, self.input)
            total, per_frame = margin(constraint, ctx)
            totals.append(total)
            frames.append(torch.where(window, per_frame, torch.nan))
        return torch.stack(totals, dim=1), torch.stack(frames, dim=1)

    def margins(self, joints: Tensor) -> Tensor:
        """Exact margins [B, K] (positive = satisfied; objectives: value, larger is better)."""
        return self._evaluate(joints, 0.0)[0]

    def per_frame_margins(self, joints: Tensor) -> Tensor:
        """Per-frame margins [B, K, T], NaN outside each constraint's window."""
        return self._evaluate(joints, 0.0)[1]

    def loss(self, joints: Tensor, temperature: float = LOSS_TEMPERATURE) -> Tensor:
        """[B]: sum of weighted smooth hinges of constraint margins minus weighted objective values
        (an objective with ``until`` counts up to its finish line: smooth ``min(value, stop)``)."""
        import torch

        from motionprog.numerics import smooth_min, violation

        margins = self._evaluate(joints, temperature)[0]
        weights = self._weights.to(device=joints.device, dtype=joints.dtype)
        objective = self._objective.to(joints.device)
        line = self.finish_line.to(device=joints.device, dtype=joints.dtype)
        reached = smooth_min(torch.stack([margins, line.expand_as(margins)], dim=-1), temperature=temperature)
        terms = torch.where(objective, -reached, violation(margins, temperature))
        return (terms * weights).sum(dim=-1)


def finish_line(constraint: ir.Constraint) -> float:
    """The margin from which a constraint or objective needs no more work: 0 for a constraint,
    the ``until`` value for an objective with one, infinity for an objective without."""
    if constraint.kind != "objective":
        return 0.0
    return math.inf if constraint.stop is None else constraint.stop


def read_source(path: str | os.PathLike) -> tuple[str | None, list[Diagnostic]]:
    """The text of a program file, or a diagnostic (missing, a device or system file, too large,
    not UTF-8 text). The diagnostic never holds the file's content."""
    path = Path(path)
    problem = refusal(path, (path.resolve().parent,))
    text = None
    if problem is None:
        text, problem = read_text_file(path)
    if problem and problem.startswith("cannot find"):
        problem = f"cannot read {path}: no such file"
    return (text, []) if problem is None else (None, [error("E102", problem, None)])


def check_text(source: str, filename: str = "<program>", frames: int | None = None,
               allow_paths: Iterable[str | os.PathLike] = (), editing: bool = False
               ) -> tuple[ir.Program | None, list[Diagnostic]]:
    """Parse and check source text: (IR or None, every diagnostic).

    A file that fails to parse is quoted only when it is a ``.mprog`` file or text given directly
    (docs/security.md); ``allow_paths`` lists directories outside the program's own that its
    imports and meshes may read; ``editing`` allows ``input.x`` and ``keep`` (``motionprog edit``).
    """
    module, diagnostics = parse_file(source, filename)
    if module is None:
        return None, diagnostics
    return check(module, frames, allow_paths, editing)


def compile_module(module: ast.Module, frames: int | None = None,
                   allow_paths: Iterable[str | os.PathLike] = (), editing: bool = False) -> Program:
    """Check and compile a syntax tree (parsed, or made by the builder); ProgramError on errors."""
    program, diagnostics = check(module, frames, allow_paths, editing)
    if program is None or has_errors(diagnostics):
        raise ProgramError(diagnostics)
    return Program(program, tuple(diagnostics))


def compile(source_or_path: str | os.PathLike, *, filename: str | None = None,
            frames: int | None = None, allow_paths: Iterable[str | os.PathLike] = (),
            editing: bool = False) -> Program:
    """Compile a program given as source text or as a path to a ``.mprog`` file.

    A ``Path``, or a one-line string ending in ``.mprog``, is read as a file. ``frames``
    overrides the header's length; ``allow_paths`` are directories outside the program's own
    that its imports and meshes may read; ``editing`` allows ``input.x`` and ``keep`` (a program
    for ``motionprog edit``). Raises ``ProgramError`` (with ``.diagnostics``) on errors.
    """
    is_path = isinstance(source_or_path, os.PathLike) or (
        "\n" not in source_or_path and source_or_path.strip().endswith(".mprog"))
    text, filename = source_or_path, filename or "<program>"
    if is_path:
        text, diagnostics = read_source(source_or_path)
        filename = filename if filename != "<program>" else str(source_or_path)
        if text is None:
            raise ProgramError(diagnostics)
    module, diagnostics = parse_file(text, filename)
    if module is None:
        raise ProgramError(diagnostics)
    return compile_module(module, frames, allow_paths, editing)
