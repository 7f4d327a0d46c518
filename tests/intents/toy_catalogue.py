"""A small synthetic catalogue with embeddings: intents are clusters on the unit sphere, and
each text names its intent's words, so every member of the model has something to learn."""

from __future__ import annotations

import numpy as np

from intents.members import Floats

WORDS = ("card", "refund", "parcel", "login", "fee", "address", "pin", "limit", "cash", "top")


def toy_catalogue(
    intents: int = 12, per_intent: int = 12, seed: int = 0, spread: float = 0.8
) -> tuple[list[str], list[str], Floats]:
    """Texts, labels and unit embeddings of ``intents`` intents, ``per_intent`` rows each."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(intents, 24))
    texts, labels, rows = [], [], []
    for intent in range(intents):
        for n in range(per_intent):
            own = WORDS[intent % len(WORDS)]
            other = WORDS[int(rng.integers(len(WORDS)))]
            texts.append(f"{own} {other} request {intent} number {n} seed {seed}")
            labels.append(f"intent_{intent:02d}")
            rows.append(centres[intent] + rng.normal(scale=spread, size=24))
    embeddings = np.asarray(rows)
    return texts, labels, embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
