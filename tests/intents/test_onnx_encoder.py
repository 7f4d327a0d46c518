"""The exported ONNX encoder reproduces sentence-transformers' embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.app import Engine
from intents.encoder import MiniLMEncoder
from intents.onnx_encoder import OnnxEncoder

TEXTS = ["where is my order?", "Can I pay with Apple Pay or Klarna?", "hi",
         "my parcel was supposed to arrive on Monday and there is still no sign of it, "
         "can someone please check what happened with order 100412"]


def test_onnx_embeddings_match_sentence_transformers(engine: Engine,
                                                     engine_data_dir: Path) -> None:
    onnx = OnnxEncoder(engine_data_dir / "cache" / "encoders" / "minilm-onnx.onnx")
    reference = MiniLMEncoder().encode(TEXTS)
    batched = onnx.encode(TEXTS)
    single = np.vstack([onnx.encode([text]) for text in TEXTS])
    np.testing.assert_allclose((batched * reference).sum(1), 1.0, atol=1e-4)
    np.testing.assert_allclose(batched, single, atol=1e-5)  # batch mates do not matter
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
