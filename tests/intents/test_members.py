"""The intent model's members: fast probabilities and the nearest-neighbour vote."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from intents.members import NeighbourMember, probabilities

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("classes", [2, 5])
def test_fast_probabilities_match_predict_proba(classes: int) -> None:
    features = RNG.normal(size=(200, 8))
    labels = RNG.integers(0, classes, size=200)
    model = LogisticRegression().fit(features, labels)
    np.testing.assert_allclose(
        probabilities(model, features[:7]),
        model.predict_proba(features[:7]),
        rtol=1e-10,
        atol=1e-12,
    )


def test_the_neighbour_member_scores_each_intent_by_its_closest_example() -> None:
    examples = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    member = NeighbourMember.fit(examples, ["b", "a", "b"], temperature=0.1)
    queries = np.array([[0.0, 1.0], [1.0, 0.0]])
    similarities = member.similarities(queries)
    # columns in label order: "a" holds [0, 1]; "b" holds [1, 0] and [0.6, 0.8]
    np.testing.assert_allclose(similarities, [[1.0, 0.8], [0.0, 1.0]], atol=1e-6)
    proba = member.probabilities(similarities)
    np.testing.assert_allclose(proba.sum(1), 1)
    assert proba[0, 0] > proba[0, 1]
    assert proba[1, 1] > proba[1, 0]
