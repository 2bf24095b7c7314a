"""Model specs to models: ``bundled`` (the default) and ``mdm:DIR``; text encoder specs; devices."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from motionprog.errors import InputError
from motionprog.models.clip_text import CLIP_HOWTO, load_clip_text
from motionprog.models.mdm import TextEncoder, load_mdm
from motionprog.models.protocol import MotionModel

MODEL_SPECS = "'bundled', 'mdm:DIR' or a .safetensors file written by motionprog train"
TEXT_ENCODER_SPECS = "'none' or 'clip:PATH'"


def resolve_device(device: str | torch.device | None) -> torch.device:
    """None or "auto" -> CUDA when available, else CPU; "cuda" without a GPU raises InputError."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise InputError(f"unknown device '{device}' (use auto, cpu or cuda)") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' was asked for but no CUDA GPU is available")
    return resolved


def load_text_encoder(spec: str | None, device: torch.device) -> TextEncoder | None:
    """MDM's text encoder from a spec: "none" (unconditional) or "clip:PATH" (a local CLIP directory)."""
    if spec is None:
        raise InputError(f"MDM needs a text encoder: pass --text-encoder clip:PATH or none; {CLIP_HOWTO}")
    if spec == "none":
        return None
    kind, _, path = spec.partition(":")
    if kind != "clip" or not path:
        raise InputError(f"unknown text encoder '{spec}' (use {TEXT_ENCODER_SPECS})")
    return load_clip_text(Path(path).expanduser(), device)


def load_model(spec: str = "bundled", *, stats: str | os.PathLike | None = None, text_encoder: str | None = None,
               device: str | torch.device | None = None) -> MotionModel:
    """The model named by ``spec`` on ``device`` (None or "auto": CUDA when available).

    ``spec`` is ``bundled`` (the shipped prior), a ``.safetensors`` file of the bundled
    architecture (as `motionprog train` exports), or ``mdm:DIR``. ``stats`` (a directory with
    HumanML3D Mean.npy / Std.npy) and ``text_encoder`` apply to ``mdm:DIR`` only. Raises
    InputError for an unknown spec or a missing file.
    """
    resolved = resolve_device(device)
    if spec == "bundled" or spec.endswith(".safetensors"):
        if text_encoder is not None or stats is not None:
            raise InputError("the bundled model has its own text encoder and statistics; "
                             "--text-encoder and --stats apply to mdm:DIR")
        from motionprog.models.bundled import WEIGHTS_PATH, load_bundled

        path = WEIGHTS_PATH if spec == "bundled" else Path(spec).expanduser()
        if not path.is_file():
            raise InputError(f"{path}: no such model weights file")
        return load_bundled(resolved, path=path)
    kind, _, directory = spec.partition(":")
    if kind != "mdm" or not directory:
        raise InputError(f"unknown model '{spec}' (use {MODEL_SPECS})")
    encoder = load_text_encoder(text_encoder, resolved)
    return load_mdm(Path(directory).expanduser(), stats=stats, text_encoder=encoder, device=resolved)
