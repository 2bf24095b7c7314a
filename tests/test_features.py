"""HumanML3D features <-> joints, checked against the dataset's own sample 012314."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from motionprog.body.features import (
    FEATURE_DIM,
    FEATURE_SLICES,
    Normalizer,
    canonicalize,
    features_to_joints,
    initial_placement,
    joints_to_features,
    smooth_frames,
)
from motionprog.body.placement import place
from motionprog.errors import InputError
from tests.conftest import shared_path

# The stored features were encoded from 171 frames; the stored joints keep 170. Frames whose
# heading smoothing window (80 frames each way) does not reach the lost last frame encode
# identically; later frames see a slightly different smoothed heading.
UNAFFECTED = 170 - 1 - 80


@pytest.fixture(scope="module")
def sample() -> tuple[torch.Tensor, torch.Tensor]:
    vecs = np.load(shared_path("fixtures/humanml3d/012314_joint_vecs.npy"))
    joints = np.load(shared_path("fixtures/humanml3d/012314_joints.npy"))
    return torch.from_numpy(vecs), torch.from_numpy(joints)


def test_feature_slices_tile_the_263_dims() -> None:
    bounds = [(s.start, s.stop) for s in FEATURE_SLICES.values()]
    assert bounds[0][0] == 0 and bounds[-1][1] == FEATURE_DIM
    assert all(stop == start for (_, stop), (start, _) in zip(bounds[:-1], bounds[1:]))


def test_decode_reproduces_stored_joints(sample) -> None:
    vecs, joints = sample
    decoded = features_to_joints(vecs)
    assert decoded.shape == (170, 22, 3)
    assert (decoded - joints).abs().max().item() < 1e-5


def test_decode_reads_only_the_first_67_dims(sample) -> None:
    vecs, joints = sample
    assert torch.equal(features_to_joints(vecs[:, :67]), features_to_joints(vecs))


def test_decode_is_batched(sample) -> None:
    vecs, _ = sample
    batch = torch.stack([vecs[:40], vecs[10:50]])
    decoded = features_to_joints(batch)
    assert torch.allclose(decoded[1], features_to_joints(vecs[10:50]))


def test_encode_then_decode_reproduces_stored_joints(sample) -> None:
    _, joints = sample
    encoded = joints_to_features(joints.double())
    assert encoded.shape == (170, FEATURE_DIM)
    # The stored joints already start on the floor at the origin facing +Z.
    assert (features_to_joints(encoded) - joints.double()).abs().max().item() < 1e-5


@pytest.mark.parametrize(
    ("group", "early_tol", "late_tol"),
    [
        ("root_rot_vel", 1e-6, 1e-3),
        ("root_lin_vel", 1e-6, 1e-3),
        ("root_y", 1e-6, 1e-6),
        ("ric", 1e-6, 1e-2),
        ("rot6d", 2e-5, 2e-2),
        ("local_vel", 1e-6, 1e-3),
        ("contacts", 0.0, 0.0),
    ],
)
def test_encoded_features_match_stored_groups(sample, group, early_tol, late_tol) -> None:
    vecs, joints = sample
    part = FEATURE_SLICES[group]
    error = (joints_to_features(joints.double())[:-1, part] - vecs[:-1, part].double()).abs().amax(dim=-1)
    assert error[:UNAFFECTED].max().item() <= early_tol
    assert error.max().item() <= late_tol


def test_encoding_keeps_world_placement_apart() -> None:
    generator = torch.Generator().manual_seed(0)
    vecs = torch.zeros(30, FEATURE_DIM, dtype=torch.float64)
    vecs[:, 0] = 0.02
    vecs[:, 1:3] = torch.tensor([0.0, 0.05])
    vecs[:, 3] = 0.9
    vecs[:, 4:67] = torch.randn(63, generator=generator, dtype=torch.float64) * 0.3
    canonical = canonicalize(features_to_joints(vecs))
    world = place(canonical[None], torch.tensor([1.1], dtype=torch.float64), torch.tensor([[2.0, -3.0]], dtype=torch.float64))[0]
    world = world + torch.tensor([0.0, 0.25, 0.0], dtype=torch.float64)
    yaw, xz, floor = initial_placement(world)
    assert math.isclose(floor.item(), 0.25, abs_tol=1e-12)
    assert torch.allclose(xz, torch.tensor([2.0, -3.0], dtype=torch.float64))
    assert math.isclose(yaw.item(), 1.1, abs_tol=1e-9)
    restored = place(features_to_joints(joints_to_features(world))[None], yaw[None], xz[None])[0]
    restored = restored + torch.stack([torch.zeros_like(floor), floor, torch.zeros_like(floor)])
    assert (restored - world).abs().max().item() < 1e-9


def test_last_frame_velocities_repeat_the_previous_frame(sample) -> None:
    _, joints = sample
    encoded = joints_to_features(joints[:20].double())
    for group in ("root_rot_vel", "root_lin_vel", "local_vel", "contacts"):
        part = FEATURE_SLICES[group]
        assert torch.equal(encoded[-1, part], encoded[-2, part])


def test_one_frame_motion_has_zero_velocity(sample) -> None:
    _, joints = sample
    encoded = joints_to_features(joints[:1].double())
    assert encoded.shape == (1, FEATURE_DIM)
    assert encoded[0, FEATURE_SLICES["local_vel"]].abs().max().item() == 0.0
    assert encoded[0, FEATURE_SLICES["contacts"]].tolist() == [1.0, 1.0, 1.0, 1.0]


def test_smoothing_matches_scipy() -> None:
    from scipy.ndimage import gaussian_filter1d

    values = torch.randn(37, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    expected = gaussian_filter1d(values.numpy(), 20, axis=0, mode="nearest")
    assert np.abs(smooth_frames(values).numpy() - expected).max() < 1e-12


def test_decode_gradient_matches_finite_differences(sample) -> None:
    vecs, _ = sample
    features = vecs[:6, :67].double().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(features_to_joints, (features,), eps=1e-6, atol=1e-6, fast_mode=True)


def test_encode_gradient_matches_finite_differences(sample) -> None:
    _, joints = sample
    positions = joints[:5].double().clone()
    positions[..., 1] += 0.01  # keep the floor joint unique so the minimum is differentiable
    positions.requires_grad_(True)

    def continuous_features(x: torch.Tensor) -> torch.Tensor:
        return joints_to_features(x)[..., :FEATURE_SLICES["contacts"].start]

    assert torch.autograd.gradcheck(continuous_features, (positions,), eps=1e-6, atol=1e-5, fast_mode=True)


def test_normalizer_round_trip(humanml3d_dir) -> None:
    normalizer = Normalizer.from_directory(humanml3d_dir)
    assert normalizer.mean.shape == (FEATURE_DIM,)
    vecs = torch.from_numpy(np.load(humanml3d_dir / "012314_joint_vecs.npy"))
    normalized = normalizer.normalize(vecs)
    assert torch.allclose(normalized * normalizer.std + normalizer.mean, vecs, atol=1e-6)
    assert torch.allclose(normalizer.denormalize(normalized), vecs, atol=1e-5)


def test_normalizer_missing_directory_names_the_file(tmp_path) -> None:
    with pytest.raises(InputError, match="Mean.npy: no such file"):
        Normalizer.from_directory(tmp_path)


def test_normalizer_wrong_shape_names_the_shape(tmp_path) -> None:
    np.save(tmp_path / "Mean.npy", np.zeros(10, dtype=np.float32))
    np.save(tmp_path / "Std.npy", np.ones(263, dtype=np.float32))
    with pytest.raises(InputError, match=r"Mean.npy: expected shape \[263\], got \[10\]"):
        Normalizer.from_directory(tmp_path)
