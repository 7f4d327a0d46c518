"""Scoring a question: BM25's words, the fusions, the title margins."""

from __future__ import annotations

import numpy as np
import pytest

from intents.knowledge.scoring import fuse, title_margins, tokenize


def test_tokenize_lowercases_and_drops_stop_words() -> None:
    assert tokenize("How do I return THE jumper, and is it free?") == [
        "how", "do", "i", "return", "jumper", "free",
    ]  # fmt: skip


def test_rrf_favours_a_passage_both_rankings_put_high() -> None:
    bm25 = np.asarray([3.0, 2.0, 1.0, 0.0], dtype=np.float32)
    cosine = np.asarray([0.1, 0.8, 0.5, 0.9], dtype=np.float32)
    assert int(np.argmax(fuse(bm25, cosine, "rrf"))) == 1
    assert int(np.argmax(fuse(bm25, cosine, "bm25"))) == 0
    assert int(np.argmax(fuse(bm25, cosine, "cosine"))) == 3


def test_a_titles_margin_is_over_the_best_other_title() -> None:
    title = np.asarray([0.2, 0.9, 0.5, 0.9], dtype=np.float32)
    # the two best tie: each leads the other by nothing; the rest trail the best by its gap
    assert title_margins(title).tolist() == pytest.approx([-0.7, 0.0, -0.4, 0.0])
    single = np.asarray([0.7], dtype=np.float32)
    assert title_margins(single).tolist() == [0.0]
    best = title_margins(np.asarray([0.1, 0.8, 0.3], dtype=np.float32))
    assert best.tolist() == pytest.approx([-0.7, 0.5, -0.5])
