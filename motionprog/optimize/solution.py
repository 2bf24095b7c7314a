"""The optimizer's values: an :class:`Iterate` (every seed's state at one evaluation, a batched
value with indexing and ``where``), the per-evaluation :class:`History`, and the
:class:`Solution` a search returns."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
from torch import Tensor


@dataclass(frozen=True)
class Iterate:
    """B seeds at one evaluation (all tensors detached, on the model's device).

    z:        [B, *latent] the initial noise.
    yaw:      [B] rotation about +Y of the placement, radians (zeros unless relaxed).
    xz:       [B, 2] ground translation of the placement, metres (zeros unless relaxed).
    features: [B, T, D] normalised features decoded from z.
    joints:   [B, T, 22, 3] global joint positions (placed), metres, Y up, 20 fps.
    margins:  [B, K] margins of ``joints``, each in its constraint's unit.
    loss:     [B] program loss of ``joints``.
    steps:    [B] int, DDIM steps ``features`` were decoded with (0: the distilled student).
    """

    z: Tensor
    yaw: Tensor
    xz: Tensor
    features: Tensor
    joints: Tensor
    margins: Tensor
    loss: Tensor
    steps: Tensor

    def __len__(self) -> int:
        return int(self.z.shape[0])

    def _map(self, fn) -> Iterate:
        return Iterate(**{f.name: fn(getattr(self, f.name)) for f in fields(self)})

    def __getitem__(self, index: int | slice | Tensor | list[int]) -> Iterate:
        """The seeds at ``index``; an int keeps a batch of one."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return self._map(lambda value: value[index])

    def where(self, take: Tensor, other: Iterate) -> Iterate:
        """Per seed, this iterate where ``take`` [B] is true, else ``other``."""
        return Iterate(**{
            f.name: torch.where(take.view(-1, *[1] * (getattr(self, f.name).dim() - 1)),
                                getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)
        })

    def put(self, index: int, seed: Iterate) -> Iterate:
        """A copy with seed ``index`` replaced by the one seed of ``seed``."""
        take = torch.zeros(len(self), dtype=torch.bool, device=self.z.device)
        take[index] = True
        return seed[[0] * len(self)].where(take, self)

    def clone(self) -> Iterate:
        return self._map(lambda value: value.detach().clone())


@dataclass(frozen=True)
class History:
    """Per-evaluation record for plots and time-to-satisfy (N evaluations, B seeds, K constraints).

    time_s:    [N] seconds since the start when the evaluation finished.
    loss:      [N, B] program loss per seed.
    margins:   [N, B, K] margins, each in its constraint's unit.
    satisfied: [N] number of seeds satisfying every hard constraint.
    """

    time_s: Tensor
    loss: Tensor
    margins: Tensor
    satisfied: Tensor


@dataclass(frozen=True)
class Solution:
    """What a search found: ``best`` (each seed's kept iterate), the Adam updates made, the
    history, and why the run stopped early on a non-finite value (None when it did not)."""

    best: Iterate
    iterations: int
    history: History
    error: str | None = None

    def with_best(self, best: Iterate) -> Solution:
        return replace(self, best=best)
