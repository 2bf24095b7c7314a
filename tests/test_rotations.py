"""Rotation helpers: closed-form values, round trips, broadcasting and finite gradients."""

from __future__ import annotations

import math

import pytest
import torch

from motionprog.body.rotations import (
    matrix_to_quat,
    quat_between,
    quat_canonical,
    quat_inverse,
    quat_multiply,
    quat_rotate,
    quat_to_axis_angle,
    quat_to_cont6d,
    quat_to_matrix,
    rotate_yaw,
    yaw_quat,
)
from motionprog.numerics import safe_normalize

GEN = torch.Generator().manual_seed(7)


def random_quats(*shape: int) -> torch.Tensor:
    return quat_canonical(safe_normalize(torch.randn(*shape, 4, generator=GEN, dtype=torch.float64)))


def axes() -> torch.Tensor:
    """26 directions: the faces, edges and corners of a cube."""
    grid = torch.cartesian_prod(*[torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)] * 3)
    return safe_normalize(grid[grid.abs().sum(dim=-1) > 0])


def test_yaw_quarter_turn_takes_z_to_x() -> None:
    turned = quat_rotate(yaw_quat(torch.tensor(math.pi / 2, dtype=torch.float64)), torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    assert torch.allclose(turned, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), atol=1e-15)


def test_rotate_yaw_agrees_with_yaw_quat() -> None:
    angles = torch.linspace(-4, 4, 9, dtype=torch.float64)
    vectors = torch.randn(9, 3, generator=GEN, dtype=torch.float64)
    assert torch.allclose(rotate_yaw(vectors, angles), quat_rotate(yaw_quat(angles), vectors), atol=1e-14)


def test_multiply_matches_matrix_product_and_inverse_undoes() -> None:
    a, b = random_quats(10), random_quats(10)
    assert torch.allclose(quat_to_matrix(quat_multiply(a, b)), quat_to_matrix(a) @ quat_to_matrix(b), atol=1e-12)
    identity = quat_multiply(a, quat_inverse(a))
    assert torch.allclose(identity, torch.tensor([1.0, 0, 0, 0], dtype=torch.float64).expand(10, 4), atol=1e-12)


def test_rotate_broadcasts_leading_dims() -> None:
    q, v = random_quats(3, 5), torch.randn(7, 3, 1, 3, generator=GEN, dtype=torch.float64)
    rotated = quat_rotate(q, v)
    assert rotated.shape == (7, 3, 5, 3)
    assert torch.allclose(rotated, (quat_to_matrix(q) @ v[..., None])[..., 0], atol=1e-12)


def test_matrix_quat_round_trip_including_half_turns() -> None:
    half_turns = torch.cat([torch.zeros(26, 1, dtype=torch.float64), axes()], dim=-1)
    quats = torch.cat([random_quats(50), half_turns])
    back = matrix_to_quat(quat_to_matrix(quats))
    # A half turn's quaternion is defined up to sign.
    assert torch.minimum((back - quats).abs().amax(-1), (back + quats).abs().amax(-1)).max().item() < 1e-12
    pi_turn = torch.tensor([[-1.0, 0, 0], [0, -1.0, 0], [0, 0, 1.0]], dtype=torch.float64, requires_grad=True)
    matrix_to_quat(pi_turn).sum().backward()
    assert torch.isfinite(pi_turn.grad).all()


def test_cont6d_is_the_first_two_matrix_columns() -> None:
    quats = random_quats(20)
    matrices = quat_to_matrix(quats)
    assert torch.allclose(matrices @ matrices.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(20, 3, 3), atol=1e-12)
    assert torch.equal(quat_to_cont6d(quats), torch.cat([matrices[..., :, 0], matrices[..., :, 1]], dim=-1))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_between_takes_u_to_v_on_26_axes(sign: float) -> None:
    u = axes()
    v = sign * axes().roll(5, dims=0)
    for target in (v, -u):  # generic pairs, then exactly opposite vectors
        q = quat_between(u * 2.0, target * 0.5)
        assert torch.allclose(quat_rotate(q, u), target, atol=1e-12)


def test_gradients_are_finite_at_singular_points() -> None:
    u = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    v = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    quat_between(u, v).sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (u, v))


def test_gradients_match_finite_differences() -> None:
    q = random_quats(4).requires_grad_(True)
    assert torch.autograd.gradcheck(quat_to_cont6d, (q,), fast_mode=True)
    u = torch.randn(4, 3, generator=GEN, dtype=torch.float64, requires_grad=True)
    v = torch.randn(4, 3, generator=GEN, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(quat_between, (u, v), fast_mode=True)


def test_axis_angle_is_the_axis_times_the_angle() -> None:
    angles = torch.tensor([0.0, 0.3, 2.0, math.pi], dtype=torch.float64)
    axis = safe_normalize(torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64))
    quats = torch.cat([torch.cos(angles / 2)[:, None], torch.sin(angles / 2)[:, None] * axis], dim=-1)
    assert torch.allclose(quat_to_axis_angle(quats), angles[:, None] * axis, atol=1e-12)
    assert torch.allclose(quat_to_axis_angle(-quats[1:3]), angles[1:3, None] * axis, atol=1e-12)  # q and -q agree
    assert torch.allclose(quat_to_axis_angle(yaw_quat(torch.tensor(-0.5, dtype=torch.float64))),
                          torch.tensor([0.0, -0.5, 0.0], dtype=torch.float64), atol=1e-12)


def test_slerp_turns_at_constant_speed_along_the_shorter_arc() -> None:
    from motionprog.body.rotations import quat_slerp

    start = yaw_quat(torch.tensor(0.0, dtype=torch.float64))
    end = yaw_quat(torch.tensor(math.pi / 2, dtype=torch.float64))
    t = torch.tensor([0.0, 0.25, 0.5, 1.0], dtype=torch.float64)
    expected = yaw_quat(t * math.pi / 2)
    assert torch.allclose(quat_slerp(start.expand(4, 4), end.expand(4, 4), t), expected, atol=1e-12)
    assert torch.allclose(quat_slerp(start.expand(4, 4), -end.expand(4, 4), t), expected, atol=1e-12)  # same rotation
    assert torch.allclose(quat_slerp(start, start, torch.tensor(0.3, dtype=torch.float64)), start, atol=1e-12)
