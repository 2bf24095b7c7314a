"""Safe primitives: closed-form values, error bounds, finite gradients at singular points."""

from __future__ import annotations

import math

import pytest
import torch

from motionprog.numerics import (
    always, eventually, kink_clamp, kink_max, kink_min, safe_atan2, safe_norm, safe_normalize, smooth_max,
    smooth_min, violation,
)

D = torch.float64


def test_safe_norm_value_and_gradient_at_zero():
    x = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]], dtype=D, requires_grad=True)
    n = safe_norm(x)
    assert n.tolist() == [5.0, 0.0]
    n.sum().backward()
    assert torch.allclose(x.grad, torch.tensor([[0.6, 0.8, 0.0], [0.0, 0.0, 0.0]], dtype=D))


def test_safe_norm_gradcheck_regular_points():
    x = torch.randn(4, 3, dtype=D, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert torch.autograd.gradcheck(safe_norm, (x,))


def test_safe_normalize_unit_and_zero():
    x = torch.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]], dtype=D, requires_grad=True)
    u = safe_normalize(x)
    assert u.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    u.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad[1].abs().sum() == 0


def test_safe_normalize_gradcheck():
    x = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.1, -0.7]], dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(safe_normalize, (x,))


def test_kinks_keep_the_gradient_of_x_on_the_bound():
    x = torch.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], dtype=D, requires_grad=True)
    clamped = kink_clamp(x, 0.0, 1.0)
    assert clamped.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    clamped.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # both bounds included, whatever torch.clamp does
    bound = torch.tensor(0.5, dtype=D, requires_grad=True)
    (kink_max(x, bound).sum() + kink_min(x, bound).sum()).backward()
    assert bound.grad.item() == 4.0  # max takes the bound for -1 and 0, min for 1 and 2; the tie 0.5 goes to x


def test_safe_atan2_values_and_origin():
    y = torch.tensor([1.0, 0.0, 0.0], dtype=D, requires_grad=True)
    x = torch.tensor([0.0, -1.0, 0.0], dtype=D, requires_grad=True)
    a = safe_atan2(y, x)
    assert torch.allclose(a, torch.tensor([math.pi / 2, math.pi, 0.0], dtype=D))
    a.sum().backward()
    assert torch.isfinite(y.grad).all() and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("tau", [0.01, 0.1, 1.0])
def test_smooth_min_max_within_documented_bound(tau):
    x = torch.tensor([[0.3, -0.2, 0.5, 0.1]], dtype=D)
    lo = smooth_min(x, temperature=tau)
    hi = smooth_max(x, temperature=tau)
    bound = tau * math.log(4)
    assert -0.2 - bound <= lo.item() <= -0.2
    assert 0.5 <= hi.item() <= 0.5 + bound


def test_smooth_min_closed_form_for_equal_values():
    # n equal values: -tau log(n exp(-v/tau)) = v - tau log n, the bound attained exactly.
    x = torch.full((5,), 2.0, dtype=D)
    assert smooth_min(x, temperature=0.5).item() == pytest.approx(2.0 - 0.5 * math.log(5))


def test_hard_min_at_zero_temperature_splits_tied_gradient():
    x = torch.tensor([1.0, 1.0, 3.0], dtype=D, requires_grad=True)
    smooth_min(x).backward()
    assert x.grad.tolist() == [0.5, 0.5, 0.0]


def test_smooth_min_gradcheck():
    x = torch.randn(3, 6, dtype=D, generator=torch.Generator().manual_seed(1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: smooth_min(v, temperature=0.2), (x,))
    assert torch.autograd.gradcheck(lambda v: smooth_max(v, dim=0, temperature=0.2), (x,))


def test_always_and_eventually_ignore_frames_outside_mask():
    margins = torch.tensor([[-5.0, 0.2, 0.4, -3.0], [1.0, 0.1, 0.7, 9.0]], dtype=D)
    window = torch.tensor([False, True, True, False])
    assert always(margins, window).tolist() == [0.2, 0.1]
    assert eventually(margins, window).tolist() == [0.4, 0.7]
    assert always(margins).tolist() == [-5.0, 0.1]


def test_per_seed_mask_and_empty_window_has_zero_margin_and_finite_gradient():
    margins = torch.tensor([[-5.0, 0.2], [1.0, 0.1]], dtype=D, requires_grad=True)
    mask = torch.tensor([[False, False], [True, False]])
    for temperature in (0.0, 0.1):
        out = always(margins, mask, temperature=temperature)
        assert out[0].item() == 0.0 and out[1].item() == pytest.approx(1.0)
        out.sum().backward()
        assert torch.isfinite(margins.grad).all()
        assert margins.grad[0].abs().sum() == 0 and margins.grad[1, 1] == 0
        margins.grad = None


def test_soft_always_is_conservative():
    margins = torch.tensor([0.05, 0.06, 0.5], dtype=D)
    assert always(margins, temperature=0.01).item() < 0.05


def test_violation_hinge_and_softplus_bound():
    m = torch.tensor([-0.3, 0.0, 0.2], dtype=D)
    assert violation(m).tolist() == pytest.approx([0.3, 0.0, 0.0])
    assert violation(m, temperature=0.1)[1].item() == pytest.approx(0.1 * math.log(2))
    soft = violation(m, temperature=0.1)
    assert (soft >= violation(m)).all() and (soft <= violation(m) + 0.1 * math.log(2)).all()


def test_violation_gradcheck():
    m = torch.tensor([-0.3, 0.0, 0.2], dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: violation(v, temperature=0.05), (m,))


def test_negative_temperature_rejected():
    with pytest.raises(ValueError, match="temperature"):
        smooth_min(torch.zeros(3), temperature=-1.0)
