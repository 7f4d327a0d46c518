"""Answers from articles: the passage trimmed for the reply and the article named on the
answer; every other intent answered by the catalogue as before."""

from __future__ import annotations

from bot.article import ArticleRef
from bot.contracts import Answer, Prediction
from bot.models import Conversation
from intents.knowledge.answerer import ArticleMatch
from intents.knowledge.documents import Passage
from intents.knowledge.responder import REPLY_CHARS, KnowledgeResponder, article_intent

CONVERSATION = Conversation(id="c", customer_id="c")
LONG_TEXT = "Hand wash merino in cool water. " * 40
MERINO = Passage("merino.md", "Merino care", "https://shop.example/merino", "Washing", LONG_TEXT)


class Articles:
    """Sure of ``passage`` for every question."""

    ready = True

    def __init__(self, passage: Passage = MERINO) -> None:
        self.passage = passage

    def answer(self, question: str) -> ArticleMatch | None:
        return ArticleMatch(self.passage, 0.987654)


class Catalogue:
    """The catalogue's responder: answers every intent with its name."""

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        return Answer(text=prediction.intent)


def responder(articles: Articles | None = None) -> KnowledgeResponder:
    return KnowledgeResponder(Catalogue(), articles or Articles())


async def test_an_article_part_is_answered_with_its_passage_trimmed_and_named() -> None:
    prediction = Prediction(article_intent("merino.md"), 0.987654, True)
    answer = await responder().respond(prediction, CONVERSATION, "how do I wash merino")
    assert answer.text is not None
    assert len(answer.text) <= REPLY_CHARS
    assert answer.text.startswith("Hand wash merino in cool water.")
    assert answer.text.endswith(".")
    assert answer.article == ArticleRef(
        "merino.md", "Merino care", "https://shop.example/merino", 0.9877
    )
    assert answer.escalate is None


async def test_other_intents_go_to_the_catalogue() -> None:
    answer = await responder().respond(Prediction.pinned("store_hours"), CONVERSATION, "hours?")
    assert answer == Answer(text="store_hours")


async def test_an_article_that_no_longer_answers_leaves_the_part_to_a_person() -> None:
    other = Passage("gift-cards.md", "Gift cards", None, None, "They never expire.")
    prediction = Prediction(article_intent("merino.md"), 0.98, True)
    answer = await responder(Articles(other)).respond(prediction, CONVERSATION, "merino?")
    assert answer.text is None
    assert answer.article is None
