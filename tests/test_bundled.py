"""The bundled prior: shipped weights, the protocol, the safetensors round trip, text embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionprog.errors import InputError
from motionprog.models.bundled import (
    WEIGHTS_PATH,
    Denoiser,
    DenoiserConfig,
    load_bundled,
    load_weights,
    save_weights,
)
from motionprog.models.protocol import MotionModel
from motionprog.models.text_encoder import TEXT_DIM, embed_texts

TINY = DenoiserConfig(widths=(16, 24, 32), blocks=1, emb_dim=32)


def random_denoiser(seed: int) -> Denoiser:
    """A tiny denoiser with every weight random (the output layers start at zero otherwise)."""
    torch.manual_seed(seed)
    model = Denoiser(TINY).eval()
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.2)
    return model


def test_text_embeddings_are_deterministic_unit_vectors_that_tell_prompts_apart():
    first = embed_texts(["a person walks forward", "a person jumps on the spot"])
    again = embed_texts(["a person walks forward"])
    assert first.shape == (2, TEXT_DIM) and first.dtype == torch.float32
    assert torch.allclose(first.norm(dim=1), torch.ones(2), atol=1e-5)
    assert torch.equal(first[0], again[0])
    assert float(first[0] @ first[1]) < 0.9


def test_shipped_weights_fit_the_size_budget():
    assert WEIGHTS_PATH.stat().st_size <= 20 * 2**20


def test_shipped_model_generates_finite_joints_of_the_requested_length(bundled_model):
    assert isinstance(bundled_model, MotionModel)
    z = bundled_model.latents([0, 1], 37)
    assert z.shape == (2, *bundled_model.latent_shape(37)) == (2, 37, 67)
    with torch.no_grad():
        features = bundled_model.decode(z, "a person walks forward", steps=4)
        joints = bundled_model.to_joints(features)
    assert features.shape == (2, 37, 67)
    assert joints.shape == (2, 37, 22, 3)
    assert torch.isfinite(joints).all()
    # the pelvis stands at a human height, not at the origin or in the sky
    assert 0.5 < float(joints[..., 0, 1].mean()) < 1.3


def test_decode_is_reproducible_per_seed_and_differentiable_in_z(bundled_model):
    z = bundled_model.latents([3, 4], 24).requires_grad_(True)
    features = bundled_model.decode(z, ["a person jogs in place", "a person walks forward"], steps=3, guidance=2.0)
    bundled_model.to_joints(features)[..., 0, :].sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    again = bundled_model.decode(bundled_model.latents([4], 24), "a person walks forward", steps=3, guidance=2.0)
    assert torch.allclose(features[1:].detach(), again, atol=1e-5)


def test_lengths_outside_the_model_are_rejected(bundled_model):
    with pytest.raises(InputError, match="197"):
        bundled_model.latent_shape(197)
    with pytest.raises(InputError, match="3 prompts for 2 samples"):
        bundled_model.decode(bundled_model.latents([0, 1], 8), ["a", "b", "c"], steps=2)


def test_safetensors_round_trip_gives_identical_outputs(tmp_path):
    model = random_denoiser(0)
    mean, std = torch.randn(67), torch.rand(67) + 0.5
    path = tmp_path / "w.safetensors"
    save_weights(path, model, mean, std, {"note": "test"})
    loaded, mean2, std2, metadata = load_weights(path)
    x, t, text = torch.randn(3, 21, 67), torch.tensor([0, 400, 999]), torch.randn(3, TEXT_DIM)
    keep = torch.tensor([1.0, 0.0, 1.0])
    with torch.no_grad():
        assert torch.equal(model(x, t, text, keep), loaded(x, t, text, keep))
    assert torch.equal(mean, mean2) and torch.equal(std, std2)
    assert metadata["note"] == "test" and loaded.config == TINY
    bundled = load_bundled(path=path)
    with torch.no_grad():
        joints = bundled.to_joints(bundled.decode(bundled.latents([0], 21), "a", steps=2))
    assert joints.shape == (1, 21, 22, 3)


def test_unconditional_branch_ignores_the_text():
    model = random_denoiser(1)
    x, t = torch.randn(2, 12, 67), torch.tensor([500, 500])
    text = torch.randn(2, TEXT_DIM)
    with torch.no_grad():
        uncond = model(x, t, text, torch.zeros(2))
        uncond_other = model(x, t, -text, torch.zeros(2))
        cond = model(x, t, text, torch.ones(2))
    assert torch.equal(uncond, uncond_other)
    assert not torch.allclose(uncond, cond)


def test_a_missing_or_foreign_weights_file_names_the_file(tmp_path):
    with pytest.raises(InputError, match="nothing.safetensors"):
        load_weights(tmp_path / "nothing.safetensors")
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(InputError, match="other.safetensors"):
        load_weights(tmp_path / "other.safetensors")


def test_sample_cli_with_the_default_model_walks_on_a_rigid_skeleton(tmp_path, cli):
    """The issue's done-when: `motionprog sample "a person walks forward" --frames 120` with the
    bundled model gives a walk: it travels forward (+Z), keeps its bone lengths, stays on the floor."""
    from motionprog.body.skeleton import BONE_LENGTHS, PARENTS
    from motionprog.motion import load_npz

    out = tmp_path / "walk.npz"
    status, output = cli("sample", "a person walks forward", "-o", out, "--frames", "120")
    assert status == 0, output
    motion = load_npz(out)
    joints = motion.joints
    assert joints.shape == (120, 22, 3) and motion.features.shape == (120, 263)
    assert joints[-1, 0, 2] - joints[0, 0, 2] > 1.0  # metres travelled forward in 6 s
    bones = np.linalg.norm(joints[:, 1:] - joints[:, list(PARENTS[1:])], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(BONE_LENGTHS[1:], bones.shape), atol=1e-4)
    assert joints[..., 1].min() > -0.02
