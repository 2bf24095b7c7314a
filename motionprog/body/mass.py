"""Whole-body centre of mass of the 22-joint skeleton from de Leva's segment parameters.

The segments, their mass fractions and centre ratios are the table in
:mod:`motionprog.body.segments`. Every landmark is a fixed linear combination of joints, so the
centre of mass is one weighted sum ``com = sum_j w_j * joints_j`` with ``sum_j w_j = 1``: linear,
exact to differentiate, cheap. Joints ``[..., 22, 3]``, metres, Y up.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

from motionprog.body.segments import MASSES, landmark_matrix

_RATIOS = np.array([s.com_ratio for s in MASSES])[:, None]

SEGMENT_MATRIX = (1 - _RATIOS) * landmark_matrix([s.proximal for s in MASSES]) + _RATIOS * landmark_matrix(
    [s.distal for s in MASSES]
)
"""[14, 22]: segment centres = SEGMENT_MATRIX @ joints (order of ``segments.MASSES``); rows sum to 1."""


def com_weights(include_head: bool = True, loads: Mapping[int, float] | None = None) -> np.ndarray:
    """Weights [22] (summing to 1) with ``com = weights @ joints``.

    include_head: False drops the head segment and renormalises the rest.
    loads: extra point masses at joints, {joint index: mass as a fraction of body mass}
           (e.g. a ball held in both hands: {20: 0.05, 21: 0.05}).
    """
    fractions = np.array([0.0 if s.name == "head" and not include_head else s.mass_fraction for s in MASSES])
    weights = fractions @ SEGMENT_MATRIX
    for joint, mass in (loads or {}).items():
        weights[joint] += mass
    return weights / weights.sum()


def com(joints: Tensor, include_head: bool = True, loads: Mapping[int, float] | None = None) -> Tensor:
    """Whole-body centre of mass, the mass-weighted mean of the segment centres.

    joints: [..., 22, 3] metres (Y up) -> [..., 3] metres. See :func:`com_weights` for options.
    """
    weights = torch.as_tensor(com_weights(include_head, loads), dtype=joints.dtype, device=joints.device)
    return torch.einsum("j,...jc->...c", weights, joints)
