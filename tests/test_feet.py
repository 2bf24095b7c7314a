"""Foot-contact cleanup: a sliding planted foot is pinned, the leg re-bent, the body left a rig pose."""

from __future__ import annotations

import math

import pytest
import torch

from motionprog.body import skeleton
from motionprog.body.feet import clean_feet, foot_contacts, pin_offsets, two_bone_ik
from motionprog.body.kinematics import project_to_skeleton, rig_joints
from motionprog.body.rotations import quat_between
from motionprog.metrics import foot_skating_ratio, max_acceleration

J = skeleton.JOINT_INDEX
FRAMES = 12


def crouch_sliding(height: float) -> torch.Tensor:
    """Joints [12, 22, 3] of the rig with knees bent 60 degrees and feet flat, gliding +Z at
    0.6 m/s (3 cm a frame) with the balls of the feet ``height`` metres above the floor."""
    local = torch.zeros(FRAMES, 22, 4, dtype=torch.float64)
    local[..., 0] = 1.0
    half = math.radians(30) / 2
    for side in ("left", "right"):
        for joint, turns in (("hip", 1), ("knee", -2), ("ankle", 1)):  # thigh forward, shank back, foot flat
            local[:, J[f"{side}_{joint}"]] = torch.tensor([math.cos(turns * half), math.sin(turns * half), 0, 0])
    root = torch.zeros(FRAMES, 3, dtype=torch.float64)
    root[:, 2] = 0.03 * torch.arange(FRAMES)
    joints = rig_joints(local, root)
    return joints + torch.tensor([0.0, height, 0.0], dtype=torch.float64) - joints[:, [10, 11], 1].min()


def bone_lengths(joints: torch.Tensor) -> torch.Tensor:
    return (joints[..., 1:, :] - joints[..., list(skeleton.PARENTS[1:]), :]).norm(dim=-1)


def test_sliding_planted_feet_are_pinned_and_the_body_stays_the_rig() -> None:
    sliding = crouch_sliding(0.01)
    assert foot_contacts(sliding).all()
    assert foot_skating_ratio(sliding).item() == 7 / 11  # every pair but two at each end (zero-padded window)
    cleaned = clean_feet(sliding)
    assert foot_skating_ratio(cleaned).item() == 0.0
    balls = cleaned[:, [J["left_foot"], J["right_foot"]]][..., [0, 2]]
    assert (balls - balls.mean(0)).abs().max().item() < 1e-9  # each ball stays at its mean position
    assert torch.allclose(balls.mean(0), sliding[:, [J["left_foot"], J["right_foot"]]][..., [0, 2]].mean(0))
    assert torch.allclose(bone_lengths(cleaned), bone_lengths(sliding), atol=1e-12)
    legs = [J[f"{s}_{j}"] for s in ("left", "right") for j in ("knee", "ankle", "foot")]
    unmoved = [j for j in range(22) if j not in legs]
    assert torch.equal(cleaned[:, unmoved], sliding[:, unmoved])  # pelvis and upper body untouched
    assert (project_to_skeleton(cleaned) - cleaned).abs().max().item() < 1e-8  # still a rig pose
    feet = [J[f"{s}_{j}"] for s in ("left", "right") for j in ("ankle", "foot")]
    assert torch.allclose(cleaned[:, feet, 1], sliding[:, feet, 1], atol=1e-12)  # moved horizontally only


def test_feet_in_the_air_are_left_alone() -> None:
    flying = crouch_sliding(0.2)
    assert not foot_contacts(flying).any()
    assert torch.equal(clean_feet(flying), flying)
    batch = torch.stack([flying, crouch_sliding(0.01)])  # any leading dims, each motion on its own
    assert torch.equal(clean_feet(batch)[0], flying) and torch.equal(clean_feet(batch)[1], clean_feet(batch[1]))


