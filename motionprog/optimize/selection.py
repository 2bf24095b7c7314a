"""Choosing the seed to keep: fewest violated hard constraints, then least violation, then the
most natural motion."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from motionprog import metrics

VIOLATION_RESOLUTION = 1e-3
"""Total violations closer than this (1 mm for metre-valued margins) count as equal, so that
naturalness decides between seeds that are equally close to satisfying the program."""


def naturalness(joints: Tensor) -> dict[str, Tensor]:
    """Naturalness metrics per seed of joints [B, T, 22, 3] (metres, Y up, 20 fps), each [B].

    foot_skating_ratio: ProgMoGen's ratio of frames where a foot below 5 cm slides faster than
    0.5 m/s; max_acceleration: m/s^2; floor_penetration: metres below the floor; bone_length_drift:
    metres (see ``motionprog.metrics``).
    """
    with torch.no_grad():
        return {name: value.detach().float().cpu() for name, value in metrics.naturalness(joints).items()}


def naturalness_score(values: dict[str, Tensor]) -> Tensor:
    """[B] one number per seed, smaller is more natural: the skating ratio plus the maximum
    acceleration in units of 100 m/s^2 plus the floor penetration and bone drift in metres."""
    return (values["foot_skating_ratio"] + values["max_acceleration"] / 100.0
            + values["floor_penetration"] + values["bone_length_drift"])


def choose_best(count: Tensor, total: Tensor, score: Tensor) -> int:
    """Index of the seed with the fewest violated hard constraints, then the smallest total
    violation (to ``VIOLATION_RESOLUTION``), then the smallest naturalness score. count, total,
    score: [B]; ties go to the lowest index."""
    keys = (score.double().cpu().numpy(),
            np.round(total.double().cpu().numpy() / VIOLATION_RESOLUTION),
            count.cpu().numpy())
    return int(np.lexsort(keys)[0])
