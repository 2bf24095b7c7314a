"""The contract every MotionModel keeps: what the optimizer and the CLI are allowed to rely on."""

from __future__ import annotations

import pytest
import torch

from motionprog.models import MotionModel, load_model

FRAMES = 16
STEPS = 2


@pytest.fixture(params=["mdm", "bundled"])
def model(request) -> MotionModel:
    if request.param == "mdm":
        return load_model(f"mdm:{request.getfixturevalue('mdm_dir')}", text_encoder="none", device="cpu")
    bundled = pytest.importorskip("motionprog.models.bundled")
    if not bundled.WEIGHTS_PATH.is_file():
        pytest.skip(f"{bundled.WEIGHTS_PATH} is not there yet")
    return request.getfixturevalue("bundled_model")


def test_model_describes_itself(model):
    assert isinstance(model, MotionModel)
    assert model.fps == 20 and model.max_frames >= 120
    assert model.device == torch.device("cpu") and model.dtype == torch.float32


def test_latents_are_reproducible_per_seed(model):
    pair = model.latents([0, 1], FRAMES)
    assert pair.shape == (2, *model.latent_shape(FRAMES))
    assert pair.dtype == model.dtype
    torch.testing.assert_close(model.latents([1], FRAMES)[0], pair[1], rtol=0, atol=0)
    assert not torch.equal(pair[0], pair[1])
    assert pair.std().item() == pytest.approx(1.0, abs=0.15)


def test_decode_gives_features_and_joints_deterministically(model):
    z = model.latents([0, 1], FRAMES)
    with torch.no_grad():
        features = model.decode(z, "a person walks forward", STEPS)
        again = model.decode(z, "a person walks forward", STEPS)
        joints = model.to_joints(features)
    assert features.ndim == 3 and features.shape[:2] == (2, FRAMES)
    torch.testing.assert_close(features, again, rtol=0, atol=0)
    assert joints.shape == (2, FRAMES, 22, 3)
    assert torch.isfinite(joints).all()


def test_gradient_reaches_the_latent(model):
    z = model.latents([3], FRAMES).requires_grad_(True)
    joints = model.to_joints(model.decode(z, "a person jumps", STEPS))
    joints[..., 15, 1].sum().backward()  # head height
    assert z.grad is not None and z.grad.shape == z.shape
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_mdm_on_cuda_matches_cpu(mdm_dir):
    cpu = load_model(f"mdm:{mdm_dir}", text_encoder="none", device="cpu")
    gpu = load_model(f"mdm:{mdm_dir}", text_encoder="none", device="cuda")
    with torch.no_grad():
        expected = cpu.decode(cpu.latents([0], FRAMES), "", STEPS)
        got = gpu.decode(gpu.latents([0], FRAMES), "", STEPS)
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), expected, rtol=0, atol=1e-3)
