"""The answer rule and the evidence it judges: when a message is answered rather than escalated.

A message is answered when its closest training example is similar enough and either its
blended confidence reaches a threshold or its top intent leads the runner-up by a margin.
How the rule is chosen is :mod:`intents.rule_choice`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from intents.members import Floats, Scores, blend

NO_SIMILARITY_FLOOR = -1.0  # the lowest cosine similarity: every message passes
NO_MARGIN = 2.0  # above any lead a probability can have: the margin never answers alone


@dataclass(frozen=True)
class Evidence:
    """Blended top confidence, nearest-example similarity and (when known) the lead of the top
    intent over the runner-up of some scored messages."""

    confidence: Floats
    nearest: Floats
    margin: Floats | None = None

    @classmethod
    def of(cls, scores: Sequence[Scores], weights: Sequence[float]) -> Evidence:
        """Blend each of ``scores`` with ``weights`` and put the results together."""
        parts = [cls.of_rows(blend(s.members, weights), s.nearest) for s in scores]
        return cls(
            np.concatenate([p.confidence for p in parts]),
            np.concatenate([p.nearest for p in parts]),
            np.concatenate([p.margin for p in parts if p.margin is not None]),
        )

    @classmethod
    def of_rows(cls, rows: Floats, nearest: Floats) -> Evidence:
        """The evidence of blended probability ``rows`` (one per message)."""
        ordered = np.sort(rows, axis=1)
        second = ordered[:, -2] if rows.shape[1] > 1 else np.zeros(len(rows))
        return cls(ordered[:, -1], nearest, ordered[:, -1] - second)


@dataclass(frozen=True)
class Rule:
    """Answer when the nearest similarity >= ``min_similarity`` and either the confidence >=
    ``threshold`` or the top intent leads the runner-up by ``min_margin`` (with many intents,
    a clear lead is sure evidence even when the probability is spread thin)."""

    threshold: float
    min_similarity: float = NO_SIMILARITY_FLOOR
    min_margin: float = NO_MARGIN

    def answers(self, evidence: Evidence) -> NDArray[np.bool_]:
        """Which of the messages this rule answers."""
        sure = evidence.confidence >= self.threshold
        if evidence.margin is not None:
            sure = sure | (evidence.margin >= self.min_margin)
        return sure & (evidence.nearest >= self.min_similarity)
