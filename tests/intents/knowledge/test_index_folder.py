"""The saved index folder: one per content hash, read whole or refused as corrupt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from intents.encoder import Encoder
from intents.knowledge.index import KnowledgeIndex, load_or_build
from intents.knowledge.index_folder import CorruptIndex, index_path
from tests.intents.knowledge.tiny_help_centre import passages


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
