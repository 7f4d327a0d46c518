"""The exported ONNX encoders reproduce sentence-transformers' embeddings."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from intents.build import make_encoder
from intents.encoder import MiniLMEncoder
from omnibot.engine import Intents

TEXTS = [
    "where is my order?",
    "Can I pay with Apple Pay or Klarna?",
    "hi",
    "my parcel was supposed to arrive on Monday and there is still no sign of it, "
    "can someone please check what happened with order 100412",
]


def test_onnx_embeddings_match_sentence_transformers(
    intents: Intents, intents_data_dir: Path
) -> None:
    onnx = make_encoder("onnx", intents_data_dir / "cache")  # exported here, then cached
    reference = MiniLMEncoder().encode(TEXTS)
    batched = onnx.encode(TEXTS)
    single = np.vstack([onnx.encode([text]) for text in TEXTS])
    np.testing.assert_allclose((batched * reference).sum(1), 1.0, atol=1e-4)
    np.testing.assert_allclose(batched, single, atol=1e-5)  # batch mates do not matter
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    onnx.close()


def test_int8_embeddings_are_close_and_independent_of_batch_mates(
    intents: Intents, intents_data_dir: Path
) -> None:
    int8 = make_encoder("onnx-int8", intents_data_dir / "cache")  # the default: the fixture's
    reference = MiniLMEncoder().encode(TEXTS)
    batched = int8.encode(TEXTS)
    single = np.vstack([int8.encode([text]) for text in TEXTS])
    # per-channel weight scales keep every embedding close to the float32 model's
    assert (batched * reference).sum(1).min() > 0.98
    # each text is quantised on its own, so the batch cannot change its embedding
    np.testing.assert_allclose(batched, single, atol=1e-6)
    int8.close()


def test_close_stops_the_chunk_threads_and_is_idempotent(
    intents: Intents, intents_data_dir: Path
) -> None:
    before = set(threading.enumerate())
    encoder = make_encoder("onnx-int8", intents_data_dir / "cache")
    # texts no other test embedded: remembered rows (intents.onnx_sessions) would start no thread
    encoder.encode([f"{text} (before closing)" for text in TEXTS])  # starts the pool's threads
    started = set(threading.enumerate()) - before
    assert started
    encoder.close()
    assert not any(thread.is_alive() for thread in started)
    encoder.close()
    with pytest.raises(RuntimeError, match="closed"):
        encoder.encode(["hi"])
