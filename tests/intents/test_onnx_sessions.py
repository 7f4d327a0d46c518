"""Encoders of one graph share its sessions and the rows of texts they embedded."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from intents.build import make_encoder
from intents.onnx_encoder import THREADS, OnnxEncoder, use_threads
from intents.onnx_sessions import EmbeddingMemo, SharedGraph, loaded
from omnibot.engine import Intents

TEXTS = ["can I return a jumper I bought online (sessions test)", "where are you located? (x)"]


def _graph(encoder: OnnxEncoder) -> SharedGraph:
    graph = encoder._graph
    assert graph is not None
    return graph


def test_the_memo_keeps_the_most_recent_rows_read_only() -> None:
    memo = EmbeddingMemo(size=2)
    row = np.ones(3, dtype=np.float32)
    memo.put("a", row)
    row[0] = 5.0  # the caller's array changing later does not change the remembered row
    memo.put("b", np.zeros(3, dtype=np.float32))
    assert memo.get("a") is not None  # "a" is now the most recent
    memo.put("c", np.zeros(3, dtype=np.float32))
    assert memo.get("b") is None
    assert len(memo) == 2
    kept = memo.get("a")
    assert kept is not None
    assert kept.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="read-only"):
        kept[0] = 2.0


def test_a_row_run_alone_is_the_same_on_either_session_and_beside_any_text(
    intents: Intents, intents_data_dir: Path
) -> None:
    encoder = make_encoder("onnx-int8", intents_data_dir / "cache")
    assert isinstance(encoder, OnnxEncoder)
    graph = _graph(encoder)
    alone = [encoder._run(graph.latency, [text]) for text in TEXTS]
    on_one_thread = [encoder._run(graph.throughput, [text]) for text in TEXTS]
    assert all(np.array_equal(a, b) for a, b in zip(alone, on_one_thread, strict=True))
    # several texts, tokenised together and shared out between the threads: each row is still
    # its text's own run (padding taken off, a long text truncated as when alone)
    fresh = [f"{text} (in a batch {i})" for i, text in enumerate(TEXTS * 3)] + ["word " * 400]
    expected = np.vstack([encoder._run(graph.latency, [text]) for text in fresh])
    assert np.array_equal(encoder.encode(fresh), expected)
    encoder.close()


def test_encoders_of_one_graph_share_sessions_and_remembered_rows(
    intents: Intents, intents_data_dir: Path
) -> None:
    first = make_encoder("onnx-int8", intents_data_dir / "cache")
    second = make_encoder("onnx-int8", intents_data_dir / "cache")
    assert isinstance(first, OnnxEncoder)
    assert isinstance(second, OnnxEncoder)
    graph = _graph(first)
    assert _graph(second) is graph
    rows = first.encode(TEXTS + TEXTS[:1])  # a text twice in a batch: run once
    assert np.array_equal(rows[0], rows[2])
    runs: list[list[str]] = []
    real_run = OnnxEncoder._run

    def counted(self: OnnxEncoder, session: object, texts: list[str]) -> np.ndarray:
        runs.append(texts)
        return real_run(self, session, texts)

    second._run = counted.__get__(second)  # type: ignore[method-assign]
    again = second.encode([TEXTS[1], "a text no encoder saw before (sessions test)"])
    assert runs == [["a text no encoder saw before (sessions test)"]]
    assert np.array_equal(again[0], rows[1])
    first.close()
    assert second.encode(TEXTS).shape == (2, 384)  # the other encoder keeps the sessions
    second.close()


def test_the_last_close_lets_the_graph_go(
    intents: Intents, intents_data_dir: Path, tmp_path: Path
) -> None:
    exported = next((intents_data_dir / "cache" / "encoders").glob("*int8*.onnx"))
    copy = tmp_path / exported.name  # another file: a graph no other encoder holds
    shutil.copyfile(exported, copy)
    before = loaded()
    first, second = OnnxEncoder(copy, 1), OnnxEncoder(copy, 1)
    assert loaded() == before + 1
    first.close()
    assert loaded() == before + 1
    second.close()
    second.close()  # idempotent: gives the sessions back once
    assert loaded() == before
    third = OnnxEncoder(copy, 1)
    assert third.encode(TEXTS).shape == (2, 384)  # loaded anew
    third.close()


def test_an_encoder_on_one_thread_gives_the_same_rows(
    intents: Intents, intents_data_dir: Path, tmp_path: Path
) -> None:
    """A process that chose one thread (an answer process a core) embeds as the default does."""
    exported = next((intents_data_dir / "cache" / "encoders").glob("*int8*.onnx"))
    copy = tmp_path / exported.name  # its own graph: sessions made for this thread count
    shutil.copyfile(exported, copy)
    texts = [f"{text} (one thread {i})" for i, text in enumerate(TEXTS * 3)]
    default = make_encoder("onnx-int8", intents_data_dir / "cache")
    expected = default.encode(texts)
    default.close()
    use_threads(1)
    try:
        single = OnnxEncoder(copy, 1)
    finally:
        use_threads(THREADS)
    assert single._threads == 1
    assert np.array_equal(single.encode(texts), expected)
    assert np.array_equal(single.encode(texts[:1]), expected[:1])
    single.close()
    with pytest.raises(ValueError, match="at least one thread"):
        use_threads(0)
