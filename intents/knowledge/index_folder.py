"""The saved knowledge index: one folder per content hash, written whole or not at all.

An index is saved as ``<cache>/knowledge/<content hash>.v<INDEX_VERSION>/``: the ``bm25s``
arrays (``.npy`` + JSON, never a pickle), ``embeddings.npy``, ``titles.npy`` (one row per
article, in the order articles first appear among the passages), ``passages.json`` and
``meta.json``; written under a partial name and renamed, so a reader sees a whole index or
none. A folder that cannot be read is :class:`CorruptIndex`.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import bm25s
import numpy as np
from numpy.typing import NDArray

from intents.knowledge.documents import Passage

INDEX_VERSION = 2  # part of the saved folder's name: bump when the saved layout or scores change
_META, _PASSAGES, _EMBEDDINGS, _BM25 = "meta.json", "passages.json", "embeddings.npy", "bm25"
_TITLES = "titles.npy"


class CorruptIndex(Exception):  # noqa: N818 - the name other modules import
    """A saved index folder that is missing a file or holds one that cannot be read."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"knowledge index {path} is unreadable: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class IndexParts:
    """What an index folder holds: the passages, their BM25 index, embeddings, title rows."""

    passages: list[Passage]
    bm25: bm25s.BM25
    embeddings: NDArray[np.float32]
    titles: NDArray[np.float32]


def index_path(cache_dir: Path, content_hash: str) -> Path:
    """Where the index of the articles hashing to ``content_hash`` is saved."""
    return cache_dir / "knowledge" / f"{content_hash}.v{INDEX_VERSION}"


def write_index(path: Path, parts: IndexParts) -> None:
    """Write ``parts`` to the folder ``path`` atomically (partial folder, then a rename)."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    parts.bm25.save(str(partial / _BM25), show_progress=False)
    np.save(partial / _EMBEDDINGS, parts.embeddings, allow_pickle=False)
    np.save(partial / _TITLES, parts.titles, allow_pickle=False)
    rows = [asdict(passage) for passage in parts.passages]
    (partial / _PASSAGES).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    meta = {"version": INDEX_VERSION, "passages": len(rows)}
    (partial / _META).write_text(json.dumps(meta), encoding="utf-8")
    if path.exists():  # a corrupt or stale copy: replaced whole
        shutil.rmtree(path, ignore_errors=True)
    try:
        partial.rename(path)
    except OSError:  # another process saved the same index first: keep theirs
        shutil.rmtree(partial, ignore_errors=True)


def read_index(path: Path) -> IndexParts:
    """The parts saved in ``path``; :class:`CorruptIndex` when missing, unreadable or when
    they disagree with each other."""
    if not path.is_dir():
        raise CorruptIndex(path, "no such index folder")
    try:
        meta = json.loads((path / _META).read_text(encoding="utf-8"))
        if meta.get("version") != INDEX_VERSION:
            raise CorruptIndex(path, f"version {meta.get('version')!r}, not {INDEX_VERSION}")
        rows = json.loads((path / _PASSAGES).read_text(encoding="utf-8"))
        passages = [Passage(**row) for row in rows]
        embeddings = np.load(path / _EMBEDDINGS, allow_pickle=False)
        titles = np.load(path / _TITLES, allow_pickle=False)
        bm25 = bm25s.BM25.load(str(path / _BM25), show_progress=False, verbosity=0)
    except CorruptIndex:
        raise
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise CorruptIndex(path, f"{type(error).__name__}: {error}") from error
    _check_counts(path, meta.get("passages"), IndexParts(passages, bm25, embeddings, titles))
    return IndexParts(passages, bm25, embeddings.astype(np.float32), titles.astype(np.float32))


def _check_counts(path: Path, saved_count: object, parts: IndexParts) -> None:
    """:class:`CorruptIndex` unless ``parts`` and meta.json's count agree on the number of
    passages and the titles on the number of articles (files of two saves mixed)."""
    count = len(parts.passages)
    if saved_count != count or parts.embeddings.shape[0] != count:
        raise CorruptIndex(path, "passages, embeddings and meta.json disagree on the count")
    if int(parts.bm25.scores.get("num_docs", -1)) != count:
        raise CorruptIndex(path, "the BM25 arrays index another number of passages")
    if parts.titles.shape[0] != len(dict.fromkeys(p.article for p in parts.passages)):
        raise CorruptIndex(path, "titles.npy holds another number of articles")
