"""Safe numerical primitives: the one place for norms, kinks, smooth min/max and soft temporal logic.

Every function here is pure, batched over leading dimensions, works in any float dtype and
device, and has finite gradients everywhere, including the singular points that constraint
programs hit in practice (a zero-length vector, a joint exactly on a plane, ties in a min).

Smooth min/max use log-sum-exp with a temperature ``tau`` (in the unit of the values):

    smooth_min_tau(x) = -tau * log(sum_i exp(-x_i / tau))

with the bound ``min(x) - tau * log(n) <= smooth_min_tau(x) <= min(x)`` for ``n`` values,
so it is exact as ``tau -> 0`` and ``tau = 0`` gives the hard min (its gradient is shared
equally between tied minima). ``smooth_max`` mirrors it: ``max <= smooth_max <= max + tau log n``.

Kinks (``kink_max``, ``kink_min``, ``kink_clamp``) fix the gradient *at* a bound, where the
derivative is one-sided and torch's choice has changed between releases (``clamp`` passes the
gradient through at its bound in torch 2.13 and blocks it in 2.14). Here the value exactly on the
bound keeps the gradient of ``x``, the side that is still moving: a joint exactly on a box face
gets the face normal, not zero, on every torch version.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


def safe_norm(x: Tensor, dim: int = -1, keepdim: bool = False) -> Tensor:
    """Euclidean norm of ``x`` along ``dim`` with a zero subgradient at the zero vector.

    x: [..., D, ...] -> [...] (``dim`` removed unless ``keepdim``). Same unit as x.
    The gradient is ``x / |x|`` where ``|x| > 0`` and exactly 0 at ``x = 0`` (never NaN).
    """
    squared = (x * x).sum(dim=dim, keepdim=keepdim)
    positive = squared > 0
    return torch.where(positive, torch.where(positive, squared, 1.0).sqrt(), 0.0)


def safe_normalize(x: Tensor, dim: int = -1, eps: float = 1e-9) -> Tensor:
    """Unit vector ``x / |x|`` along ``dim``; vectors shorter than ``eps`` map to 0 (gradient 0).

    x: [..., D, ...] -> same shape, unitless.
    """
    norm = safe_norm(x, dim=dim, keepdim=True)
    long_enough = norm > eps
    return torch.where(long_enough, x / torch.where(long_enough, norm, 1.0), 0.0)


def unit_array(x: np.ndarray, fallback: Sequence[float] | float = 0.0) -> np.ndarray:
    """:func:`safe_normalize` for numpy arrays (renderers, importers): unit vectors along the last
    axis, in float64; vectors shorter than 1e-9 become ``fallback`` (a direction or 0).

    x: [..., D] -> [..., D].
    """
    unit = safe_normalize(torch.as_tensor(np.asarray(x, dtype=np.float64))).numpy()
    return np.where((unit == 0).all(axis=-1, keepdims=True), np.asarray(fallback, dtype=np.float64), unit)


def kink_max(x: Tensor, bound: Tensor | float) -> Tensor:
    """``max(x, bound)`` whose gradient flows to ``x`` where ``x >= bound`` (ties included).

    x: [...]; bound: a number or a tensor broadcastable with x -> the broadcast shape, x's unit.
    """
    return torch.where(x >= bound, x, bound)


def kink_min(x: Tensor, bound: Tensor | float) -> Tensor:
    """``min(x, bound)`` whose gradient flows to ``x`` where ``x <= bound`` (ties included)."""
    return torch.where(x <= bound, x, bound)


def kink_clamp(x: Tensor, lower: Tensor | float | None = None, upper: Tensor | float | None = None) -> Tensor:
    """``x`` clamped to ``[lower, upper]`` (either may be None), gradient 1 on the closed interval.

    Same shapes as :func:`kink_max`; a bound that is a tensor gets the gradient where it applies.
    """
    if lower is not None:
        x = kink_max(x, lower)
    if upper is not None:
        x = kink_min(x, upper)
    return x


def safe_atan2(y: Tensor, x: Tensor) -> Tensor:
    """``atan2(y, x)`` in radians, (-pi, pi]; 0 with a zero gradient at ``x = y = 0``.

    y, x: broadcastable [...] -> [...].
    """
    origin = (x == 0) & (y == 0)
    return torch.where(origin, 0.0, torch.atan2(y, torch.where(origin, 1.0, x)))


def smooth_min(
    x: Tensor, dim: int = -1, temperature: float = 0.0, mask: Tensor | None = None,
    empty: float = 0.0,
) -> Tensor:
    """Log-sum-exp soft minimum of ``x`` along ``dim`` (see the module docstring for the bound).

    x:           [..., N, ...] values (any unit); ``dim`` indexes the N values.
    temperature: tau >= 0 in the unit of x; 0 gives the exact (hard) minimum.
    mask:        bool, broadcastable to x; values where it is False are ignored.
    empty:       the result where the mask selects no value (0: vacuously satisfied margin).
    Returns [...] with ``dim`` removed. Gradients are finite, also for fully masked rows.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if mask is None:
        mask = torch.ones_like(x, dtype=torch.bool)
    mask = torch.broadcast_to(mask, x.shape)
    any_selected = mask.any(dim=dim, keepdim=True)
    # Rows with nothing selected are computed on all values (finite) and replaced by `empty`.
    mask = mask | ~any_selected
    values = torch.where(mask, x, torch.inf)
    if temperature == 0:
        result = values.amin(dim=dim)
    else:
        result = -temperature * torch.logsumexp(-values / temperature, dim=dim)
    return torch.where(any_selected.squeeze(dim), result, empty)


def smooth_max(
    x: Tensor, dim: int = -1, temperature: float = 0.0, mask: Tensor | None = None,
    empty: float = 0.0,
) -> Tensor:
    """Log-sum-exp soft maximum: ``-smooth_min(-x)``; ``max <= result <= max + tau log n``.

    Shapes and arguments as :func:`smooth_min`.
    """
    return -smooth_min(-x, dim=dim, temperature=temperature, mask=mask, empty=-empty)


def always(margins: Tensor, mask: Tensor | None = None, temperature: float = 0.0) -> Tensor:
    """Margin of "the margin holds at every frame of the window" (STL `always`).

    margins: [..., T] per-frame margins (positive = satisfied), in the constraint's unit.
    mask:    bool [T] or [..., T]: the frames of the window; None means every frame.
    Returns [...]: soft min over the window, never above the hard min (so a positive soft
    margin guarantees the hard one); 0 when the window is empty.
    """
    return smooth_min(margins, dim=-1, temperature=temperature, mask=mask)


def eventually(margins: Tensor, mask: Tensor | None = None, temperature: float = 0.0) -> Tensor:
    """Margin of "the margin holds at some frame of the window" (STL `eventually`).

    margins: [..., T]; mask: bool [T] or [..., T] or None. Returns [...]: soft max over the
    window, at most ``temperature * log(frames in window)`` above the hard max; 0 when empty.
    """
    return smooth_max(margins, dim=-1, temperature=temperature, mask=mask)


def violation(margins: Tensor, temperature: float = 0.0) -> Tensor:
    """Penalty for negative margins: ``tau * softplus(-m / tau)``, the hinge ``relu(-m)`` at tau=0.

    margins: [...] (positive = satisfied) -> [...] >= 0, same unit as the margins.
    Bound: ``relu(-m) <= penalty <= relu(-m) + tau * log(2)``; smooth and strictly decreasing in m
    for tau > 0, so a margin just satisfied still gets a small push inward.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return torch.relu(-margins)
    return temperature * torch.nn.functional.softplus(-margins / temperature)
