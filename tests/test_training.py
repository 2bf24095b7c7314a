"""Training the bundled denoiser: windows, a loss that falls, checkpoints that resume exactly."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from motionprog.body.kinematics import forward_kinematics
from motionprog.body.rotations import quat_multiply, yaw_quat
from motionprog.errors import InputError
from motionprog.models.bundled import DenoiserConfig, load_weights
from motionprog.models.training import (
    TrainConfig,
    build_training_set,
    evaluate,
    learning_rate,
    losses,
    sample_windows,
    train,
)

TINY = DenoiserConfig(widths=(16, 24), blocks=1, emb_dim=32, max_frames=48)


def axis_angle_x(angle: torch.Tensor) -> torch.Tensor:
    """Rotation by ``angle [...]`` radians about +X: quaternions [..., 4]."""
    half = 0.5 * angle
    zero = torch.zeros_like(half)
    return torch.stack([half.cos(), half.sin(), zero, zero], dim=-1)


def synthetic_walk(frames: int, speed: float, turn: float, swing: float) -> np.ndarray:
    """A kinematically valid stepping motion on the HumanML3D skeleton: joints [T, 22, 3].

    Thighs and arms swing by ``swing`` rad at 1 Hz, the body heads +Z turning at ``turn``
    rad/s and moves at ``speed`` m/s; the feet start on the floor.
    """
    time = torch.arange(frames, dtype=torch.float32) / 20.0
    phase = swing * torch.sin(2 * math.pi * time)
    heading = turn * time
    local = torch.zeros(frames, 22, 4)
    local[..., 0] = 1.0
    local[:, 0] = yaw_quat(heading)
    local[:, 4] = axis_angle_x(phase)
    local[:, 5] = axis_angle_x(-phase)
    arm_down = torch.tensor([math.cos(-0.7), 0.0, 0.0, math.sin(-0.7)])
    local[:, 18] = quat_multiply(arm_down.expand(frames, 4), axis_angle_x(-phase))
    local[:, 19] = quat_multiply(torch.tensor([math.cos(0.7), 0.0, 0.0, math.sin(0.7)]).expand(frames, 4),
                                 axis_angle_x(phase))
    step = speed / 20.0 * torch.stack([heading.sin(), torch.zeros(frames), heading.cos()], dim=-1)
    root = torch.cumsum(step, dim=0)
    joints = forward_kinematics(local, root)
    joints[..., 1] -= joints[..., 1].min()
    return joints.numpy()


@pytest.fixture(scope="module")
def data():
    motions = [
        (synthetic_walk(64, 1.2, 0.0, 0.5), "a person walks forward"),
        (synthetic_walk(56, 0.0, 1.5, 0.0), "a person turns in place"),
        (synthetic_walk(60, 1.0, -0.8, 0.4), "a person walks and turns right"),
    ]
    return build_training_set([m[0] for m in motions], [m[1] for m in motions])


def tiny_config(steps: int) -> TrainConfig:
    return TrainConfig(steps=steps, frames_per_batch=256, min_frames=16, max_frames=32, lr=3e-3,
                       warmup=2, checkpoint_every=10, ema_decay=0.5, model=TINY)


def test_training_set_is_normalised_with_its_own_stats(data):
    valid = torch.cat([data.features[i, :n] for i, n in enumerate(data.lengths.tolist())])
    assert data.features.shape == (3, 64, 67)
    assert data.lengths.tolist() == [64, 56, 60]
    assert torch.allclose(valid.mean(0), torch.zeros(67), atol=1e-4)
    assert data.text.shape == (3, 384)
    assert data.minutes == pytest.approx(180 / 20 / 60)


def test_windows_stay_inside_each_motion(data):
    generator = torch.Generator().manual_seed(0)
    x0, text = sample_windows(data, 200, 56, generator)
    assert x0.shape == (200, 56, 67) and text.shape == (200, 384)
    # a window never reaches the zero padding past a motion's end: each window matches a slice
    zero_frames = (x0.abs().sum(-1) == 0).sum()
    assert int(zero_frames) == 0
    with pytest.raises(InputError, match="65 frames"):
        sample_windows(data, 4, 65, generator)


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    config = TrainConfig(steps=1000, warmup=100, lr=1e-3)
    assert learning_rate(0, config) == pytest.approx(1e-5)
    assert learning_rate(99, config) == pytest.approx(1e-3)
    assert learning_rate(1000, config) == pytest.approx(1e-4)


def test_loss_falls_and_resume_continues_exactly(data, tmp_path):
    torch.manual_seed(0)
    from motionprog.models.bundled import Denoiser

    config = tiny_config(40)
    before = evaluate(Denoiser(TINY), data, config, frames=32, batches=2)
    straight = train(data, tmp_path / "a", config)
    after = evaluate(straight, data, config, frames=32, batches=2)
    assert after["total"] < 0.5 * before["total"]

    train(data, tmp_path / "b", config, stop_after=20)
    resumed = train(data, tmp_path / "b", config, resume=True)
    x = torch.randn(2, 24, 67)
    t = torch.tensor([10, 500])
    args = (x, t, data.text[:2], torch.ones(2))
    assert torch.equal(straight(*args), resumed(*args))

    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in log] == [10, 20, 30, 40]
    model, mean, std, metadata = load_weights(tmp_path / "b" / "bundled.safetensors")
    assert metadata["step"] == "40"
    assert torch.equal(model(*args), resumed(*args))
    assert torch.equal(mean, data.mean) and torch.equal(std, data.std)


def test_resume_needs_a_checkpoint_of_the_same_architecture(data, tmp_path):
    with pytest.raises(InputError, match="checkpoint.pt: no checkpoint"):
        train(data, tmp_path, tiny_config(1), resume=True)
    train(data, tmp_path, tiny_config(1))
    wider = replace(tiny_config(2), model=replace(TINY, widths=(16, 32)))
    with pytest.raises(InputError, match="architecture differs"):
        train(data, tmp_path, wider, resume=True)


def test_train_command_writes_weights_and_resumes(tmp_path):
    from typer.testing import CliRunner

    from motionprog.cli.app import app
    from motionprog.motion import Motion, save_npz

    save_npz(Motion(joints=synthetic_walk(48, 1.0, 0.2, 0.5), text="a person walks forward"), tmp_path / "walk.npz")
    runner = CliRunner()
    args = ["train", str(tmp_path / "walk.npz"), "-o", str(tmp_path / "run"), "--batch", "64",
            "--holdout-every", "0", "--threads", "1"]
    first = runner.invoke(app, [*args, "--steps", "2"])
    assert first.exit_code == 0, first.output
    assert "2 training motions (0.1 min)" in first.output  # the clip and its mirror image
    second = runner.invoke(app, [*args, "--steps", "3", "--resume"])
    assert second.exit_code == 0, second.output
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert steps == [2, 3]
    assert load_weights(tmp_path / "run" / "bundled.safetensors")[3]["step"] == "3"


def test_train_command_rejects_missing_data(tmp_path):
    from typer.testing import CliRunner

    from motionprog.cli.app import app

    result = CliRunner().invoke(app, ["train", str(tmp_path / "none.npz"), "-o", str(tmp_path / "run")])
    assert isinstance(result.exception, InputError) and "none.npz" in str(result.exception)
    assert not (tmp_path / "run").exists()


def test_loss_terms_of_a_prediction_that_slides_by_a_known_speed():
    """A standing motion predicted with an extra forward root velocity d (m/frame): the whole
    body slides rigidly, so the planted-foot term and the velocity term are d^2 exactly and
    the bone term is zero; a perfect prediction scores zero on every term."""
    standing = synthetic_walk(24, 0.0, 0.0, 0.0)
    data = build_training_set([standing, synthetic_walk(24, 1.0, 0.0, 0.5)], ["stand", "walk"])
    x0 = data.features[:1, :24]
    d = 0.02
    shift = torch.zeros(67)
    shift[2] = d / data.std[2]  # root Z velocity in the body frame, normalised
    generator = torch.Generator().manual_seed(0)
    alphas = torch.linspace(0.99, 0.01, 1000)
    perfect = losses(lambda x_t, t, text, keep: x0, x0, data.text[:1], data, alphas, TrainConfig(), generator)
    assert all(float(value) == pytest.approx(0.0, abs=1e-10) for value in perfect.values())
    sliding = losses(lambda x_t, t, text, keep: x0 + shift, x0, data.text[:1], data, alphas, TrainConfig(), generator)
    assert float(sliding["foot"]) == pytest.approx(d**2, rel=1e-3)
    assert float(sliding["vel"]) == pytest.approx(d**2, rel=1e-3)
    assert float(sliding["bone"]) == pytest.approx(0.0, abs=1e-9)
