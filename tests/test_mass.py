"""Centre of mass: published fractions, the rest pose's mid-plane and height, linearity."""

from __future__ import annotations

import pytest
import torch

from motionprog.body.mass import SEGMENT_MATRIX, com, com_weights
from motionprog.body.segments import HAND_EXTENSION, MASSES
from motionprog.body.skeleton import JOINT_INDEX, MIRROR_PERMUTATION

D = torch.float64


def test_fractions_sum_to_one_and_rows_are_affine():
    assert sum(s.mass_fraction for s in MASSES) == pytest.approx(1.0, abs=1e-9)
    assert SEGMENT_MATRIX.sum(axis=1) == pytest.approx([1.0] * len(MASSES))
    assert com_weights().sum() == pytest.approx(1.0)
    assert com_weights(include_head=False).sum() == pytest.approx(1.0)


def test_t_pose_com_on_mid_plane_at_plausible_height(t_pose):
    centre = com(t_pose)
    mid_hips = (t_pose[JOINT_INDEX["left_hip"], 0] + t_pose[JOINT_INDEX["right_hip"], 0]) / 2
    # The rest skeleton is almost symmetric (hip offsets 10.31 vs 10.99 cm): x within 1 cm of mid-hips.
    assert abs(centre[0].item() - mid_hips.item()) < 0.01
    assert centre[2].item() == pytest.approx(0.0, abs=0.01)  # only the feet point forward
    # Pinned: the pelvis stands 0.826 m high, and the COM sits 3.5 cm above it (HumanML3D's stick
    # skeleton has its hips level with the pelvis and its shoulders only 0.33 m above it).
    assert centre[1].item() == pytest.approx(0.8610, abs=5e-4)
    assert com(t_pose, include_head=False)[1] < centre[1]  # the head is the highest segment


def test_com_of_a_recorded_frame_is_near_the_pelvis(humanml3d_dir):
    import numpy as np

    joints = torch.tensor(np.load(humanml3d_dir / "012314_joints.npy"), dtype=D)  # [170, 22, 3]
    centre = com(joints)
    assert centre.shape == (170, 3)
    # Pinned on sample 012314, frame 0: the pelvis is at 0.837 m, the COM 0.830 m high.
    assert centre[0, 1].item() == pytest.approx(0.8296, abs=5e-4)
    assert (centre[:, 1] - joints[:, 0, 1]).abs().max() < 0.15  # within 15 cm of the pelvis height


def test_exactly_mirror_symmetric_pose_has_com_on_the_plane():
    pose = torch.randn(22, 3, dtype=D, generator=torch.Generator().manual_seed(3))
    mirrored = pose[list(MIRROR_PERMUTATION)] * torch.tensor([-1.0, 1.0, 1.0], dtype=D)
    symmetric = (pose + mirrored) / 2
    assert abs(com(symmetric)[0].item()) < 1e-12


def test_translation_equivariance_loads_and_broadcast(rest_pose):
    joints = rest_pose.expand(4, 5, 22, 3)
    shift = torch.tensor([0.3, -0.2, 1.5], dtype=D)
    assert torch.allclose(com(joints + shift), com(joints) + shift)
    assert com(joints).shape == (4, 5, 3)
    hands = {JOINT_INDEX["left_wrist"]: 0.5, JOINT_INDEX["right_wrist"]: 0.5}
    loaded = com(rest_pose, loads=hands)  # body mass 1 + hands 1: half way to the hands' mean
    hands_mid = rest_pose[[20, 21]].mean(0)
    assert torch.allclose(loaded, (com(rest_pose) + hands_mid) / 2)


def test_segment_centre_positions(rest_pose):
    centres = torch.as_tensor(SEGMENT_MATRIX) @ rest_pose
    names = [s.name for s in MASSES]
    thigh = centres[names.index("left_thigh")]
    hip, knee = rest_pose[JOINT_INDEX["left_hip"]], rest_pose[JOINT_INDEX["left_knee"]]
    assert torch.allclose(thigh, hip + 0.4095 * (knee - hip))
    hand = centres[names.index("left_hand")]
    wrist, elbow = rest_pose[JOINT_INDEX["left_wrist"]], rest_pose[JOINT_INDEX["left_elbow"]]
    assert (hand - wrist).norm().item() == pytest.approx(0.79 * HAND_EXTENSION * (wrist - elbow).norm().item())


def test_gradient_is_the_weights(rest_pose):
    joints = rest_pose.clone().requires_grad_(True)
    com(joints)[1].backward()
    assert torch.allclose(joints.grad[:, 1], torch.tensor(com_weights(), dtype=D))
    assert torch.autograd.gradcheck(com, (rest_pose.clone().requires_grad_(True),), fast_mode=True)
