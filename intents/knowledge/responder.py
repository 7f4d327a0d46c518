"""Answers from help-centre articles: a part the reader gave to an article (its prediction's
intent is ``article:<key>``) is answered with the passage, trimmed on a sentence boundary to
``REPLY_CHARS``, and names the article on the answer; every other part goes to the catalogue's
responder as before."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.article import ArticleRef
from bot.contracts import Answer, Prediction, Responder
from bot.models import Conversation
from intents.knowledge.answerer import ArticleMatch
from intents.knowledge.passages import trim_to

ARTICLE_PREFIX = "article:"  # the intent of a part answered from an article: article:<key>
REPLY_CHARS = 600  # what a web chat reply quotes; SMS trims further (connectors/sms)

log = logging.getLogger(__name__)


class ArticleSource(Protocol):
    """Where a question's answering passage comes from (``KnowledgeService``)."""

    @property
    def ready(self) -> bool:
        """Whether an index serves."""
        ...

    def answer(self, question: str) -> ArticleMatch | None:
        """The passage answering ``question`` when sure (blocking)."""
        ...


def article_intent(key: str) -> str:
    """The intent name of a part answered from the article ``key``."""
    return ARTICLE_PREFIX + key


class KnowledgeResponder:
    """The passage for parts given to an article; ``inner`` answers the rest."""

    def __init__(self, inner: Responder, articles: ArticleSource) -> None:
        self._inner = inner
        self._articles = articles

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        """The article's passage for an ``article:`` prediction, else ``inner``'s answer."""
        if not prediction.intent.startswith(ARTICLE_PREFIX):
            return await self._inner.respond(prediction, conversation, text)
        key = prediction.intent.removeprefix(ARTICLE_PREFIX)
        # the reader's match, remembered by the source (the same question and index)
        match = await asyncio.to_thread(self._articles.answer, text)
        if match is None or match.passage.article != key:
            # the index was swapped between reading and answering: a person answers instead
            log.warning("the article %s no longer answers the question", key)
            log.debug("the question the article %s no longer answers: %r", key, text)
            return Answer(text=None)
        return answer_from(match)


def answer_from(match: ArticleMatch) -> Answer:
    """The answer quoting ``match``'s passage, naming its article."""
    passage = match.passage
    article = ArticleRef(passage.article, passage.title, passage.url, round(match.score, 4))
    return Answer(text=trim_to(passage.text, REPLY_CHARS), article=article)
