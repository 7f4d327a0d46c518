"""Reading a customer's message with its conversation (the core's ``Understanding``).

A message is read as a shop's person would read it: the entities in it (order number, e-mail,
country, product, address) are kept with the conversation; a bare entity after an exchange
about it goes to the intent that takes it; an elliptical follow-up ("what about express?") is
read with the customer's previous turn; a problem report outranks the facts it mentions (it
goes to the catalogue's answer for that problem, else to a person with the order looked up);
a nudge from a customer already waiting ("hello??") and a plain request for a person ("let me talk
to someone real", :mod:`intents.person_cues`) go to a person; and a message with
several requests is answered request by request.

Help-centre articles come after all that, and only where an intent cannot do better. A part
that escalates (a problem report, frustration, a request for a person, insisting on an order
that was not found) is never answered from an article; neither is a confident intent with an
action or steps (an order look-up), a problem intent, or one that hands over. The article's
passage answers when the scorer is sure of it (``intents.knowledge``) and the intent is unsure,
or the confident intent is an out-of-scope one ("I can only help with orders…"); a confident
intent with a plain answer keeps it unless the article is sure beyond ``STRONG_ARTICLE_SCORE``.
Such a part's prediction is ``article:<key>``, answered by ``KnowledgeResponder``. The reader
asks the help centre with that score (the floor), so a question no article could win with is
not ranked at all (``intents.knowledge.ceiling``): most messages, a catalogue's questions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from bot.contracts import (
    TOPIC_SLOT,
    Context,
    IntentClassifier,
    Part,
    Prediction,
    Reading,
)
from bot.models import Message, Role
from intents.actions.order_status import NOT_FOUND_REASON, NOT_FOUND_SLOT
from intents.catalogue import Catalogue
from intents.entities import extract, only_entities
from intents.knowledge.answerer import ArticleMatch
from intents.knowledge.responder import article_intent
from intents.members import TrainingConfig
from intents.person_cues import asks_for_person
from intents.problems import detect, frustrated
from intents.splitting import split

PROBLEM_REASON = "the customer reported a problem"
PERSON_REASON = "the customer asked for a person"
FRUSTRATED_REASON = "the customer is waiting for an answer"
PROBLEM_RANK = 3  # a problem goes to a problem intent among the classifier's first few
PROBLEM_MIN_SCORE = 0.05
ELLIPSIS = ("what about", "how about", "and ", "what if", "same for", "also for", "ok and")
MIN_REQUEST_WORDS = 3  # an unclear part shorter than this is a fragment, not a request
OUT_OF_SCOPE = TrainingConfig().out_of_scope  # intents saying "not something we answer"
# Measured on bench/data/retail_test.csv (413 catalogue questions) and 35 questions about the
# demo articles: at 0.999 a sure article takes 4 more article questions from confident
# answer-only intents ("how do I wash my merino jumper without it shrinking" from size_and_fit)
# and no catalogue question its intent answered right (at 0.99: two).
STRONG_ARTICLE_SCORE = 0.999
# An unsure problem or hand-over intent this likely may be a problem report the detector
# missed ("return pls, the jumper is too itchy" is not a question for the merino care article).
DOUBTFUL_PROBLEM = 0.3


class Articles(Protocol):
    """The help centre's answers as the reader asks for them (``KnowledgeService``)."""

    @property
    def ready(self) -> bool:
        """Whether an index serves."""
        ...

    def answer(self, question: str, floor: float = 0.0) -> ArticleMatch | None:
        """The passage answering ``question`` with a score of at least ``floor`` when sure
        (blocking); a question that cannot reach ``floor`` is not ranked at all."""
        ...


