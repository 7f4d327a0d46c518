"""The knowledge index ranks, probes, builds, and ranks alike after a save and a load."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.encoder import Encoder
from intents.knowledge.index import KnowledgeIndex, index_path
from tests.intents.knowledge.tiny_help_centre import passages

QUESTIONS = {
    "how should I wash my wool jumper?": "merino.md",
    "can I send someone a gift card by email?": "gift-cards.md",
    "how do I send back something I bought?": "returns.md",
    "my toaster broke after a month, is it covered?": "warranty.md",
    "which waist size should I order for jeans?": "sizing.md",
    "where do I type my promo code?": "discounts.md",
}


@pytest.mark.parametrize(("question", "article"), QUESTIONS.items())
def test_the_right_passage_ranks_first(
    index: KnowledgeIndex, encoder: Encoder, question: str, article: str
) -> None:
    hits = index.search(question, encoder, k=3)
    assert [hit.rank for hit in hits] == [0, 1, 2]
    assert hits[0].passage.article == article
    assert hits[0].fused >= hits[1].fused >= hits[2].fused
    assert hits[0].cosine > hits[1].cosine  # the encoder alone agrees on these clear cases


def test_k_larger_than_the_index_returns_every_passage_once(
    index: KnowledgeIndex, encoder: Encoder
) -> None:
    hits = index.search("gift card", encoder, k=50)
    assert sorted(hit.passage.article for hit in hits) == sorted(p.article for p in passages())


def test_a_question_of_stop_words_only_still_ranks_by_meaning(
    index: KnowledgeIndex, encoder: Encoder
) -> None:
    hits = index.search("is it", encoder, k=2)
    assert all(hit.bm25 == 0.0 for hit in hits)  # no word to match, yet no error


def test_save_and_load_give_identical_results(
    index: KnowledgeIndex, encoder: Encoder, tmp_path: Path
) -> None:
    path = index_path(tmp_path, "abc")
    index.save(path)
    loaded = KnowledgeIndex.load(path)
    assert loaded.passages == index.passages
    highs = []
    for question in QUESTIONS:
        assert loaded.search(question, encoder, k=4) == index.search(question, encoder, k=4)
        vector = encoder.encode([question])[0]
        probed, reloaded = index.probe(question, vector), loaded.probe(question, vector)
        assert reloaded.bm25_high == probed.bm25_high  # the bounds from the loaded BM25 arrays
        highs.append(reloaded.bm25_high)
    assert max(highs) > 0.0
    assert not list(path.parent.glob("*.partial"))  # the partial folder was renamed


def test_build_reports_its_progress(encoder: Encoder) -> None:
    steps: list[tuple[int, int]] = []
    KnowledgeIndex.build(passages(), encoder, lambda done, total: steps.append((done, total)))
    assert steps == [(len(passages()), len(passages()))]  # one batch


def test_an_index_of_nothing_is_refused(encoder: Encoder) -> None:
    with pytest.raises(ValueError, match="at least one passage"):
        KnowledgeIndex.build([], encoder)


def test_an_index_from_precomputed_embeddings_ranks_as_the_built_one(
    index: KnowledgeIndex, encoder: Encoder
) -> None:
    again = KnowledgeIndex.from_embeddings(index.passages, index.embeddings, index.title_vectors())
    for question in QUESTIONS:
        assert again.search(question, encoder, k=3) == index.search(question, encoder, k=3)
    with pytest.raises(ValueError, match="one embedding row each"):
        KnowledgeIndex.from_embeddings(index.passages, index.embeddings[:2])


def test_a_probe_holds_what_ranking_reads_and_bounds_every_passages_bm25(
    index: KnowledgeIndex, encoder: Encoder
) -> None:
    question = "can I send someone a gift card by email?"
    probe = index.probe(question, encoder.encode([question])[0])
    hits = index.rank(probe, k=len(index.passages))
    assert hits == index.search(question, encoder, k=len(index.passages))
    assert max(hit.cosine for hit in hits) == float(probe.cosine.max())
    assert probe.bm25_low <= min(hit.bm25 for hit in hits)
    assert max(hit.bm25 for hit in hits) <= probe.bm25_high


def test_a_hit_carries_its_titles_cosine_and_margin_over_the_other_titles(
    index: KnowledgeIndex, encoder: Encoder
) -> None:
    hits = index.search("Caring for merino wool", encoder, k=len(index.passages))
    top = hits[0]
    assert top.passage.article == "merino.md"
    assert top.title_cosine == pytest.approx(1.0, abs=1e-3)  # the question is the title
    others = [hit.title_cosine for hit in hits if hit.passage.article != "merino.md"]
    assert top.title_margin == pytest.approx(top.title_cosine - max(others), abs=1e-5)
    runner_up = next(hit for hit in hits if hit.title_cosine == max(others))
    assert runner_up.title_margin == pytest.approx(max(others) - top.title_cosine, abs=1e-5)