def test_two_bone_ik_reaches_the_goal_with_the_knee_in_the_leg_plane() -> None:
    hip = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    knee = torch.tensor([0.0, 0.6, 0.1], dtype=torch.float64)
    ankle = torch.tensor([0.0, 0.2, 0.0], dtype=torch.float64)
    goal = torch.tensor([0.0, 0.4, 0.2], dtype=torch.float64)
    toe = torch.tensor([0.0, 0.2, 0.1], dtype=torch.float64)
    new_knee, new_ankle = two_bone_ik(hip, knee, ankle, goal, toe)
    assert torch.allclose(new_ankle, goal, atol=1e-12)
    assert math.isclose((new_knee - hip).norm().item(), (knee - hip).norm().item(), abs_tol=1e-12)
    assert math.isclose((new_ankle - new_knee).norm().item(), (ankle - knee).norm().item(), abs_tol=1e-12)
    assert abs(new_knee[0].item()) < 1e-12  # the leg's plane (x = 0)
    out_of_reach = two_bone_ik(hip, knee, ankle, torch.tensor([0.0, -2.0, 0.0], dtype=torch.float64), toe)[1]
    assert torch.allclose(quat_between(out_of_reach - hip, torch.tensor([0.0, -1.0, 0.0], dtype=torch.float64)),
                          torch.tensor([1.0, 0, 0, 0], dtype=torch.float64), atol=1e-6)  # straight towards it


def about_x(angle: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.cos(angle / 2), torch.sin(angle / 2), torch.zeros_like(angle), torch.zeros_like(angle)], -1)


def sliding_walk(frames: int = 80, speed: float = 0.4, period: float = 1.2, swing: float = 0.25) -> torch.Tensor:
    """Joints [80, 22, 3] of the rig walking +Z at ``speed`` m/s while its legs swing +-``swing``
    rad at a pace made for about 1 m/s, knees bending in the swing: planted feet slide back."""
    t = torch.arange(frames, dtype=torch.float64) / 20
    local = torch.zeros(frames, 22, 4, dtype=torch.float64)
    local[..., 0] = 1.0
    for side, shift in (("left", 0.0), ("right", math.pi)):
        phase = 2 * math.pi * t / period + shift
        local[:, J[f"{side}_hip"]] = about_x(swing * torch.sin(phase))
        local[:, J[f"{side}_knee"]] = about_x(-0.8 * torch.cos(phase).clamp_min(0) ** 2)
    root = torch.zeros(frames, 3, dtype=torch.float64)
    root[:, 2] = speed * t
    joints = rig_joints(local, root)
    return joints - torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64) * (joints[:, [10, 11], 1].min() - 0.01)


def test_cleanup_of_a_sliding_walk_adds_no_acceleration_spike() -> None:
    """Measured: skating 0.671 -> 0.519, max acceleration 22.3 -> 23.2 m/s^2 (before the fix
    39.3: the correction jumped where neighbouring runs met, and straight legs popped their knees)."""
    walk = sliding_walk()
    cleaned = clean_feet(walk)
    before, after = max_acceleration(walk).item(), max_acceleration(cleaned).item()
    assert after <= 1.1 * before + 1.0, (before, after)
    assert foot_skating_ratio(cleaned).item() < 0.8 * foot_skating_ratio(walk).item()
    assert torch.allclose(bone_lengths(cleaned), bone_lengths(walk), atol=1e-9)


def test_neighbouring_pins_are_joined_without_a_jump() -> None:
    """A foot sliding 3 cm a frame, planted for 8 frames, up for 2, planted for 8: the ball holds
    each run's pin and travels between them with zero speed at both ends (largest acceleration
    31 m/s^2 at 20 fps; switching to the nearer run's pin halfway, as before, made 79)."""
    position = torch.zeros(18, 2, dtype=torch.float64)
    position[:, 1] = 0.03 * torch.arange(18)
    contact = torch.tensor([True] * 8 + [False] * 2 + [True] * 8)
    ball = (position + pin_offsets(contact, position))[:, 1]
    assert torch.allclose(ball[:8], torch.tensor(0.105, dtype=torch.float64))
    assert torch.allclose(ball[10:], torch.tensor(0.405, dtype=torch.float64))
    assert (ball[1:] - ball[:-1]).min() >= 0  # no overshoot
    acceleration = (ball[2:] - 2 * ball[1:-1] + ball[:-2]).abs().max().item() * 20**2
    assert acceleration == pytest.approx(0.3 * 7 / 27 * 20**2)  # smoothstep: 7/27 of the way after one frame