class Reader:
    """Reads messages with ``classifier`` and the catalogue's reading fields (``problem``,
    ``takes``, ``about``)."""

    def __init__(
        self,
        classifier: IntentClassifier,
        catalogue: Catalogue,
        articles: Articles | None = None,
    ) -> None:
        """``articles``: the help centre's answers, when there is one."""
        self._classifier = classifier
        self._catalogue = catalogue
        self._articles = articles
        self._problems = {n for n, i in catalogue.intents.items() if i.problem}
        self._takers = {i.takes: n for n, i in catalogue.intents.items() if i.takes}

    async def read(self, text: str, context: Context) -> Reading:
        """The message's requests, in order, and the entities found in it."""
        found = extract(text)
        slots = {**context.slots, **found}
        if frustrated(text, context.turns):
            prediction = await self._classifier.classify(text)
            part = Part(text, prediction, escalate=FRUSTRATED_REASON)
            return Reading((self._with_order(part, slots),), found)
        pieces = split(text)
        predictions = await asyncio.gather(*(self._classifier.classify(p) for p in pieces))
        if len(pieces) > 1 and not _several(pieces, predictions):
            pieces, predictions = [text], [await self._classifier.classify(text)]
        parts = [
            await self._part(
                piece, found if piece == text else extract(piece), prediction, context, slots
            )
            for piece, prediction in zip(pieces, predictions, strict=True)
        ]
        return Reading(tuple(parts), found)

    async def _part(
        self,
        text: str,
        here: dict[str, str],
        prediction: Prediction,
        context: Context,
        slots: dict[str, str],
    ) -> Part:
        """One request (``here``: the entities in it) read with the conversation."""
        taken = self._taken(text, here, context.slots.get(TOPIC_SLOT))
        if taken is not None:
            return Part(text, Prediction.pinned(taken))
        if self._insists_on_the_order(prediction, context.slots):
            return Part(text, prediction, escalate=NOT_FOUND_REASON)
        if asks_for_person(text) and not self._hands_over(prediction):
            return self._with_order(Part(text, prediction, escalate=PERSON_REASON), slots)
        if detect(text) is not None:
            return self._problem(text, prediction, slots)
        if _elliptical(text):
            return Part(text, await self._with_previous(text, prediction, context.turns))
        prediction = self._with_entities(here, prediction)
        if not prediction.confident and context.slots.get(TOPIC_SLOT) in self._problems:
            # after the bot's procedure for a problem, an unsure reply is mostly "that did not
            # work" ("my bank says everything is fine on their side"): a person takes it
            return self._with_order(Part(text, prediction, escalate=PROBLEM_REASON), slots)
        return await self._with_article(text, prediction)

    async def _with_article(self, text: str, prediction: Prediction) -> Part:
        """The part answered from a help-centre article when the rule lets one answer and the
        scorer is sure of it; else the intent's part."""
        if self._articles is None or not self._articles.ready or not self._article_may(prediction):
            return Part(text, prediction)
        floor = self._article_floor(prediction)
        match = await asyncio.to_thread(self._articles.answer, text, floor)
        if match is None or match.score < floor:
            return Part(text, prediction)
        intent = article_intent(match.passage.article)
        return Part(text, Prediction(intent, match.score, True, prediction.ranking))

    def _article_may(self, prediction: Prediction) -> bool:
        """Whether an article may answer instead of ``prediction``: not instead of a
        confident intent that acts, reports a problem or hands over, nor of an unsure one
        that may be a problem report."""
        intent = self._catalogue.intents.get(prediction.intent)
        if intent is None or intent.name in OUT_OF_SCOPE:
            return True
        hands_over = intent.problem or intent.escalate is not None
        if not prediction.confident:
            return not (hands_over and prediction.confidence >= DOUBTFUL_PROBLEM)
        return not (intent.action or intent.steps or hands_over)

    def _article_floor(self, prediction: Prediction) -> float:
        """The score an article needs to beat ``prediction``: any sure article (0: the
        scorer's threshold) beats an unsure or out-of-scope intent; a confident answer-only
        intent only one sure beyond :data:`STRONG_ARTICLE_SCORE`. The help centre ranks no
        passages for a question whose score cannot reach it (most messages)."""
        if not prediction.confident or prediction.intent in OUT_OF_SCOPE:
            return 0.0
        return STRONG_ARTICLE_SCORE

    def _with_entities(self, here: dict[str, str], prediction: Prediction) -> Prediction:
        """An unsure top intent made sure by what the message holds: an entity of a kind the
        intent takes or is about ("can you check order 100412", "cost to send to Ireland")."""
        intent = self._catalogue.intents.get(prediction.intent)
        if prediction.confident or intent is None:
            return prediction
        kinds = {intent.takes, *intent.about} & here.keys()
        return replace(prediction, confident=True) if kinds else prediction

    def _taken(self, text: str, here: dict[str, str], topic: str | None) -> str | None:
        """The intent that takes a bare entity given after an exchange about it."""
        about = self._catalogue.intents[topic].about if topic in self._catalogue.intents else ()
        kinds = [kind for kind in here if kind in about and kind in self._takers]
        if not kinds or not only_entities(text):
            return None
        return self._takers[kinds[0]]

    def _insists_on_the_order(self, prediction: Prediction, slots: Mapping[str, str]) -> bool:
        """Right after an order number was not found, a message not clearly about something
        else ("that IS the number, it's on my confirmation") is about that order."""
        taker = self._takers.get("order_number")
        if not slots.get(NOT_FOUND_SLOT) or taker is None or slots.get(TOPIC_SLOT) != taker:
            return False
        return not prediction.confident or prediction.intent == taker

    def _problem(self, text: str, prediction: Prediction, slots: dict[str, str]) -> Part:
        """A problem report: the catalogue's answer for that problem when the classifier
        ranks one near the top, else a person; the agents get the order looked up."""
        ranked = [
            (intent, score)
            for intent, score in prediction.ranking[:PROBLEM_RANK]
            if intent in self._problems and score >= PROBLEM_MIN_SCORE
        ]
        if ranked:
            intent, score = ranked[0]
            chosen = Prediction(intent, score, True, prediction.ranking)
            return self._with_order(Part(text, chosen), slots)
        return self._with_order(Part(text, prediction, escalate=PROBLEM_REASON), slots)

    def _hands_over(self, prediction: Prediction) -> bool:
        """Whether ``prediction`` is a confident intent that hands the customer over itself."""
        intent = self._catalogue.intents.get(prediction.intent)
        return prediction.confident and intent is not None and intent.escalate is not None

    def _with_order(self, part: Part, slots: dict[str, str]) -> Part:
        """``part`` with the order it is about looked up for the agents, when one is known."""
        taker = self._takers.get("order_number")
        if taker is None or "order_number" not in slots:
            return part
        return Part(part.text, part.prediction, part.escalate, attach=taker)

    async def _with_previous(
        self, text: str, prediction: Prediction, turns: Sequence[Message]
    ) -> Prediction:
        """An elliptical follow-up ("what about express?") read together with the customer's
        previous turn, when that reading is confident."""
        previous = next((m.text for m in reversed(turns) if m.role is Role.CUSTOMER), None)
        if not previous:
            return prediction
        combined = await self._classifier.classify(f"{previous} {text}")
        return combined if combined.confident else prediction


def _several(pieces: Sequence[str], predictions: Sequence[Prediction]) -> bool:
    """Whether a split reads as several requests: two answerable ones about different
    things, or one answerable and one a real request of its own the bot cannot answer."""
    sure = {p.intent for p in predictions if p.confident}
    if len(sure) == 1 and all(p.confident for p in predictions):
        return False  # one request told in several sentences
    unsure = [t for t, p in zip(pieces, predictions, strict=True) if not p.confident]
    return len(sure) >= 2 or (
        len(sure) == 1 and any(len(t.split()) >= MIN_REQUEST_WORDS for t in unsure)
    )


def _elliptical(text: str) -> bool:
    """A follow-up that leans on what came before ("what about express?", "and to Spain?")."""
    return text.strip().lower().startswith(ELLIPSIS)
