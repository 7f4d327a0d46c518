"""The knowledge index ranks, saves, loads and survives a corrupt saved copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from intents.encoder import Encoder
from intents.knowledge.index import (
    CorruptIndex,
    KnowledgeIndex,
    fuse,
    index_path,
    load_or_build,
    tokenize,
)
from tests.intents.knowledge.tiny_help_centre import passages

QUESTIONS = {
    "how should I wash my wool jumper?": "merino.md",
    "can I send someone a gift card by email?": "gift-cards.md",
    "how do I send back something I bought?": "returns.md",
    "my toaster broke after a month, is it covered?": "warranty.md",
    "which waist size should I order for jeans?": "sizing.md",
    "where do I type my promo code?": "discounts.md",
}


def test_tokenize_lowercases_and_drops_stop_words() -> None:
    assert tokenize("How do I return THE jumper, and is it free?") == [
        "how", "do", "i", "return", "jumper", "free",
    ]  # fmt: skip


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


def test_rrf_favours_a_passage_both_rankings_put_high() -> None:
    bm25 = np.asarray([3.0, 2.0, 1.0, 0.0], dtype=np.float32)
    cosine = np.asarray([0.1, 0.8, 0.5, 0.9], dtype=np.float32)
    assert int(np.argmax(fuse(bm25, cosine, "rrf"))) == 1
    assert int(np.argmax(fuse(bm25, cosine, "bm25"))) == 0
    assert int(np.argmax(fuse(bm25, cosine, "cosine"))) == 3


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


def test_another_content_hash_is_another_folder(tmp_path: Path) -> None:
    first, second = index_path(tmp_path, "aaa"), index_path(tmp_path, "bbb")
    assert first != second
    assert first.parent == second.parent == tmp_path / "knowledge"


def test_a_missing_index_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CorruptIndex, match="no such index folder"):
        KnowledgeIndex.load(tmp_path / "nothing")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("embeddings.npy", b"not numpy"),
        ("titles.npy", b"not numpy"),
        ("passages.json", b"[{"),
        ("meta.json", b'{"version": 0}'),
    ],
)
def test_a_corrupt_index_is_rejected_clearly_and_rebuilt(
    index: KnowledgeIndex, encoder: Encoder, tmp_path: Path, name: str, content: bytes
) -> None:
    path = index_path(tmp_path, "corrupt")
    index.save(path)
    (path / name).write_bytes(content)
    with pytest.raises(CorruptIndex, match="is unreadable"):
        KnowledgeIndex.load(path)
    rebuilt = load_or_build(tmp_path, "corrupt", passages(), encoder)
    assert rebuilt.search("gift card", encoder, k=1)[0].passage.article == "gift-cards.md"
    assert KnowledgeIndex.load(path).passages == index.passages  # saved again, whole


def test_an_index_whose_parts_disagree_is_rejected(index: KnowledgeIndex, tmp_path: Path) -> None:
    path = index_path(tmp_path, "short")
    index.save(path)
    np.save(path / "embeddings.npy", index.embeddings[:2], allow_pickle=False)
    with pytest.raises(CorruptIndex, match="disagree"):
        KnowledgeIndex.load(path)


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


def test_the_title_embeddings_survive_a_save_and_load(
    index: KnowledgeIndex, tmp_path: Path
) -> None:
    path = index_path(tmp_path, "titles")
    index.save(path)
    loaded = KnowledgeIndex.load(path)
    assert loaded.article_keys == index.article_keys
    np.testing.assert_array_equal(loaded.titles, index.titles)
    np.save(path / "titles.npy", index.titles[:2], allow_pickle=False)
    with pytest.raises(CorruptIndex, match="another number of articles"):
        KnowledgeIndex.load(path)
