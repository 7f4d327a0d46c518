"""The help-centre service: the index built (or loaded from the cache) and swapped when the
folder changes, never answering before it is ready, the last index serving when the folder
goes away — over the real int8 encoder and the shipped calibration."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from intents.build import make_encoder
from intents.encoder import Encoder
from intents.knowledge.answerer import Attempt, KnowledgeAnswerer
from intents.knowledge.service import KnowledgeService
from tests.intents.knowledge.tiny_help_centre import ARTICLES

MERINO_QUESTION = "how should I wash my merino jumper"
GIFT_QUESTION = "do your gift cards ever expire"


def write_folder(folder: Path, articles: dict[str, tuple[str, str]] = ARTICLES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, (title, text) in articles.items():
        (folder / key).write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    return folder


@pytest.fixture
def service(intents_data_dir: Path, tmp_path: Path) -> Iterator[KnowledgeService]:
    knowledge = KnowledgeService(
        write_folder(tmp_path / "help"),
        tmp_path / "cache",
        "onnx-int8",
        lambda: make_encoder("onnx-int8", intents_data_dir / "cache"),
        recheck_s=0.05,
    )
    yield knowledge
    knowledge.close()


def test_nothing_is_answered_before_the_index_is_ready(service: KnowledgeService) -> None:
    assert not service.ready
    assert service.answer(MERINO_QUESTION) is None
    assert service.status() == {"articles": 0, "passages": 0, "state": "waiting"}


def test_a_loaded_index_answers_a_clear_question_and_refuses_an_unrelated_one(
    service: KnowledgeService,
) -> None:
    built = service.load()
    assert not built.cached
    assert service.status() == {"articles": 6, "passages": 6, "state": "ready"}
    match = service.answer(MERINO_QUESTION)
    assert match is not None
    assert match.passage.article == "merino.md"
    assert service.answer("who won the football last night") is None


def test_another_process_on_the_same_cache_loads_the_index(
    service: KnowledgeService, intents_data_dir: Path
) -> None:
    service.load()
    encoders: list[Encoder] = []

    def encoder() -> Encoder:
        encoders.append(make_encoder("onnx-int8", intents_data_dir / "cache"))
        return encoders[-1]

    other = KnowledgeService(service.folder, service._cache_dir, "onnx-int8", encoder)
    try:
        assert other.load().cached
        assert other.answer(GIFT_QUESTION) is not None
    finally:
        other.close()


def test_an_answer_skipped_under_a_floor_is_ranked_for_a_lower_one_then_remembered(
    service: KnowledgeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.load()
    answerer = service._answerer
    assert answerer is not None
    attempts: list[float] = []

    def attempt(question: str, floor: float = 0.0) -> Attempt:
        attempts.append(floor)
        return KnowledgeAnswerer.attempt(answerer, question, floor)

    monkeypatch.setattr(answerer, "attempt", attempt)
    assert service.answer(MERINO_QUESTION, floor=2.0) is None  # no score reaches 2: skipped
    match = service.answer(MERINO_QUESTION)  # the skip does not stand for a lower floor
    assert match is not None
    assert match.passage.article == "merino.md"
    assert service.answer(MERINO_QUESTION) == match  # the responder's ask: remembered
    assert service.answer(MERINO_QUESTION, floor=2.0) is None
    assert attempts == [2.0, 0.0]


async def test_the_background_build_serves_then_follows_the_folder(
    service: KnowledgeService, caplog: pytest.LogCaptureFixture
) -> None:
    await service.start()
    try:
        await until(lambda: service.ready)
        assert service.answer(GIFT_QUESTION) is not None
        (service.folder / "gift-cards.md").unlink()
        await until(lambda: service.status()["articles"] == 5)
        assert service.answer(GIFT_QUESTION) is None
        with caplog.at_level(logging.WARNING):
            shutil.rmtree(service.folder)
            await until(lambda: "disappeared" in caplog.text)
        match = service.answer(MERINO_QUESTION)
        assert match is not None  # the last index keeps serving
    finally:
        await service.stop()


async def until(condition: object, within_s: float = 60.0) -> None:
    """Wait until ``condition()`` holds."""
    assert callable(condition)
    for _ in range(int(within_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")
