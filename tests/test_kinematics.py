"""Forward and inverse kinematics on the 22-joint skeleton."""

from __future__ import annotations

import math

import numpy as np
import torch

from motionprog.body import kinematics, skeleton
from motionprog.body.kinematics import (
    forward_kinematics, inverse_kinematics, project_keeping_contacts, project_to_skeleton,
)
from motionprog.body.placement import place
from motionprog.body.quantities import facing
from motionprog.body.rotations import yaw_quat
from motionprog.numerics import safe_normalize
from tests.conftest import shared_path

GEN = torch.Generator().manual_seed(3)
IDENTITY = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)


def random_pose_batch(*shape: int) -> torch.Tensor:
    """Joints [*shape, 22, 3] with the rest bone lengths: FK of random rotations."""
    quats = safe_normalize(torch.randn(*shape, 22, 4, generator=GEN, dtype=torch.float64))
    return forward_kinematics(quats, torch.randn(*shape, 3, generator=GEN, dtype=torch.float64))


def test_identity_rotations_give_the_rest_pose() -> None:
    joints = forward_kinematics(IDENTITY.expand(22, 4), torch.zeros(3, dtype=torch.float64))
    # Left wrist: up the spine to spine3, out along the collar (+X), down the arm (-Y).
    lengths = skeleton.BONE_LENGTHS.astype(np.float64)
    expected_y = lengths[[3, 6, 9]].sum() - lengths[[16, 18, 20]].sum()
    assert np.allclose(joints[20].numpy(), [lengths[13], expected_y, 0.0], atol=1e-7)
    assert torch.allclose(facing(joints), torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))


def test_root_yaw_turns_the_whole_body() -> None:
    quats = IDENTITY.expand(22, 4).clone()
    quats[0] = yaw_quat(torch.tensor(math.pi / 2, dtype=torch.float64))
    joints = forward_kinematics(quats, torch.tensor([1.0, 0.9, 2.0], dtype=torch.float64))
    # The left hip sits 0.1031 m along +X at rest; a quarter turn about +Y moves it to -Z.
    assert torch.allclose(joints[1], torch.tensor([1.0, 0.9, 2.0 - 0.1031], dtype=torch.float64), atol=1e-7)
    assert torch.allclose(facing(joints), torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))


def test_fk_of_ik_reproduces_joints_with_rest_bone_lengths() -> None:
    joints = random_pose_batch(2, 7)
    quats, root = inverse_kinematics(joints)
    assert quats.shape == (2, 7, 22, 4) and root.shape == (2, 7, 3)
    assert (forward_kinematics(quats, root) - joints).abs().max().item() < 1e-12


def test_fk_of_ik_reproduces_bone_directions_of_stored_motion() -> None:
    joints = torch.from_numpy(np.load(shared_path("fixtures/humanml3d/012314_joints.npy"))).double()
    rebuilt = forward_kinematics(*inverse_kinematics(joints))
    parents = list(skeleton.PARENTS[1:])

    def directions(x: torch.Tensor) -> torch.Tensor:
        return safe_normalize(x[..., 1:, :] - x[..., parents, :])

    assert (directions(rebuilt) - directions(joints)).abs().max().item() < 1e-12
    # Bone lengths of the sample differ from the 4-decimal rest lengths by < 5e-5 m each.
    assert (rebuilt - joints).abs().max().item() < 3e-4


def test_fk_accepts_per_motion_offsets() -> None:
    quats = safe_normalize(torch.randn(4, 22, 4, generator=GEN, dtype=torch.float64))
    offsets = torch.as_tensor(skeleton.REST_OFFSETS, dtype=torch.float64) * 2.0
    root = torch.zeros(4, 3, dtype=torch.float64)
    assert torch.allclose(forward_kinematics(quats, root, offsets), 2.0 * forward_kinematics(quats, root), atol=1e-12)


