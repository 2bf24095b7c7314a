"""`motionprog sample`: plain text-to-motion (no constraints) through the MotionModel protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
import typer
from rich.console import Console

from motionprog.models.protocol import MotionModel

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def raw_features(model: MotionModel, features: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
    """HumanML3D features [B, T, 263] in their own units: the model's own when it predicts all 263
    dims (de-normalised), else encoded from its joints [B, T, 22, 3]."""
    from motionprog.body.features import joints_to_features
    from motionprog.motion import FEATURE_DIM

    if features.shape[-1] == FEATURE_DIM:
        return model.normalizer.denormalize(features)
    return joints_to_features(joints)


def sample(
    text: str = typer.Argument(..., help="What the person does, e.g. 'a person walks forward'."),
    out: Path = typer.Option(..., "-o", "--out", help="Output motion (.npz)."),
    frames: int = typer.Option(120, "--frames", min=1, help="Length in frames (20 fps)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the initial noise."),
    steps: Optional[int] = typer.Option(
        None, "--steps", min=1, help="DDIM steps (default: the model's own, 6 for bundled, 50 for mdm)."),
    rigid: bool = typer.Option(True, "--rigid/--no-rigid", help="Project onto the rigid skeleton (constant bone lengths)."),
    feet: bool = typer.Option(True, "--foot-cleanup/--no-foot-cleanup", help="Pin planted feet (with --rigid)."),
    model: str = typer.Option("bundled", "--model", help="'bundled' or 'mdm:DIR'."),
    stats: Optional[Path] = typer.Option(None, "--stats", help="HumanML3D Mean.npy/Std.npy directory (mdm only)."),
    text_encoder: Optional[str] = typer.Option(None, "--text-encoder", help="'clip:PATH' or 'none' (mdm only)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
) -> None:
    """Generate one motion for TEXT and write it to OUT (.npz with joints and features)."""
    from motionprog.io.outputs import check_outputs

    check_outputs([], {"--out": (out, (".npz",))})
    from motionprog.errors import InputError
    from motionprog.models.registry import load_model
    from motionprog.motion import Motion, save_npz
    from motionprog.body.feet import clean_feet
    from motionprog.body.kinematics import project_keeping_contacts
    from motionprog.cli.run import warn_unknown_prompt

    motion_model = load_model(model, stats=stats, text_encoder=text_encoder, device=device)
    warn_unknown_prompt(motion_model, text)
    steps = steps or motion_model.default_steps
    if frames > motion_model.max_frames:
        raise InputError(f"--frames {frames}: model '{motion_model.name}' generates at most "
                         f"{motion_model.max_frames} frames in one window; longer motions come from `motionprog run` "
                         f"with a program such as: motion \"{text}\" for {frames / motion_model.fps:g} s")
    with stderr.status(f"sampling {frames} frames with {motion_model.name} ({steps} DDIM steps)"), torch.no_grad():
        features = motion_model.decode(motion_model.latents([seed], frames), text, steps)
        joints = motion_model.to_joints(features)
        joints = project_keeping_contacts(joints) if rigid else joints
        joints = clean_feet(joints, motion_model.fps) if rigid and feet else joints
        raw = raw_features(motion_model, features, joints)
    motion = Motion(joints=joints[0].float().cpu().numpy(), fps=motion_model.fps, text=text,
                    features=raw[0].float().cpu().numpy(),
                    metadata={"model": model, "seed": seed, "steps": steps})
    save_npz(motion, out)
    stdout.print(f"wrote {out} ({frames} frames, {frames / motion_model.fps:g} s)", markup=False)


def register(app: typer.Typer) -> None:
    """Add `motionprog sample` to ``app``."""
    app.command("sample")(sample)
