"""Test doubles of omnibot's own protocols (vendor fakes live next to their connectors' tests)."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from aiohttp import web

from bot.contracts import Answer, Prediction
from bot.models import Address, Conversation, Message


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


class TableResponder:
    """Answers ``intent`` with ``answers[intent]``; intents in ``escalate`` escalate."""

    def __init__(self, answers: dict[str, str], escalate: dict[str, str] | None = None) -> None:
        self.answers = answers
        self.escalate = escalate or {}

    async def respond(self, prediction: Prediction, conversation: Conversation,
                      text: str) -> Answer:
        return Answer(self.answers.get(prediction.intent), self.escalate.get(prediction.intent))


class RecordingConnector:
    """A channel that records what it is asked to send; fails the first ``failures`` sends."""

    channel: ClassVar[str] = "test"

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[tuple[Address, Message]] = []

    def routes(self) -> list[web.RouteDef]:
        return []

    async def send(self, to: Address, message: Message) -> None:
        await asyncio.sleep(0)
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("vendor unavailable")
        self.sent.append((to, message))


class BrokenDesk:
    """An agent desk that is down: every call fails."""

    async def open_ticket(self, conversation: Conversation, reason: str) -> str:
        raise ConnectionError("desk unavailable")

    async def post(self, ticket: str, message: Message) -> None:
        raise ConnectionError("desk unavailable")
