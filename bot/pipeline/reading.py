"""Reading a customer's message: each request of it, with what to do about it.

The intent engine brings its own reader (``intents.reading.Reader``: context, entities,
problems, several requests); :class:`SingleReading` is the core's plain one, a message as one
request classified on its own, for an engine that has none.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.contracts import (
    Answer,
    Context,
    IntentClassifier,
    Part,
    Prediction,
    Reading,
    Responder,
)
from bot.models import Conversation

UNANSWERED_PART_REASON = "part of the message had no automated answer"
NO_ANSWER_REASON = "no automated answer available"


class SingleReading:
    """Reads a message as one request, classified alone."""

    def __init__(self, classifier: IntentClassifier) -> None:
        self._classifier = classifier

    async def read(self, text: str, context: Context) -> Reading:
        """One part: the whole text and its prediction."""
        return Reading(parts=(Part(text, await self._classifier.classify(text)),))


@dataclass(frozen=True)
class Held:
    """A part of a message that needs a person: why, what the bot says first (``lead``), and
    what the agents should know."""

    part: Part
    reason: str
    lead: str | None = None


@dataclass(frozen=True)
class Replies:
    """What the bot makes of a reading's parts: the answers it gives (with their predictions),
    the parts a person must take, and the parts it did not understand."""

    answers: tuple[tuple[Prediction, Answer], ...] = ()
    held: tuple[Held, ...] = ()
    unclear: tuple[Part, ...] = ()


async def reply_to(
    responder: Responder, conversation: Conversation, parts: tuple[Part, ...]
) -> Replies:
    """Ask ``responder`` for each answerable part's answer, in order; sort out the rest."""
    answers: list[tuple[Prediction, Answer]] = []
    held: list[Held] = []
    unclear: list[Part] = []
    for part in parts:
        if part.escalate is not None:
            held.append(Held(part, part.escalate))
        elif not part.prediction.confident:
            unclear.append(part)
        else:
            answer = await responder.respond(part.prediction, conversation, part.text)
            if answer.text and answer.escalate is None:
                answers.append((part.prediction, answer))
            else:
                held.append(Held(part, answer.escalate or NO_ANSWER_REASON, answer.text))
    if held or answers:  # the unclear rest goes to the person with them
        held += [Held(part, UNANSWERED_PART_REASON) for part in unclear]
        unclear = []
    return Replies(tuple(answers), tuple(held), tuple(unclear))


def detail(replies: Replies, attached: str | None) -> str | None:
    """What the ticket says beyond the reason: which parts the bot left to the person when it
    answered others, and the looked-up facts (``attached``)."""
    lines = []
    if replies.answers or len(replies.held) > 1:
        lines += [f"Not answered by the bot: \u201c{held.part.text}\u201d" for held in replies.held]
    if attached:
        lines.append(f"Looked up: {attached}")
    return "\n".join(lines) or None
