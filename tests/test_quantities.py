"""Body quantities: exact derivatives of polynomial motions, rest-pose facing, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from motionprog.body.quantities import (
    acceleration, facing, heading, midpoint, speed, velocity,
)
from motionprog.body.skeleton import FPS, JOINT_INDEX

D = torch.float64


def yaw(joints: torch.Tensor, degrees: float) -> torch.Tensor:
    a = math.radians(degrees)
    rot = torch.tensor([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]], dtype=D)
    return joints @ rot.T


def test_constant_velocity_exact_and_zero_acceleration():
    t = torch.arange(10, dtype=D) / FPS
    v = torch.tensor([0.5, -1.0, 2.0], dtype=D)
    joints = (t[:, None, None] * v + torch.randn(22, 3, dtype=D)).expand(2, 10, 22, 3)
    assert torch.allclose(velocity(joints), v.expand(2, 10, 22, 3))
    assert acceleration(joints).abs().max() < 1e-9
    assert torch.allclose(speed(joints), torch.full((2, 10, 22), v.norm().item(), dtype=D))


def test_constant_acceleration_exact_at_every_frame_including_ends():
    t = torch.arange(7, dtype=D) / FPS
    com = 0.5 * (-9.81) * t[:, None] ** 2 * torch.tensor([0.0, 1.0, 0.0], dtype=D)  # [T, 3]
    acc = acceleration(com, dim=-2)
    assert torch.allclose(acc[:, 1], torch.full((7,), -9.81, dtype=D))
    vel = velocity(com, dim=-2)
    assert torch.allclose(vel[1:-1, 1], -9.81 * t[1:-1])  # central differences are exact here


def test_short_sequences_keep_length():
    x = torch.randn(1, 22, 3)
    assert velocity(x).abs().sum() == 0 and acceleration(x).abs().sum() == 0
    x2 = torch.randn(3, 2, 22, 3)
    assert velocity(x2).shape == x2.shape and acceleration(x2).abs().sum() == 0


def test_rest_pose_faces_plus_z_and_heading_follows_yaw(rest_pose):
    pose = rest_pose
    assert torch.allclose(facing(pose), torch.tensor([0.0, 0.0, 1.0], dtype=D))
    turned = yaw(pose, 90.0)  # +Z rotates onto +X
    assert torch.allclose(facing(turned), torch.tensor([1.0, 0.0, 0.0], dtype=D), atol=1e-12)
    assert heading(turned).item() == pytest.approx(math.pi / 2)
    assert heading(yaw(pose, -30.0)).item() == pytest.approx(math.radians(-30.0))


def test_midpoint(rest_pose):
    pair = midpoint(rest_pose, [JOINT_INDEX["left_hip"], JOINT_INDEX["right_hip"]])
    assert torch.allclose(pair, torch.tensor([(0.1031 - 0.1099) / 2, 0.0, 0.0], dtype=D), atol=1e-6)


def test_broadcast_shapes():
    joints = torch.randn(3, 5, 8, 22, 3)
    assert velocity(joints).shape == joints.shape
    assert facing(joints).shape == (3, 5, 8, 3)
    assert heading(joints).shape == (3, 5, 8)


def test_gradients_match_finite_differences(rest_pose):
    joints = (rest_pose + 0.01 * torch.randn(4, 22, 3, dtype=D, generator=torch.Generator().manual_seed(2)))
    joints.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda j: acceleration(j), (joints,), fast_mode=True)
    assert torch.autograd.gradcheck(lambda j: speed(j), (joints,), fast_mode=True)
    assert torch.autograd.gradcheck(heading, (joints,), fast_mode=True)


def test_degenerate_pose_has_finite_gradient():
    joints = torch.zeros(2, 22, 3, dtype=D, requires_grad=True)
    (heading(joints).sum() + facing(joints).sum() + speed(joints).sum()).backward()
    assert torch.isfinite(joints.grad).all()
