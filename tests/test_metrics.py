"""Naturalness metrics: closed-form skating ratios, accelerations, penetration and drift."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from motionprog.body.skeleton import FPS, JOINT_INDEX
from motionprog.metrics import (
    METRIC_NAMES, bone_length_drift, floor_penetration, foot_skating_ratio, max_acceleration, naturalness,
    per_seed, summary,
)

D = torch.float64
LEFT_FOOT = JOINT_INDEX["left_foot"]


def sliding_foot(speed: float, heights: list[float]) -> torch.Tensor:
    """[1, T, 22, 3]: every joint 1 m up and still, except the left foot, which slides along x."""
    frames = len(heights)
    joints = torch.zeros(1, frames, 22, 3, dtype=D)
    joints[..., 1] = 1.0
    joints[0, :, LEFT_FOOT, 0] = speed * torch.arange(frames, dtype=D) / FPS
    joints[0, :, LEFT_FOOT, 1] = torch.tensor(heights, dtype=D)
    return joints


def test_fast_slide_skates_in_every_frame_pair():
    # 1 m/s: even the zero-padded window average at the ends is 3/5 m/s > 0.5 m/s.
    assert foot_skating_ratio(sliding_foot(1.0, [0.02] * 11)).item() == pytest.approx(1.0)


def test_window_average_excludes_the_end_pairs():
    # 0.7 m/s: the window average at the two end pairs is 3/5 * 0.7 = 0.42 < 0.5, elsewhere >= 0.56.
    assert foot_skating_ratio(sliding_foot(0.7, [0.02] * 11)).item() == pytest.approx(8 / 10)


def test_lifted_foot_and_slow_foot_do_not_skate():
    # In contact (below 5 cm) only in frames 0-5: pairs 0..4 are in contact, pair 0 fails the window.
    heights = [0.02] * 6 + [0.10] * 5
    assert foot_skating_ratio(sliding_foot(0.7, heights)).item() == pytest.approx(4 / 10)
    assert foot_skating_ratio(sliding_foot(0.45, [0.02] * 11)).item() == 0.0
    assert foot_skating_ratio(sliding_foot(1.0, [0.06] * 11)).item() == 0.0


def test_max_acceleration_of_a_parabola():
    t = torch.arange(12, dtype=D) / FPS
    joints = torch.ones(2, 12, 22, 3, dtype=D)
    joints[1, :, 20, 2] = 0.5 * 3.0 * t**2  # seed 1: the left wrist accelerates at 3 m/s^2 along z
    assert max_acceleration(joints).tolist() == pytest.approx([0.0, 3.0])


def test_floor_penetration_depth():
    joints = torch.ones(2, 4, 22, 3, dtype=D)
    joints[1, 2, LEFT_FOOT, 1] = -0.03
    assert floor_penetration(joints).tolist() == pytest.approx([0.0, 0.03])


def test_bone_length_drift_of_a_growing_skeleton(rest_pose):
    joints = torch.stack([rest_pose, 1.1 * rest_pose])[None]  # every bone 10 % longer in frame 1
    assert bone_length_drift(joints).item() == pytest.approx(0.05 / 1.05)
    assert bone_length_drift(rest_pose.expand(1, 5, 22, 3)).item() == pytest.approx(0.0, abs=1e-12)


def test_per_seed_and_summary_are_plain_json(rest_pose):
    joints = torch.cat([sliding_foot(1.0, [0.02] * 11), sliding_foot(0.7, [0.02] * 11)])
    seeds = per_seed(joints)
    assert len(seeds) == 2 and list(seeds[0]) == list(METRIC_NAMES)
    assert seeds[1]["foot_skating_ratio"] == pytest.approx(0.8)
    overall = summary(joints)
    assert overall["foot_skating_ratio"] == pytest.approx(0.9)
    json.dumps(overall)
    assert naturalness(joints[0])["foot_skating_ratio"].shape == (1,)  # [T, 22, 3] accepted
    with pytest.raises(ValueError, match="shape"):
        summary(torch.zeros(4, 21, 3))


def test_recorded_sample_is_natural(humanml3d_dir):
    joints = torch.tensor(np.load(humanml3d_dir / "012314_joints.npy"))
    values = summary(joints)
    assert values["bone_length_drift"] < 1e-4  # HumanML3D's uniform skeleton
    assert values["floor_penetration"] == 0.0  # its lowest joint sits 0.8 cm above the floor
    # Pinned on sample 012314 (a fast whole-body motion: the right elbow peaks at 128.5 m/s^2).
    assert values["foot_skating_ratio"] == pytest.approx(23 / 169)
    assert values["max_acceleration"] == pytest.approx(128.532, rel=1e-4)
