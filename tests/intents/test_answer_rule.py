"""The answer rule answers on confidence or lead, and similarity; the evidence it judges."""

from __future__ import annotations

import numpy as np
import pytest

from intents.answer_rule import Evidence, Rule


def test_a_rule_answers_only_when_both_confidence_and_similarity_reach_it() -> None:
    evidence = Evidence(np.array([0.9, 0.9, 0.5]), np.array([0.8, 0.4, 0.9]))
    assert Rule(0.6, 0.5).answers(evidence).tolist() == [True, False, False]
    assert Rule(0.6).answers(evidence).tolist() == [True, True, False]


def test_the_evidence_of_probability_rows_has_the_lead_over_the_runner_up() -> None:
    rows = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    evidence = Evidence.of_rows(rows, np.array([0.9, 0.8]))
    assert evidence.confidence.tolist() == [0.5, 0.8]
    assert evidence.margin is not None
    assert evidence.margin.tolist() == pytest.approx([0.2, 0.7])
