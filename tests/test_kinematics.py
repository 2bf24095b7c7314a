"""Forward and inverse kinematics on the 22-joint skeleton."""

from __future__ import annotations

import math

import numpy as np
import torch

from motionprog.body import kinematics, skeleton
from motionprog.body.kinematics import (
    forward_kinematics, inverse_kinematics, project_keeping_contacts, project_to_skeleton, rig_joints,
    rig_rotations,
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


def random_rig_poses(*shape: int) -> torch.Tensor:
    """Joints [*shape, 22, 3] of the rig: its forward kinematics of random local rotations."""
    quats = safe_normalize(torch.randn(*shape, 22, 4, generator=GEN, dtype=torch.float64))
    return rig_joints(quats, torch.randn(*shape, 3, generator=GEN, dtype=torch.float64))


def drift(joints: torch.Tensor) -> torch.Tensor:
    """Every bone stretched by its own factor in [0.7, 1.3] and bent by up to ~0.3 rad, as a
    network's joints drift: the pelvis and chest triangles change shape."""
    bones = joints[..., 1:, :] - joints[..., list(skeleton.PARENTS[1:]), :]
    stretch = 0.7 + 0.6 * torch.rand(*bones.shape[:-1], 1, generator=GEN, dtype=torch.float64)
    bend = 0.3 * bones.norm(dim=-1, keepdim=True) * torch.randn(bones.shape, generator=GEN, dtype=torch.float64)
    ancestors = torch.as_tensor(kinematics._ANCESTORS[:, 1:], dtype=torch.float64)
    return joints[..., :1, :] + torch.einsum("jk,...kc->...jc", ancestors, (bones + bend) * stretch)


def triangle(joints: torch.Tensor, group: tuple[int, int, int, int]) -> torch.Tensor:
    """Distances [..., 3] between a rigid group's three children (its shape)."""
    _, left, right, upper = group
    pairs = ((left, right), (left, upper), (right, upper))
    return torch.stack([(joints[..., a, :] - joints[..., b, :]).norm(dim=-1) for a, b in pairs], -1)


def test_projection_gives_a_rig_pose_with_rigid_pelvis_and_chest() -> None:
    drifted = drift(random_rig_poses(3, 5))
    projected = project_to_skeleton(drifted)
    rest = torch.as_tensor(skeleton.BONE_LENGTHS[1:], dtype=torch.float64)
    assert (bone_lengths(drifted) - rest).abs().max().item() > 0.01
    assert (bone_lengths(projected) - rest).abs().max().item() < 1e-12
    bind = torch.as_tensor(skeleton.RIG_REST_POSITIONS, dtype=torch.float64)
    for group in skeleton.RIGID_GROUPS:  # the triangle the issue saw deform: now the rig's own
        assert (triangle(drifted, group) - triangle(bind, group)).abs().max().item() > 0.01
        assert (triangle(projected, group) - triangle(bind, group)).abs().max().item() < 1e-12
    assert torch.equal(projected[..., 0, :], drifted[..., 0, :])
    chain = [j for j in range(1, 22) if j not in (1, 2, 3, 12, 13, 14)]  # bones off the rigid bodies
    parents = [skeleton.PARENTS[j] for j in chain]
    cosine = (safe_normalize(projected[..., chain, :] - projected[..., parents, :])
              * safe_normalize(drifted[..., chain, :] - drifted[..., parents, :])).sum(-1)
    assert cosine.min().item() > 1 - 1e-12  # those keep their direction


def test_rig_poses_are_fixed_points_and_their_rotations_reproduce_them() -> None:
    poses = random_rig_poses(4, 6)
    assert (project_to_skeleton(poses) - poses).abs().max().item() < 1e-12
    local = rig_rotations(poses)
    assert local.shape == (4, 6, 22, 4)
    assert (rig_joints(local, poses[..., 0, :]) - poses).abs().max().item() < 1e-12
    drifted = drift(poses)
    assert (rig_joints(rig_rotations(drifted), drifted[..., 0, :]) - project_to_skeleton(drifted)).abs().max() < 1e-12


def test_rig_rotations_of_the_bind_pose_are_identity_and_stay_in_one_hemisphere() -> None:
    bind = torch.as_tensor(skeleton.RIG_REST_POSITIONS, dtype=torch.float64)
    assert torch.allclose(rig_rotations(bind[None]), IDENTITY.expand(1, 22, 4), atol=1e-12)
    assert bind[:, 1].min() == 0 and abs(bind[0, 1].item() - 0.910) < 1e-3  # standing on the floor
    wrist, shoulder = bind[skeleton.JOINT_INDEX["left_wrist"]], bind[skeleton.JOINT_INDEX["left_shoulder"]]
    assert wrist[0] > 0.7 and wrist[1] == shoulder[1]  # a T-pose: the left arm straight out along +X
    # A full turn about +Y in 40 frames: canonical (w >= 0) quaternions would jump at 180 degrees.
    turns = yaw_quat(torch.linspace(0, 2 * math.pi, 40, dtype=torch.float64))
    local = torch.cat([turns[:, None], IDENTITY.expand(40, 21, 4)], 1)
    spinning = rig_joints(local, torch.zeros(40, 3, dtype=torch.float64))
    local = rig_rotations(spinning)
    assert ((local[1:] * local[:-1]).sum(-1) > 0.99).all()


def test_projection_gradient_is_finite_and_matches_finite_differences() -> None:
    joints = drift(random_rig_poses(2)).detach()
    joints[1, 4] = joints[1, 1]  # a zero-length bone (left hip -> left knee)
    joints[1, 13] = joints[1, 14]  # coincident collars: a degenerate chest frame
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
    joints = random_rig_poses(1)[0].unsqueeze(0).repeat(4, 1, 1)  # [T=4, 22, 3]
    joints[:, [4, 5, 7, 8, 10, 11]] = joints[:, [1, 2, 4, 5, 7, 8]] + 0.8 * (
        joints[:, [4, 5, 7, 8, 10, 11]] - joints[:, [1, 2, 4, 5, 7, 8]])
    kept = project_keeping_contacts(joints)
    assert torch.allclose(kept[..., 1].amin(-1), joints[..., 1].amin(-1), atol=1e-12)
    plain = project_to_skeleton(joints)
    assert torch.allclose(kept - plain, (kept - plain)[:, :1].expand_as(kept), atol=1e-12)  # one shift per frame
    assert torch.allclose(kept[..., [0, 2]], plain[..., [0, 2]], atol=1e-12)  # vertical only

