"""The content words of a task, read with plain word matching: to choose the example programs
most like it (by their stems) and to name the objects a model may declare when the task gives
no scene (as written)."""

from __future__ import annotations

import re

WORD = re.compile(r"[a-z]{3,}")
COMMON = frozenset("the and with a person for its his her from then that this while stays both "
                   "are is on in at of to".split())
SUFFIXES = ("ing", "ed", "es", "s")
"""Endings dropped so that ``sits`` meets ``sit`` and ``ducking`` meets ``ducks``."""


def words(text: str) -> set[str]:
    """The content words of a text (lowercase, three letters or more, common words dropped)."""
    return set(WORD.findall(text.lower())) - COMMON


def stem(word: str) -> str:
    """``word`` without its first matching ending of :data:`SUFFIXES`, three letters kept."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[:-len(suffix)]
    return word
