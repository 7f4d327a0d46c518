"""The fast TF-IDF transform equals scikit-learn's own, including unseen words."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from intents import tfidf

CORPUS = [
    "where is my order",
    "I want to talk to a human",
    "cancel my order please",
    "my card was declined twice",
    "how do I reset my password",
    "order order order",
]
QUERIES = [
    "where's my order??",
    "a human please",
    "zzz qqq",
    "",
    "Card declined, order lost",
    "order order",
]


def test_matches_sklearn_side_by_side() -> None:
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(CORPUS)
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
    ).fit(CORPUS)
    expected = sparse.hstack([words.transform(QUERIES), chars.transform(QUERIES)]).toarray()
    got = tfidf.transform([words, chars], QUERIES)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.toarray(), expected, rtol=1e-12, atol=1e-12)
    # each vectoriser's part is unit length on its own, as sklearn's hstack gives
    split = len(words.vocabulary_)
    assert np.linalg.norm(got.toarray()[0, :split]) == pytest.approx(1.0)


def test_refuses_settings_it_does_not_reproduce() -> None:
    plain = TfidfVectorizer().fit(CORPUS)
    with pytest.raises(ValueError, match="sublinear_tf"):
        tfidf.transform([plain], QUERIES)
