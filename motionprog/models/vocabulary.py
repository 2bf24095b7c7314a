"""What a model knows to say: how close a prompt is to the labels the model was trained on.

The bundled prior learned from about 45 labelled motions. A prompt far from all of them (say
"a person boxes with their left hand") still yields a motion, mostly walking, and a user should
hear why. Closeness is the cosine similarity of all-MiniLM-L6-v2 sentence embeddings (the
model's own text encoder). ``FAR_FROM_LABELS`` was calibrated on two sets of prompts the model
never saw as labels: everyday requests it cannot do (boxing, drinking, guitar, swimming,
typing, teeth brushing, baseball, push-ups, rowing, golf, juggling, a ladder) reached at most
0.58, while rewordings of what it can do (walking slowly, carrying, jogging in place, kicking,
a cartwheel, squatting, walking up a slope) reached at least 0.64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

FAR_FROM_LABELS = 0.6
"""Cosine similarity to the nearest training label below which a prompt counts as unknown."""


@dataclass(frozen=True)
class PromptMatch:
    """similarity: to the nearest label; nearest: up to three labels, most similar first."""

    text: str
    similarity: float
    nearest: tuple[str, ...]

    @property
    def known(self) -> bool:
        return self.similarity >= FAR_FROM_LABELS

    def to_json(self) -> dict[str, Any]:
        return {"similarity": round(self.similarity, 4), "nearest_labels": list(self.nearest), "known": self.known}

    def notice(self) -> str:
        """One line for the user when the prompt is unknown."""
        labels = "; ".join(f"'{label}'" for label in self.nearest)
        return (f"the prompt is far from everything this model was trained on (similarity {self.similarity:.2f} "
                f"< {FAR_FROM_LABELS}); nearest labels: {labels}. For open vocabulary use --model mdm:DIR")


def match_prompt(text: str, labels: Sequence[str], embed: Any, count: int = 3) -> PromptMatch | None:
    """How close ``text`` is to ``labels`` (None without labels). ``embed(texts, batch)`` gives
    unit-length sentence embeddings [batch, E] (a model's ``embed``)."""
    if not labels:
        return None
    labels = list(labels)
    similarity = (embed(labels, len(labels)) @ embed([text], 1)[0]).float().cpu()
    order = torch.argsort(similarity, descending=True)[:count]
    return PromptMatch(text, float(similarity[order[0]]), tuple(labels[int(i)] for i in order))


def model_prompt_match(model: Any, text: str) -> PromptMatch | None:
    """``match_prompt`` against the model's training labels (None for a model that lists none)."""
    labels = getattr(model, "labels", ())
    return match_prompt(text, labels, model.embed) if labels else None
