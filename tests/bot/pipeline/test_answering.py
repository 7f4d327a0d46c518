"""Answering: an answer taken from a help-centre article names it on the bot message sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from bot.article import ArticleRef
from bot.contracts import Answer, Context, Part, Prediction, Reading
from bot.core import build_core
from bot.insight.journal import Journal
from bot.metrics import Metrics
from bot.models import Conversation, InboundMessage, Role, new_id
from bot.pipeline.answering import bot_messages
from connectors.console.log_desk import LogDesk
from tests.core import ALICE, CONFIG, SCRIPT, handle
from tests.support.fakes import RecordingConnector, ScriptedClassifier, SettledOutbox

CARE = ArticleRef("care", "Caring for merino", "https://help.example.com/care", 0.93)
GIFT = ArticleRef("gift", "Gift cards", "https://help.example.com/gift", 0.88)
ARTICLES = {"how do I wash merino": CARE, "do gift cards expire": GIFT}
ANSWERS = {"greeting": "Hi!", "order_status": "It ships today."}
Say = Callable[[str], Awaitable[Conversation]]  # a customer's message in; their conversation after


def said(
    text: str,
    article: ArticleRef | None = None,
    more: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
) -> tuple[Prediction, Answer]:
    intent = f"article:{article.key}" if article else "greeting"
    answer = Answer(text, more=more, options=options, article=article)
    return Prediction(intent, 0.9, True), answer


def test_a_single_answer_names_its_article_on_the_message_holding_its_text() -> None:
    replies = bot_messages([said("Wash it cold.", CARE, more=("Dry it flat.",))])
    assert [(m.text, m.article) for m in replies] == [
        ("Wash it cold.", CARE),
        ("Dry it flat.", None),
    ]
    assert all(m.role is Role.BOT for m in replies)


def test_a_joined_reply_names_the_article_of_the_answer_that_had_one() -> None:
    (reply,) = bot_messages([said("Hi!"), said("Wash it cold.", CARE, options=("More",))])
    assert (reply.text, reply.article, reply.options) == ("Hi!\n\nWash it cold.", CARE, ("More",))


def test_a_joined_reply_of_two_articles_names_the_first() -> None:
    (reply,) = bot_messages([said("Wash it cold.", CARE), said("They never expire.", GIFT)])
    assert reply.article == CARE


def test_answers_without_an_article_name_none() -> None:
    assert [m.article for m in bot_messages([said("Hi!"), said("Bye.")])] == [None]


class ArticleResponder:
    """Answers an ``article:<key>`` prediction with a passage and its article; intents too."""

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        for question, article in ARTICLES.items():
            if prediction.intent == f"article:{article.key}":
                return Answer(f"From {article.title}: {question}?", article=article)
        return Answer(ANSWERS.get(prediction.intent))


class ArticleReader:
    """Reads "a + b" as the requests a and b; a known question as its article's prediction."""

    def __init__(self) -> None:
        self.classifier = ScriptedClassifier(SCRIPT)

    async def read(self, text: str, context: Context) -> Reading:
        parts = []
        for piece in text.split(" + "):
            article = ARTICLES.get(piece)
            prediction = (
                Prediction(f"article:{article.key}", article.score, True)
                if article
                else await self.classifier.classify(piece)
            )
            parts.append(Part(piece, prediction))
        return Reading(tuple(parts), {})


@pytest.fixture
def connector() -> RecordingConnector:
    return RecordingConnector()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def say_to_core(
    redis_client: aioredis.Redis, connector: RecordingConnector, metrics: Metrics
) -> Say:
    core = build_core(
        redis_client,
        classifier=ScriptedClassifier(SCRIPT),
        responder=ArticleResponder(),
        reader=ArticleReader(),
        desk=LogDesk(),
        senders={connector.channel: connector},
        metrics=metrics,
        config=CONFIG,
        outbox_type=SettledOutbox,
    )

    async def say(text: str) -> Conversation:
        await handle(core.dispatcher, InboundMessage(ALICE, text, dedup_id=new_id()))
        return await core.store.load(await core.store.resolve(ALICE))

    return say


async def test_an_article_answer_is_sent_and_stored_naming_its_article(
    say_to_core: Say, connector: RecordingConnector
) -> None:
    stored = await say_to_core("how do I wash merino")
    assert [(m.text, m.article) for _, m in connector.sent] == [
        ("From Caring for merino: how do I wash merino?", CARE)
    ]
    assert stored.messages[-1].role is Role.BOT
    assert stored.messages[-1].article == CARE


async def test_a_joined_reply_with_an_article_answer_is_stored_naming_it(
    say_to_core: Say, connector: RecordingConnector
) -> None:
    stored = await say_to_core("hello + do gift cards expire")
    assert [m.text for _, m in connector.sent] == ["Hi!\n\nFrom Gift cards: do gift cards expire?"]
    assert connector.sent[0][1].article == GIFT
    assert stored.messages[-1].article == GIFT


async def test_an_intent_answer_names_no_article(
    say_to_core: Say, connector: RecordingConnector
) -> None:
    stored = await say_to_core("where is my order")
    assert [(m.text, m.article) for _, m in connector.sent] == [("It ships today.", None)]
    assert stored.messages[-1].article is None


async def test_article_answers_are_counted_under_one_label_not_one_per_article(
    say_to_core: Say, metrics: Metrics
) -> None:
    await say_to_core("how do I wash merino")
    await say_to_core("hello + do gift cards expire")
    await say_to_core("where is my order")
    counted = {
        sample.labels["intent"]: sample.value
        for metric in metrics.registry.collect()
        if metric.name == "omnibot_answered"
        for sample in metric.samples
        if sample.name == "omnibot_answered_total"
    }
    assert counted == {"article": 2, "greeting": 1, "order_status": 1}


async def test_the_journal_records_each_answer_by_what_gave_it(
    say_to_core: Say, redis_client: aioredis.Redis
) -> None:
    journal = Journal(redis_client)
    cid = (await say_to_core("hello + do gift cards expire")).id
    await say_to_core("hello + human please")  # the bot has no answer for a person's request
    decided = [e for e in await journal.of_customer(cid) if e["type"] != "message"]
    assert [(e["type"], e.get("by"), e.get("intent"), e.get("article")) for e in decided] == [
        ("answered", "intent", "greeting", None),
        ("answered", "article", "article:gift", "gift"),
        ("answered", "intent", "greeting", None),  # said before the hand-off, in its write
        ("escalated", None, "human", None),
    ]
    assert decided[-1].get("reason") == "other"
