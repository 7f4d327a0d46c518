"""The serving classifier with the real model and the retail catalogue."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from numpy.typing import NDArray

from bot.contracts import Prediction
from intents.classifier import BatchedClassifier
from intents.encoder import Encoder
from intents.model import train
from omnibot.engine import Intents


@pytest.fixture
def classifier(intents: Intents) -> BatchedClassifier:
    assert isinstance(intents.classifier, BatchedClassifier)
    return intents.classifier


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where is my order?", "order_status"),
        ("I want to talk to a human", "talk_to_human"),
        ("can I pay with klarna or paypal?", "payment_methods"),
        ("what time do you shut on sundays", "store_hours"),
        ("has the refund for my returned jacket gone through", "refund_status"),
        ("is shipping free?", "shipping_costs"),
    ],
)
async def test_unseen_phrasings_reach_the_right_intent(
    classifier: BatchedClassifier, text: str, intent: str
) -> None:
    prediction = await classifier.classify(text)
    assert prediction.intent == intent
    assert prediction.confident
    assert prediction.ranking[0] == (prediction.intent, prediction.confidence)
    assert [score for _, score in prediction.ranking] == sorted(
        (score for _, score in prediction.ranking), reverse=True
    )


@pytest.mark.parametrize("text", ["asdf qwerty zxcv", "blorp fnarg wibble"])
async def test_gibberish_is_not_confident(classifier: BatchedClassifier, text: str) -> None:
    assert not (await classifier.classify(text)).confident


@pytest.mark.parametrize("text", ["what is the capital of mongolia", "my cat is sick"])
async def test_clear_off_topic_text_gets_the_out_of_scope_answer(
    classifier: BatchedClassifier, text: str
) -> None:
    prediction = await classifier.classify(text)  # the catalogue's honest "only shop topics"
    assert (prediction.intent, prediction.confident) == ("out_of_scope", True)


class SpyEncoder:
    """Records which threads encode and how many texts each call gets."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.threads: set[str] = set()
        self.batch_sizes: list[int] = []

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        self.threads.add(threading.current_thread().name)
        self.batch_sizes.append(len(texts))
        return self.inner.encode(texts)

    def close(self) -> None:
        pass  # the inner encoder is the shared engine's


class ClosingEncoder:
    """Embeds every text alike and counts calls to close()."""

    def __init__(self) -> None:
        self.closed = 0

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        return np.tile(np.array([1, 0], dtype=np.float32), (len(texts), 1))

    def close(self) -> None:
        self.closed += 1


async def test_concurrent_calls_are_batched_off_the_event_loop(
    classifier: BatchedClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = SpyEncoder(classifier.encoder)
    monkeypatch.setattr(classifier, "encoder", spy)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    texts = [f"where is order number {i}" for i in range(64)]
    try:
        predictions = await asyncio.gather(*(classifier.classify(t) for t in texts))
    finally:
        task.cancel()
    assert {p.intent for p in predictions} == {"order_status"}
    assert threading.main_thread().name not in spy.threads
    assert sum(spy.batch_sizes) == 64
    assert len(spy.batch_sizes) < 64  # concurrent requests shared calls
    assert ticks > len(spy.batch_sizes)  # the loop kept running meanwhile


async def test_a_text_the_tokenizer_refuses_fails_alone_in_its_batch(
    classifier: BatchedClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = SpyEncoder(classifier.encoder)
    monkeypatch.setattr(classifier, "encoder", spy)
    # a lone surrogate (cleaned out of every message; here it reaches the model as is)
    texts = ["where is my order?", "\ud800", "is shipping free?", "hello"]
    results = await asyncio.gather(*(classifier.classify(t) for t in texts), return_exceptions=True)
    order, poison, shipping, hello = results
    assert isinstance(poison, Exception)
    assert isinstance(order, Prediction)
    assert isinstance(shipping, Prediction)
    assert isinstance(hello, Prediction)
    assert (order.intent, shipping.intent, hello.intent) == (
        "order_status",
        "shipping_costs",
        "greeting",
    )
    assert max(spy.batch_sizes) > 1  # the failing text shared a batch with the others


async def test_batched_and_single_predictions_agree(classifier: BatchedClassifier) -> None:
    texts = ["where is my order?", "hello", "do you take apple pay", "bye"]
    batched = classifier.predict(texts)
    for text, prediction in zip(texts, batched, strict=True):
        single = await classifier.classify(text)
        assert single.intent == prediction.intent
        assert single.confidence == pytest.approx(prediction.confidence, abs=1e-4)


async def test_close_stops_the_workers_and_closes_the_encoder() -> None:
    encoder = ClosingEncoder()
    model = train(["where is my order", "where is my refund"], ["order", "refund"], np.eye(2))
    classifier = BatchedClassifier(encoder, model)
    assert (await classifier.classify("hi")).intent in {"order", "refund"}
    classifier.close()
    assert encoder.closed == 1
    classifier.close()  # idempotent: a second close is harmless
    with pytest.raises(RuntimeError):
        await classifier.classify("hi")
