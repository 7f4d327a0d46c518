"""Test doubles of omnibot's own protocols (vendor fakes live next to their connectors' tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import ClassVar

from aiohttp import web

from bot.contracts import Answer, DeliveryError, Prediction, Sent, TicketChange, Unsure
from bot.delivery.outbox import Outbox
from bot.insight.journal import JournalEvent
from bot.models import Address, Conversation, Message
from bot.storage.codec import MetaUpdate
from bot.storage.lock import ConversationLock
from connectors.console.log_desk import LogDesk


class ScriptedClassifier:
    """Returns the prediction scripted for each text (unknown texts: not confident)."""

    def __init__(self, script: dict[str, tuple[str, float]], threshold: float = 0.5) -> None:
        self.script = script
        self.threshold = threshold
        self.seen: list[str] = []

    async def classify(self, text: str) -> Prediction:
        self.seen.append(text)
        intent, confidence = self.script.get(text, ("unknown", 0.1))
        return Prediction(intent, confidence, confidence >= self.threshold)

    def close(self) -> None:
        """Nothing to release."""


class TableResponder:
    """Answers ``intent`` with ``answers[intent]``; intents in ``escalate`` escalate."""

    def __init__(self, answers: dict[str, str], escalate: dict[str, str] | None = None) -> None:
        self.answers = answers
        self.escalate = escalate or {}

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        return Answer(self.answers.get(prediction.intent), self.escalate.get(prediction.intent))


class RecordingConnector:
    """A channel that records what it is asked to send.

    The first ``failures`` sends fail with ``error`` (a transient vendor failure by default).
    """

    channel: ClassVar[str] = "test"

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or ConnectionError("vendor unavailable")
        self.sent: list[tuple[Address, Message]] = []
        self.unsure: list[Unsure | None] = []  # what each try was told of an earlier one
        self.attempts = 0

    def routes(self) -> list[web.AbstractRouteDef]:
        return []

    async def send(
        self, to: Address, message: Message, unsure: Unsure | None = None
    ) -> Sent | None:
        await asyncio.sleep(0)
        self.attempts += 1
        self.unsure.append(unsure)
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        self.sent.append((to, message))
        return Sent(vendor_id=f"V{len(self.sent)}")


def permanent(code: int) -> DeliveryError:
    """A vendor refusal that retrying cannot fix."""
    return DeliveryError(f"refused with code {code}", permanent=True, code=code)


class FlakyDesk(LogDesk):
    """A log desk that can be down: while ``down``, every call fails as Slack's outage would."""

    def __init__(self, down: bool = False) -> None:
        super().__init__()
        self.down = down

    def _check(self) -> None:
        if self.down:
            raise DeliveryError("desk unavailable")

    async def open_ticket(self, conversation: Conversation, reason: str) -> str:
        self._check()
        return await super().open_ticket(conversation, reason)

    async def post(self, ticket: str, message: Message) -> None:
        self._check()
        await super().post(ticket, message)

    async def update_ticket(
        self, ticket: str, conversation: Conversation, change: TicketChange
    ) -> None:
        self._check()
        await super().update_ticket(ticket, conversation, change)


class SettledOutbox(Outbox):
    """The real outbox, whose :meth:`say` returns once this process's sends finished, so a
    test reads what a connector was sent right after the call that sent it."""

    async def say(
        self,
        cid: str,
        to: Address | None,
        messages: Sequence[Message],
        meta: MetaUpdate | None = None,
        private: Sequence[tuple[Address, Message]] = (),
        fence: ConversationLock | None = None,
        events: Sequence[JournalEvent] = (),
    ) -> None:
        await super().say(cid, to, messages, meta, private, fence, events)
        await self.settle()
