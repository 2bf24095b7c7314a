"""CLIP ViT-B/32's text tower, used the way MDM uses it, read from a local Hugging Face directory.

MDM encodes a prompt with OpenAI CLIP: ``clip.tokenize(text, context_length=22, truncate=True)``
(a start token, at most 20 text tokens, an end token), zero-padded to CLIP's 77 positions, then
``encode_text``: the final-layer feature at the end token, projected to 512 dimensions and
used as it is (not normalised). This module does the same with ``transformers``
(``CLIPTokenizer`` + ``CLIPTextModelWithProjection``, whose ``text_embeds`` is that feature),
in float32 (MDM runs CLIP in float16; the difference is at the float16 rounding level).

The weights are the user's: a directory holding the Hugging Face ``openai/clip-vit-base-patch32``
files (config.json, model.safetensors or pytorch_model.bin, vocab.json, merges.txt and the
tokenizer configs). Nothing is downloaded (``local_files_only=True``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from motionprog.errors import InputError
from motionprog.models.quiet_loading import quiet_loading

MDM_TEXT_TOKENS = 20
"""Text tokens MDM keeps for HumanML3D prompts (longer prompts are truncated)."""

CLIP_CONTEXT = 77
"""CLIP's full context length; MDM zero-pads its 22 tokens to it."""

CLIP_HOWTO = (
    "download the Hugging Face model openai/clip-vit-base-patch32 on a machine with network "
    "(huggingface-cli download openai/clip-vit-base-patch32 --local-dir DIR) and pass "
    "--text-encoder clip:DIR, or use --text-encoder none for unconditional sampling"
)


@dataclass(frozen=True)
class ClipTextEncoder:
    """A frozen CLIP text tower; call it with B prompts to get float32 [B, 512] features."""

    tokenizer: Any
    model: torch.nn.Module
    device: torch.device

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        """MDM's CLIP text features of ``texts``: float32 [B, 512] on ``self.device``, no gradient."""
        tokens = mdm_tokens(self.tokenizer, texts).to(self.device)
        with torch.no_grad():
            return self.model(input_ids=tokens).text_embeds.float()


def mdm_tokens(tokenizer: Any, texts: Sequence[str]) -> torch.Tensor:
    """Token ids as MDM builds them: int64 [B, 77], start + <= 20 tokens + end, then zeros."""
    encoded = tokenizer(list(texts), max_length=MDM_TEXT_TOKENS + 2, truncation=True,
                        padding="max_length", return_tensors="pt")
    ids = encoded["input_ids"] * encoded["attention_mask"]
    return torch.nn.functional.pad(ids, (0, CLIP_CONTEXT - ids.shape[1])).to(torch.int64)


def load_clip_text(path: str | os.PathLike, device: str | torch.device = "cpu") -> ClipTextEncoder:
    """Read the CLIP text tower and tokenizer from the local directory ``path`` (see the module doc).

    Raises InputError naming ``path`` when it is missing or does not hold a CLIP model.
    """
    from transformers import CLIPTextModelWithProjection, CLIPTokenizer

    path = Path(path)
    if not (path / "config.json").is_file():
        raise InputError(f"{path}: no CLIP text encoder here (config.json missing); {CLIP_HOWTO}")
    # the vision tower's unused weights are expected, not news: errors only
    with quiet_loading(errors_only=True):
        try:
            tokenizer = CLIPTokenizer.from_pretrained(path, local_files_only=True)
            model = CLIPTextModelWithProjection.from_pretrained(path, local_files_only=True,
                                                                dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read a CLIP text model ({exc}); {CLIP_HOWTO}") from exc
    device = torch.device(device)
    model = model.to(device).eval().requires_grad_(False)
    return ClipTextEncoder(tokenizer=tokenizer, model=model, device=device)