def test_fk_gradient_matches_finite_differences() -> None:
    quats = safe_normalize(torch.randn(2, 22, 4, generator=GEN, dtype=torch.float64)).requires_grad_(True)
    root = torch.randn(2, 3, generator=GEN, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(forward_kinematics, (quats, root), fast_mode=True)



def bone_lengths(joints: torch.Tensor) -> torch.Tensor:
    """[..., 21] length of each bone parent(j) -> j, metres."""
    return (joints[..., 1:, :] - joints[..., list(skeleton.PARENTS[1:]), :]).norm(dim=-1)


def test_projection_restores_rest_bone_lengths_and_keeps_directions() -> None:
    rigid = random_pose_batch(3, 5)
    # Stretch every bone by its own factor in [0.7, 1.3], as a network's joints drift.
    stretch = 0.7 + 0.6 * torch.rand(3, 5, 21, 1, generator=GEN, dtype=torch.float64)
    bones = (rigid[..., 1:, :] - rigid[..., list(skeleton.PARENTS[1:]), :]) * stretch
    ancestors = torch.as_tensor(kinematics._ANCESTORS[:, 1:], dtype=torch.float64)
    drifted = rigid[..., :1, :] + torch.einsum("jk,...kc->...jc", ancestors, bones)
    projected = project_to_skeleton(drifted)
    rest = torch.as_tensor(skeleton.BONE_LENGTHS[1:], dtype=torch.float64)
    assert (bone_lengths(drifted) - rest).abs().max().item() > 0.01
    assert (bone_lengths(projected) - rest).abs().max().item() < 1e-12
    assert (projected - rigid).abs().max().item() < 1e-12  # directions kept, so the rigid pose returns
    assert torch.equal(projected[..., 0, :], drifted[..., 0, :])


def test_projection_gradient_is_finite_and_matches_finite_differences() -> None:
    joints = random_pose_batch(2).detach()
    joints[1, 4] = joints[1, 1]  # a zero-length bone (left hip -> left knee)
    probe = joints[:1].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(project_to_skeleton, (probe,), fast_mode=True)
    degenerate = joints.clone().requires_grad_(True)
    project_to_skeleton(degenerate).pow(2).sum().backward()
    assert torch.isfinite(degenerate.grad).all()

def test_place_turns_about_the_origin_then_shifts() -> None:
    joints = torch.zeros(2, 3, 22, 3, dtype=torch.float64)
    joints[..., 0] = 1.0  # every joint at (1, 0, 0)
    placed = place(joints, torch.tensor([math.pi / 2, 0.0], dtype=torch.float64), torch.tensor([[0.0, 5.0], [2.0, 0.0]], dtype=torch.float64))
    # (1, 0, 0) turned a quarter about +Y is (0, 0, -1); then shifted by (0, 5) in XZ.
    assert torch.allclose(placed[0], torch.tensor([0.0, 0.0, 4.0], dtype=torch.float64).expand(3, 22, 3), atol=1e-15)
    assert torch.allclose(placed[1], torch.tensor([3.0, 0.0, 0.0], dtype=torch.float64).expand(3, 22, 3))


def test_projection_keeping_contacts_keeps_each_frames_lowest_joint_height() -> None:
    """Legs shortened by 20 % (a network's drift) hang lower after a plain projection; keeping
    the contacts lifts every frame back so its lowest joint stays at the height it had."""
    joints = random_pose_batch(1)[0].unsqueeze(0).repeat(4, 1, 1)  # [T=4, 22, 3]
    joints[:, [4, 5, 7, 8, 10, 11]] = joints[:, [1, 2, 4, 5, 7, 8]] + 0.8 * (
        joints[:, [4, 5, 7, 8, 10, 11]] - joints[:, [1, 2, 4, 5, 7, 8]])
    kept = project_keeping_contacts(joints)
    assert torch.allclose(kept[..., 1].amin(-1), joints[..., 1].amin(-1), atol=1e-12)
    plain = project_to_skeleton(joints)
    assert torch.allclose(kept - plain, (kept - plain)[:, :1].expand_as(kept), atol=1e-12)  # one shift per frame
    assert torch.allclose(kept[..., [0, 2]], plain[..., [0, 2]], atol=1e-12)  # vertical only

