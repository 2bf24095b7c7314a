"""Shared test fixtures: the `../shared` reference material, skipped cleanly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

torch.set_num_threads(1)


def shared_path(relative: str) -> Path:
    """Path of a file under ../shared; skips the calling test when it is not there."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/{relative} is not available")
    return path


def assert_exact_gradients(function, joints: torch.Tensor, eps: float, atol: float, rtol: float = 1e-3) -> None:
    """What ``torch.autograd.gradcheck`` asserts of ``function`` (joints [1, T, 22, 3] float64 ->
    [1, ...], such as ``Program.margins`` or ``Program.loss``): every entry of the autograd
    Jacobian is within ``atol + rtol * |numerical|`` of the central difference with step
    ``eps``. All 2 x T x 66 perturbed poses go through ``function`` as one batch, as seeds do,
    instead of one call each: the same check, in a fraction of the time."""
    basis = torch.eye(joints.numel(), dtype=joints.dtype).reshape(-1, *joints.shape[1:])
    with torch.no_grad():
        numerical = (function(joints + eps * basis) - function(joints - eps * basis)) / (2 * eps)
    analytical = torch.autograd.functional.jacobian(lambda pose: function(pose)[0], joints)
    numerical, analytical = numerical.reshape(joints.numel(), -1).T, analytical.reshape(-1, joints.numel())
    assert torch.isfinite(analytical).all() and analytical.abs().sum() > 0
    assert torch.allclose(analytical, numerical, atol=atol, rtol=rtol), \
        f"largest gradient error {float((analytical - numerical).abs().max()):.3g}"


@pytest.fixture
def humanml3d_dir() -> Path:
    """../shared/fixtures/humanml3d (sample 012314 and the dataset's Mean/Std)."""
    return shared_path("fixtures/humanml3d")


def pose_from_offsets(offsets: torch.Tensor) -> torch.Tensor:
    """Global joints [22, 3] from per-joint offsets [22, 3] to the parent (pelvis at the origin)."""
    from motionprog.body.skeleton import NUM_JOINTS, PARENTS

    ancestors = torch.eye(NUM_JOINTS, dtype=offsets.dtype)
    for joint, parent in enumerate(PARENTS):
        if parent >= 0:
            ancestors[joint] += ancestors[parent]
    return ancestors @ offsets


@pytest.fixture
def rest_pose() -> torch.Tensor:
    """Global joints [22, 3] (float64, metres) of HumanML3D's rest pose (skeleton.REST_OFFSETS:
    arms hanging down), pelvis at the origin, facing +Z."""
    from motionprog.body.skeleton import REST_OFFSETS

    return pose_from_offsets(torch.tensor(REST_OFFSETS, dtype=torch.float64))


@pytest.fixture
def t_pose() -> torch.Tensor:
    """Global joints [22, 3] (float64, metres): the rest skeleton's bone lengths with the arms
    stretched sideways (left along +x), lifted so the lowest joint is on the floor (y = 0)."""
    from motionprog.body.skeleton import BONE_LENGTHS, RAW_OFFSETS

    directions = torch.tensor(RAW_OFFSETS, dtype=torch.float64)
    directions[[16, 18, 20]] = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    directions[[17, 19, 21]] = torch.tensor([-1.0, 0.0, 0.0], dtype=torch.float64)
    pose = pose_from_offsets(directions * torch.tensor(BONE_LENGTHS, dtype=torch.float64)[:, None])
    return pose - torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64) * pose[:, 1].min()


@pytest.fixture(scope="session")
def mdm_reference_state() -> dict[str, torch.Tensor]:
    """The deterministic random MDM weights of ../shared/fixtures/mdm/README.md.

    One draw per key of the shapes JSON, in its order, from generator seed 0, scaled by the
    README's three rules. The README exempts ``sequence_pos_encoder.pe``; its alias
    ``embed_timestep.sequence_pos_encoder.pe`` (the SAME buffer in MDM) is drawn and assigned
    like any tensor of two or more dims, so loading this dict replaces the sinusoidal table
    (that is what the published reference outputs were computed with).
    """
    import json
    import math

    shapes = json.loads(shared_path("fixtures/mdm/humanml_trans_enc_512.state_dict_shapes.json").read_text())
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, shape in shapes.items():
        if key == "sequence_pos_encoder.pe":
            continue
        r = torch.randn(*shape, generator=generator)
        if key.endswith(("norm1.weight", "norm2.weight")):
            state[key] = 1 + 0.1 * r
        elif len(shape) >= 2:
            state[key] = r / math.sqrt(shape[1])
        else:
            state[key] = 0.1 * r
    state["sequence_pos_encoder.pe"] = state["embed_timestep.sequence_pos_encoder.pe"]
    return state


@pytest.fixture(scope="session")
def mdm_dir(tmp_path_factory, mdm_reference_state) -> Path:
    """A directory laid out like the public MDM release, with the random reference weights:
    model000475000.pt (a plain state_dict, no CLIP weights), args.json, Mean.npy, Std.npy."""
    import json
    import shutil

    directory = tmp_path_factory.mktemp("mdm")
    torch.save(mdm_reference_state, directory / "model000475000.pt")
    args = {"arch": "trans_enc", "dataset": "humanml", "latent_dim": 512, "layers": 8,
            "cond_mask_prob": 0.1, "guidance_param": 2.5, "noise_schedule": "cosine",
            "diffusion_steps": 1000, "sigma_small": True}
    (directory / "args.json").write_text(json.dumps(args))
    for name in ("Mean.npy", "Std.npy"):
        shutil.copy(shared_path(f"fixtures/humanml3d/{name}"), directory / name)
    return directory


