"""TF-IDF features for one message in microseconds rather than milliseconds.

scikit-learn's ``TfidfVectorizer.transform`` validates its input and output on every call,
which costs about 1 ms per call — a third of a single message's classification time. The
vectorisers are still fitted by scikit-learn; :func:`transform` repeats exactly what their
``transform`` computes (counts of the analyser's n-grams, ``1 + log`` of each count, times the
fitted idf, rows scaled to unit length) over several vectorisers side by side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


def _check(vectorizer: TfidfVectorizer) -> None:
    if not (
        vectorizer.sublinear_tf
        and vectorizer.use_idf
        and vectorizer.norm == "l2"
        and vectorizer.binary is False
    ):
        raise ValueError("transform() only reproduces sublinear_tf, use_idf, l2-norm vectorisers")


def transform(vectorizers: Sequence[TfidfVectorizer], texts: Sequence[str]) -> sparse.csr_matrix:
    """The vectorisers' TF-IDF rows for ``texts``, side by side (as ``sparse.hstack`` would)."""
    indptr = [0]
    indices: list[int] = []
    counts: list[int] = []
    parts = []
    offset = 0
    for vectorizer in vectorizers:
        _check(vectorizer)
        parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, offset))
        offset += len(vectorizer.vocabulary_)
    for text in texts:
        for analyze, vocabulary, start in parts:
            found = Counter(vocabulary[gram] for gram in analyze(text) if gram in vocabulary)
            indices.extend(start + column for column in found)
            counts.extend(found.values())
        indptr.append(len(indices))
    columns = np.asarray(indices, dtype=np.int64)
    idf = np.concatenate([vectorizer.idf_ for vectorizer in vectorizers])
    data = (np.log(np.asarray(counts, dtype=np.float64)) + 1.0) * idf[columns]
    rows = np.repeat(np.arange(len(texts)), np.diff(indptr))
    # Each vectoriser normalises its own part of the row.
    block = np.searchsorted(
        np.cumsum([len(v.vocabulary_) for v in vectorizers]), columns, side="right"
    )
    keys = rows * len(vectorizers) + block
    norms = np.sqrt(np.bincount(keys, weights=data * data, minlength=len(texts) * len(vectorizers)))
    data /= norms[keys]
    return sparse.csr_matrix((data, columns, np.asarray(indptr)), shape=(len(texts), offset))
