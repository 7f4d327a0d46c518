"""The intent engine's contracts: what the core asks of it (:class:`Understanding`,
:class:`IntentClassifier`, :class:`Responder`) and what it answers (:class:`Reading`,
:class:`Prediction`, :class:`Answer`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.article import ArticleRef
from bot.models import Conversation, Message

TOPIC_SLOT = "topic"  # the slot holding the intent the bot last answered


@dataclass(frozen=True)
class Prediction:
    """The classifier's verdict on one text.

    ``confident`` says whether the engine's decision rule accepts ``intent`` as an answer; when
    it is false the core asks the customer to rephrase or escalates.
    """

    intent: str
    confidence: float
    confident: bool
    ranking: tuple[tuple[str, float], ...] = ()

    @classmethod
    def pinned(cls, intent: str) -> Prediction:
        """A prediction the conversation decided, not the classifier (the intent that asked
        for the message, the one that takes a bare entity, a look-up for the agents)."""
        return cls(intent=intent, confidence=1.0, confident=True)


@dataclass(frozen=True)
class Answer:
    """What the intent engine proposes: a text for the customer, and/or a reason to escalate.

    ``more`` are further messages after ``text``, in order (a rule's several responses);
    ``options`` are the suggested replies of the last of them (Rasa buttons);
    ``expect`` pins the customer's next message to that intent (an action asked a question);
    ``slots``, when not None, replaces the conversation's slots; ``article`` is the
    help-centre article ``text`` was taken from (recorded on the bot's message); ``repair``
    says ``text`` asks the customer to put it another way (the bot's last answer missed). An answer
    with neither text nor escalation means "not mine": the core classifies the message as usual.
    """

    text: str | None
    escalate: str | None = None
    expect: str | None = None
    slots: dict[str, str] | None = None
    more: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    article: ArticleRef | None = None
    repair: bool = False


@dataclass(frozen=True)
class Context:
    """What reading a message sees of its conversation: the recent ``turns`` before it (oldest
    first) and the conversation's ``slots`` (entities found so far; :data:`TOPIC_SLOT` names
    the intent last answered)."""

    turns: tuple[Message, ...] = ()
    slots: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    """One request of a customer's message and what to do about it.

    ``prediction`` is the intent to answer (answered only when ``confident``); ``escalate``, when
    set, hands the conversation to a person for that reason instead (a problem with no answer
    of its own, frustration); ``attach`` names an intent whose answer the agents get on the
    ticket (the order the customer wrote about, looked up).
    """

    text: str
    prediction: Prediction
    escalate: str | None = None
    attach: str | None = None


@dataclass(frozen=True)
class Reading:
    """A message read with its conversation: its requests in order, and the entities found
    in it (slot name to value), to keep with the conversation."""

    parts: tuple[Part, ...]
    slots: dict[str, str] = field(default_factory=dict)


class Understanding(Protocol):
    """Reads a customer's message with its conversation (``intents.reading.Reader``)."""

    async def read(self, text: str, context: Context) -> Reading: ...


class IntentClassifier(Protocol):
    """Turns a customer's text into a :class:`Prediction`."""

    async def classify(self, text: str) -> Prediction: ...

    def close(self) -> None:
        """Release the model threads and models (the service is shutting down)."""
        ...


class Responder(Protocol):
    """Picks the automated answer (template or custom action) for a confident prediction."""

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer: ...
