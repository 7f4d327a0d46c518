"""The serving classifier: an encoder, a trained :class:`IntentModel`, micro-batched calls."""

from __future__ import annotations

from bot.contracts import Prediction
from intents.batcher import MicroBatcher
from intents.blas import one_thread
from intents.encoder import Encoder
from intents.model import IntentModel
from intents.spelling import Speller, english_words

MAX_BATCH = 32
# One batch at a time: a second model thread only ran a second batch beside the first, so an
# answer process a core kept two ONNX runs and its event loop contending for one core and one
# GIL (bench/README.md, issue 22: p99 303-408 -> 209-248 ms at 64 visitors). Texts of a batch
# still share the encoder's own threads (MODEL_THREADS) when a process has more than one.
THREADS = 1


class BatchedClassifier:
    """Classifies texts with ``model`` over ``encoder``'s embeddings, micro-batched on model
    threads off the event loop."""

    def __init__(self, encoder: Encoder, model: IntentModel) -> None:
        self.encoder = encoder
        self.model = model
        self.speller = Speller.from_vectorizer(model.members.lexical.words, english_words())
        self._batcher = MicroBatcher(self.predict, MAX_BATCH, THREADS)

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Classify a batch of texts (blocking), typos and text-speak put right first."""
        texts = self.speller.all(texts)
        embeddings = self.encoder.encode(texts).astype("float64")
        # One BLAS thread: the members' products are small, and BLAS threads waking up beside
        # onnxruntime's cost more than they save (measured: p50 11.7 -> 6.3 ms per message).
        with one_thread():
            return self.model.predict(texts, embeddings)

    async def classify(self, text: str) -> Prediction:
        """Classify one text without blocking the event loop."""
        return await self._batcher.submit(text)

    def close(self) -> None:
        """Stop the model threads and release the encoder's; idempotent."""
        self._batcher.close()
        self.encoder.close()
