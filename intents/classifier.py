"""The serving classifier: an encoder, a trained :class:`IntentModel`, micro-batched calls."""

from __future__ import annotations

from threadpoolctl import ThreadpoolController, threadpool_limits

from bot.contracts import Prediction
from intents.batcher import MicroBatcher
from intents.encoder import Encoder
from intents.model import IntentModel
from intents.spelling import Speller, english_words

MAX_BATCH = 32
THREADS = 2

_blas = {"pinned": False}  # set once a serving process limited BLAS to one thread for good


def pin_blas_to_one_thread() -> None:
    """Limit BLAS to one thread for the rest of this process, a serving one (nothing in it
    wants more), so that classifiers skip their per-batch limit: its four library calls each
    give the GIL up and wait to get it back from the event loop."""
    threadpool_limits(limits=1, user_api="blas")
    _blas["pinned"] = True


class BatchedClassifier:
    """Classifies texts with ``model`` over ``encoder``'s embeddings, micro-batched on model
    threads off the event loop."""

    def __init__(self, encoder: Encoder, model: IntentModel) -> None:
        self.encoder = encoder
        self.model = model
        self.speller = Speller.from_vectorizer(model.members.lexical.words, english_words())
        self._batcher = MicroBatcher(self.predict, MAX_BATCH, THREADS)
        self._threadpools = ThreadpoolController()  # scans the loaded libraries once

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Classify a batch of texts (blocking), typos and text-speak put right first."""
        texts = self.speller.all(texts)
        embeddings = self.encoder.encode(texts).astype("float64")
        # One BLAS thread: the members' products are small, and BLAS threads waking up beside
        # onnxruntime's cost more than they save (measured: p50 11.7 -> 6.3 ms per message).
        if _blas["pinned"]:
            return self.model.predict(texts, embeddings)
        with self._threadpools.limit(limits=1, user_api="blas"):
            return self.model.predict(texts, embeddings)

    async def classify(self, text: str) -> Prediction:
        """Classify one text without blocking the event loop."""
        return await self._batcher.submit(text)

    def close(self) -> None:
        """Stop the model threads and release the encoder's; idempotent."""
        self._batcher.close()
        self.encoder.close()
