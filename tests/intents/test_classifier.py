"""The MiniLM + logistic-regression classifier, with the real model."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.app import Engine
from intents.classifier import EmbeddingClassifier


@pytest.fixture
def classifier(engine: Engine) -> EmbeddingClassifier:
    assert isinstance(engine.classifier, EmbeddingClassifier)
    return engine.classifier


@pytest.mark.parametrize(("text", "intent"), [
    ("where is my order?", "order_status"),
    ("I want to talk to a human", "talk_to_human"),
    ("can I pay with klarna or paypal?", "payment_methods"),
    ("what time do you shut on sundays", "store_hours"),
    ("has the refund for my returned jacket gone through", "refund_status"),
    ("is shipping free?", "shipping_costs"),
])
async def test_unseen_phrasings_reach_the_right_intent(classifier: EmbeddingClassifier,
                                                       text: str, intent: str) -> None:
    prediction = await classifier.classify(text)
    assert prediction.intent == intent
    assert prediction.confident
    assert prediction.ranking[0] == (prediction.intent, prediction.confidence)
    assert [score for _, score in prediction.ranking] == sorted(
        (score for _, score in prediction.ranking), reverse=True)


@pytest.mark.parametrize("text", ["what is the capital of mongolia", "asdf qwerty zxcv",
                                  "my cat is sick"])
async def test_off_topic_text_is_not_confident(classifier: EmbeddingClassifier,
                                               text: str) -> None:
    assert not (await classifier.classify(text)).confident


async def test_classification_does_not_block_the_event_loop(
        classifier: EmbeddingClassifier) -> None:
    ticks = 0
    threads: set[str] = set()

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    original = classifier.predict

    def spy(texts: list[str]) -> list[object]:
        threads.add(threading.current_thread().name)
        return original(texts)  # type: ignore[return-value]

    classifier.predict = spy  # type: ignore[assignment,method-assign]
    task = asyncio.create_task(ticker())
    try:
        await asyncio.gather(*(classifier.classify(f"where is order {i}") for i in range(20)))
    finally:
        task.cancel()
        del classifier.predict
    assert threads
    assert threading.main_thread().name not in threads
    assert ticks > 20
