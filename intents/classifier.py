"""Intent classification: frozen sentence embeddings, a logistic-regression head, a threshold."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from bot.contracts import Prediction
from intents.catalogue import Catalogue
from intents.encoder import Encoder

RANKING_SIZE = 5
HEAD_C = 10.0


class EmbeddingClassifier:
    """Classifies texts into the catalogue's intents; fit once, then read-only.

    Encoding runs on a private worker thread so the event loop never blocks on the model.
    """

    def __init__(self, encoder: Encoder, catalogue: Catalogue, threshold: float) -> None:
        self._encoder = encoder
        self.threshold = threshold
        texts, labels = catalogue.training_data()
        self._head = LogisticRegression(C=HEAD_C, max_iter=2000)
        self._head.fit(encoder.encode(texts), labels)
        self._labels: list[str] = [str(label) for label in self._head.classes_]
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intents")

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Classify a batch of texts (blocking; for batch evaluation and the worker thread)."""
        probabilities = self._head.predict_proba(self._encoder.encode(texts))
        return [self._prediction(row) for row in probabilities]

    def _prediction(self, row: NDArray[np.float64]) -> Prediction:
        order = np.argsort(row)[::-1][:RANKING_SIZE]
        ranking = tuple((self._labels[i], float(row[i])) for i in order)
        intent, confidence = ranking[0]
        return Prediction(intent=intent, confidence=confidence,
                          confident=confidence >= self.threshold, ranking=ranking)

    async def classify(self, text: str) -> Prediction:
        """Classify one text without blocking the event loop."""
        loop = asyncio.get_running_loop()
        predictions = await loop.run_in_executor(self._executor, self.predict, [text])
        return predictions[0]

    def close(self) -> None:
        """Stop the worker thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
