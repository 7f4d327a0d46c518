"""Building a help-centre folder's index once per content: loaded from the cache when every
process of a deployment has the same files, built (and saved) by one of them otherwise.

The index of a folder is cached under ``<cache>/knowledge/`` by a key made of the folder's
content hash and the encoder kind (int8 and float32 embeddings differ), so a restart, another
worker or another machine on the same cache loads it instead of embedding every passage again.
A lock file beside it makes concurrent builders of the same key wait for the first one.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from intents.encoder import Encoder
from intents.knowledge.articles import content_hash, load_articles
from intents.knowledge.index import CorruptIndex, KnowledgeIndex, index_path
from intents.knowledge.passages import split_all

Progress = Callable[[int, int], None]
"""Told (passages embedded so far, passages in all) while an index is built."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Built:
    """A folder's index (None: the folder holds no passage) and what it was made of."""

    index: KnowledgeIndex | None
    content_hash: str
    articles: int
    passages: int
    warnings: tuple[str, ...] = ()
    cached: bool = False  # loaded from the cache, not built now
    seconds: float = 0.0


class CountingEncoder:
    """An encoder that tells ``progress`` how many of ``total`` texts it has embedded."""

    def __init__(self, encoder: Encoder, total: int, progress: Progress) -> None:
        self._encoder = encoder
        self._total = total
        self._progress = progress
        self._done = 0

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Embed ``texts`` with the wrapped encoder, then report."""
        rows = self._encoder.encode(texts)
        self._done += len(texts)
        self._progress(self._done, self._total)
        return rows

    def close(self) -> None:
        """The wrapped encoder is its owner's to close."""


def cache_key(folder_hash: str, encoder_kind: str) -> str:
    """The cache name of the index of a folder hashing to ``folder_hash`` with ``encoder_kind``."""
    return hashlib.sha256(f"{folder_hash}:{encoder_kind}".encode()).hexdigest()[:40]


def build_index(
    folder: Path,
    cache_dir: Path,
    encoder_kind: str,
    encoder: Encoder,
    progress: Progress | None = None,
) -> Built:
    """The index of ``folder``'s articles: the cached one, else built and cached.

    Raises :class:`~intents.knowledge.articles.MissingKnowledgeFolder` when there is no folder.
    """
    start = time.perf_counter()
    folder_hash = content_hash(folder)
    path = index_path(cache_dir, cache_key(folder_hash, encoder_kind))
    with _lock(path):
        cached = _cached(path, folder_hash)
        if cached is not None:
            return cached
        library = load_articles(folder)
        passages = split_all(library.articles)
        if not passages:
            return Built(None, folder_hash, len(library.articles), 0, library.warnings)
        counting = CountingEncoder(encoder, len(passages), progress or (lambda done, total: None))
        index = KnowledgeIndex.build(passages, counting)
        index.save(path)
    seconds = time.perf_counter() - start
    return Built(
        index, folder_hash, len(library.articles), len(passages), library.warnings, False, seconds
    )


def _cached(path: Path, folder_hash: str) -> Built | None:
    """The index saved at ``path``, or None when there is none (or it is corrupt: rebuilt)."""
    if not path.exists():
        return None
    try:
        index = KnowledgeIndex.load(path)
    except CorruptIndex as error:
        log.warning("%s; building it again", error)
        return None
    articles = len({passage.article for passage in index.passages})
    return Built(index, folder_hash, articles, len(index.passages), cached=True)


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Held while the index at ``path`` is looked up and built: a second process building the
    same index waits, then loads the first one's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(path.name + ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