@pytest.fixture(scope="session")
def bundled_model():
    """The shipped bundled prior on the CPU, loaded once for the whole run (its text encoder and
    the embeddings of its training labels are then computed once too). Tests only read it."""
    from motionprog.models.registry import load_model

    return load_model("bundled", device="cpu")


TINY_MAX_FRAMES = 64
"""Longest motion of the ``tiny_model`` fixture."""


@pytest.fixture(scope="session")
def tiny_model():
    """A tiny randomly initialised bundled-architecture model (seed 0) on the CPU: the real
    Denoiser, DDIM sampler and feature decoder, max 64 frames, standing at the rest pose with
    a pelvis height of 0.93 m on average. Its output layer gets random weights (std 0.2) so that
    the decoded motion depends on the noise."""
    from motionprog.body.skeleton import REST_OFFSETS
    from motionprog.models.bundled import BundledModel, Denoiser, DenoiserConfig

    torch.manual_seed(0)
    config = DenoiserConfig(widths=(16, 32), blocks=1, emb_dim=32, max_frames=TINY_MAX_FRAMES)
    denoiser = Denoiser(config)
    torch.nn.init.normal_(denoiser.out.weight, std=0.2)
    pose = pose_from_offsets(torch.tensor(REST_OFFSETS)) + torch.tensor([0.0, 0.93, 0.0])
    mean = torch.cat([torch.tensor([0.0, 0.0, 0.0, 0.93]), pose[1:].flatten()])
    std = torch.cat([torch.full((3,), 0.01), torch.full((64,), 0.05)])
    return BundledModel(denoiser, mean, std, default_steps=4, default_guidance=1.0)


@pytest.fixture(scope="session")
def tiny_weights(tiny_model, tmp_path_factory) -> Path:
    """``tiny_model`` saved as a bundled-model safetensors file (usable as ``--model PATH``)."""
    from motionprog.models.bundled import save_weights

    path = tmp_path_factory.mktemp("tiny") / "tiny.safetensors"
    save_weights(path, tiny_model.denoiser, tiny_model.mean, tiny_model.std)
    return path


@pytest.fixture(scope="session")
def swinging_joints():
    """Joints float32 [24, 22, 3] (metres, Y up) of a body walking +Z at 1 m/s with every joint
    swinging sinusoidally (up to 0.4 rad, seed 6) from the T-pose, built by forward kinematics
    of the rig, so it is exactly a rig pose (bone lengths ``skeleton.BONE_LENGTHS``)."""
    from motionprog.body.kinematics import rig_joints
    from motionprog.numerics import safe_normalize

    generator = torch.Generator().manual_seed(6)
    frames = 24
    t = torch.arange(frames, dtype=torch.float64)[:, None, None] / 20.0
    axes = safe_normalize(torch.randn(22, 3, generator=generator, dtype=torch.float64))
    amplitude = 0.4 * torch.rand(22, 1, generator=generator, dtype=torch.float64)
    half = 0.5 * amplitude * torch.sin(2 * torch.pi * 1.5 * t + torch.arange(22.0)[None, :, None])
    local = torch.cat([torch.cos(half), torch.sin(half) * axes], dim=-1)  # [T, 22, 4]
    root = torch.stack([torch.zeros(frames), torch.full((frames,), 0.93), torch.arange(frames) / 20.0], -1)
    return rig_joints(local, root.double()).float().numpy()


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run ``motionprog ARGS`` as the console script does; returns (exit status, stdout + stderr)."""
    import sys

    from motionprog.cli.app import main

    def invoke(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["motionprog", *map(str, args)])
        with pytest.raises(SystemExit) as stop:
            main()
        captured = capsys.readouterr()
        return stop.value.code or 0, captured.out + captured.err

    return invoke


CMU_EXCERPT_FRAMES = 60
"""Frames of the ``cmu_excerpt`` fixture (3 s at 20 fps)."""


@pytest.fixture(scope="session")
def cmu_excerpt(tmp_path_factory) -> Path:
    """The first 3 s (60 frames, 20 fps) of the vendored CMU clip 01_01 (a person jumping), saved
    as ``cmu_01_01_3s.npz``: real retargeted motion capture to export and reopen elsewhere."""
    from dataclasses import replace

    from motionprog.motion import load_npz, save_npz

    motion = load_npz(REPO / "motionprog" / "data" / "cmu_01_01.npz")
    path = tmp_path_factory.mktemp("cmu") / "cmu_01_01_3s.npz"
    save_npz(replace(motion, joints=motion.joints[:CMU_EXCERPT_FRAMES]), path)
    return path


@pytest.fixture(scope="session")
def optimised_npz(tiny_model, tmp_path_factory) -> Path:
    """An engine output, not mocap: ``generate`` on the tiny model (a pelvis-height band at frame
    10, 40 frames, 2 seeds, 10 iterations), saved as ``optimised.npz``."""
    from motionprog.motion import save_npz
    from motionprog.optimize import OptimizeConfig, generate

    program = 'motion "a person walks" for 40 frames, seeds 2\nband: at frame 10: pelvis.y in [1.0, 1.02]\n'
    config = OptimizeConfig(steps=4, iterations=10, seeds=2, polish_iterations=0, natural_weight=0.0)
    path = tmp_path_factory.mktemp("optimised") / "optimised.npz"
    save_npz(generate(program, model=tiny_model, config=config).motion, path)
    return path
