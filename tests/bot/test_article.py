"""The article a bot message was answered from: recorded on the message, stored and read back."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from bot.article import ArticleRef, article_from_dict
from bot.models import Message, Role
from bot.storage.keys import conversation_key
from bot.storage.store import Store

CARE = ArticleRef("care/merino", "Caring for merino", "https://help.example.com/merino", 0.91)


def test_an_article_round_trips_through_the_message_dict() -> None:
    message = Message(role=Role.BOT, text="Wash it cold.", article=CARE)
    data = message.to_dict()
    assert data["article"] == {
        "key": "care/merino",
        "title": "Caring for merino",
        "url": "https://help.example.com/merino",
        "score": 0.91,
    }
    assert Message.from_dict(json.loads(json.dumps(data))) == message


def test_a_message_without_an_article_stores_no_article_field() -> None:
    assert "article" not in Message(role=Role.BOT, text="hi").to_dict()


def test_an_article_without_a_url_round_trips() -> None:
    message = Message(role=Role.BOT, text="hi", article=ArticleRef("k", "Title", None, 1))
    back = Message.from_dict(json.loads(json.dumps(message.to_dict())))
    assert back.article == ArticleRef("k", "Title", None, 1.0)


@pytest.mark.parametrize(
    "stored",
    [
        "not a dict",
        ["k", "t", None, 0.5],
        {"title": "no key", "url": None, "score": 0.5},
        {"key": 1, "title": "t", "url": None, "score": 0.5},
        {"key": "k", "title": None, "url": None, "score": 0.5},
        {"key": "k", "title": "t", "url": 42, "score": 0.5},
        {"key": "k", "title": "t", "url": None, "score": "high"},
        {"key": "k", "title": "t", "url": None, "score": True},
        {"key": "k", "title": "t", "url": None},
    ],
)
def test_a_malformed_stored_article_reads_as_none(stored: object) -> None:
    assert article_from_dict(stored) is None
    raw = {"id": "1", "role": "bot", "text": "hi", "ts": 1.0, "article": stored}
    assert Message.from_dict(json.loads(json.dumps(raw))).article is None


def test_a_non_finite_score_reads_as_none() -> None:
    # json.loads takes NaN and Infinity, which no score is
    stored = json.loads('{"key": "k", "title": "t", "url": null, "score": NaN}')
    assert article_from_dict(stored) is None


async def test_the_article_is_stored_with_the_message_and_read_back(store: Store) -> None:
    answer = Message(role=Role.BOT, text="Wash it cold.", article=CARE)
    plain = Message(role=Role.BOT, text="Anything else?")
    await store.record("c1", (answer, plain))
    conversation = await store.load("c1")
    assert [m.article for m in conversation.messages] == [CARE, None]


async def test_a_history_with_old_and_malformed_articles_still_loads(
    store: Store, redis_client: aioredis.Redis
) -> None:
    history = conversation_key("c2", "history")
    old = {"id": "a", "role": "bot", "text": "from before articles", "ts": 1.0}
    broken = {**old, "id": "b", "article": {"key": "k", "title": 3}}
    await redis_client.rpush(history, json.dumps(old), json.dumps(broken))
    await store.record("c2", (Message(role=Role.BOT, text="new", article=CARE),))
    conversation = await store.load("c2")
    assert [(m.id, m.article) for m in conversation.messages][:2] == [("a", None), ("b", None)]
    assert conversation.messages[-1].article == CARE
