"""Body capsules: closed-form clearances against a floor, a bar and a ball; chosen joints only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionprog.body.segments import CAPSULES, HAND_EXTENSION
from motionprog.body.skeleton import JOINT_INDEX
from motionprog.geometry import Box, Plane, Sphere
from motionprog.geometry.capsules import (
    body_capsules, capsule_distances, capsule_penetration, capsules_of, penetration_margin,
)

D = torch.float64
CAPSULE_NAMES = [c.name for c in CAPSULES]
UP = torch.tensor([0.0, 1.0, 0.0], dtype=D)


def test_capsule_axes_follow_the_bones(t_pose):
    a, b, radius = body_capsules(t_pose.expand(2, 3, 22, 3))
    assert a.shape == b.shape == (2, 3, len(CAPSULES), 3) and radius.shape == (len(CAPSULES),)
    thigh = CAPSULE_NAMES.index("left_thigh")
    assert torch.equal(a[0, 0, thigh], t_pose[JOINT_INDEX["left_hip"]])
    assert torch.equal(b[0, 0, thigh], t_pose[JOINT_INDEX["left_knee"]])


def test_floor_clearance_is_height_minus_foot_radius(t_pose):
    floor = Plane((0.0, 0.0, 0.0))
    # The T-pose stands on y = 0 with flat feet (ankle and toe at 0): the 5 cm shank capsules,
    # which end at the ankles, sink 5 cm; the 4 cm foot capsules 4 cm.
    assert penetration_margin(t_pose, floor).item() == pytest.approx(-0.05)
    per_capsule = capsule_distances(t_pose + 0.10 * UP, floor)
    assert per_capsule[CAPSULE_NAMES.index("left_foot")].item() == pytest.approx(0.06)
    assert penetration_margin(t_pose + 0.10 * UP, floor).item() == pytest.approx(0.05)


def test_bar_above_the_head(t_pose):
    head, neck = t_pose[JOINT_INDEX["head"]], t_pose[JOINT_INDEX["neck"]]
    crown = (2 * head - neck)[1].item() + 0.09  # top of the head capsule
    bar = Box((0.0, crown + 0.10 + 0.05, 0.0), (3.0, 0.1, 0.3))  # bottom 10 cm above the crown
    assert penetration_margin(t_pose, bar).item() == pytest.approx(0.10)
    # HumanML3D's rest head bone points forward (+Z), so the head and chest capsules tie on top.
    assert capsule_distances(t_pose, bar)[CAPSULE_NAMES.index("head")].item() == pytest.approx(0.10)
    hand_top = t_pose[JOINT_INDEX["left_wrist"], 1].item() + 0.04  # the arms are level
    hand = capsule_distances(t_pose, bar)[CAPSULE_NAMES.index("left_hand")].item()
    assert hand == pytest.approx(bar.bottom - hand_top)


def test_ball_by_the_hand_and_gradients(t_pose):
    wrist, elbow = t_pose[JOINT_INDEX["left_wrist"]], t_pose[JOINT_INDEX["left_elbow"]]
    tip = wrist + HAND_EXTENSION * (wrist - elbow)  # end of the left hand capsule (MET3), on the +x axis
    ball = Sphere(tuple((tip + torch.tensor([0.25, 0.0, 0.0], dtype=D)).tolist()), 0.15)
    assert penetration_margin(t_pose, ball).item() == pytest.approx(0.25 - 0.15 - 0.04)
    joints = (t_pose + 0.01 * torch.randn(22, 3, dtype=D, generator=torch.Generator().manual_seed(4)))
    joints = joints.expand(2, 22, 3).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda j: penetration_margin(j, ball, temperature=0.01), (joints,), fast_mode=True)
    assert torch.autograd.gradcheck(lambda j: penetration_margin(j, ball), (joints,), fast_mode=True)


def test_soft_margin_is_below_the_hard_one(t_pose):
    floor = Plane((0.0, -0.2, 0.0))
    hard = penetration_margin(t_pose, floor)
    soft = penetration_margin(t_pose, floor, temperature=0.01)
    assert hard.item() - 0.01 * np.log(len(CAPSULES)) <= soft.item() <= hard.item()


def test_collision_of_chosen_joints_only(t_pose):
    wrist = t_pose[JOINT_INDEX["left_wrist"]]
    ball = Sphere(tuple(wrist.tolist()), 0.1)  # a ball around the left wrist
    left_wrist = [JOINT_INDEX["left_wrist"]]
    assert [CAPSULE_NAMES[k] for k in capsules_of(left_wrist)] == ["left_forearm", "left_hand"]
    # The forearm and hand axes pass through the centre: 10 cm ball + 4 cm capsules overlap by 14 cm.
    assert capsule_penetration(t_pose, ball, left_wrist).item() == pytest.approx(0.14)
    right_foot = [JOINT_INDEX["right_foot"]]
    assert capsule_penetration(t_pose, ball, right_foot).item() < -1.0  # far away: negative
    assert capsule_penetration(t_pose, ball).item() == pytest.approx(-penetration_margin(t_pose, ball).item())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_same_margins_on_cuda(t_pose):
    joints = t_pose.expand(2, 3, 22, 3)
    ball = Sphere((0.3, 1.0, 0.2), 0.2)
    assert torch.allclose(penetration_margin(joints.cuda(), ball).cpu(), penetration_margin(joints, ball))
