"""One process's core (built by :func:`bot.core.build_core`, as the app builds it, with scripted
intents, a recording channel and a log desk), for tests of the dispatcher, the work stream and
the hand-off."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.contracts import AgentDesk, Understanding
from bot.core import Core, CoreConfig, build_core
from bot.metrics import Metrics
from bot.models import Address, InboundMessage, Outcome, new_id
from bot.pipeline.dispatcher import Dispatcher
from bot.texts import Texts
from connectors.console.log_desk import LogDesk
from tests.support.fakes import (
    RecordingConnector,
    ScriptedClassifier,
    SettledOutbox,
    TableResponder,
)

ALICE = Address("test", "alice")
SCRIPT = {
    "where is my order": ("order_status", 0.9),
    "human please": ("human", 0.95),
    "hello": ("greeting", 0.9),
}
ANSWERS = {"order_status": "It ships today.", "greeting": "Hi!"}
ESCALATE = {"human": "asked for a person"}
CONFIG = CoreConfig(texts=Texts(help="HELP TEXT"))


def make_core(
    client: aioredis.Redis,
    desk: AgentDesk,
    connector: RecordingConnector,
    classifier: ScriptedClassifier | None = None,
    config: CoreConfig = CONFIG,
    reader: Understanding | None = None,
) -> Core:
    """The core on ``client``: ``connector`` is its only channel that sends, and the outbox's
    ``say`` returns once this process's sends finished (a test reads what was sent at once)."""
    return build_core(
        client,
        classifier=classifier or ScriptedClassifier(SCRIPT),
        responder=TableResponder(ANSWERS, escalate=ESCALATE),
        reader=reader,
        desk=desk,
        senders={connector.channel: connector},
        metrics=Metrics(),
        config=config,
        outbox_type=SettledOutbox,
    )


async def handle(dispatcher: Dispatcher, inbound: InboundMessage) -> Outcome:
    """Accept the message, then answer it before returning (what the work stream does
    later, on any process)."""
    outcome, cid = await dispatcher.accept(inbound)
    await dispatcher.process(cid)
    return outcome


class Bot:
    """A core as one process would hold it, with its recording channel and log desk."""

    def __init__(
        self,
        client: aioredis.Redis,
        classifier: ScriptedClassifier | None = None,
        reader: Understanding | None = None,
    ) -> None:
        self.connector = RecordingConnector()
        self.desk = LogDesk()
        self.classifier = classifier or ScriptedClassifier(SCRIPT)
        self.core = make_core(client, self.desk, self.connector, self.classifier, reader=reader)
        self.store = self.core.store
        self.deliveries = self.core.deliveries
        self.consent = self.core.consent
        self.handoff = self.core.handoff
        self.dispatcher = self.core.dispatcher

    async def say(self, text: str, dedup_id: str | None = None, **extra: object) -> Outcome:
        inbound = InboundMessage(ALICE, text, dedup_id=dedup_id or new_id(), **extra)  # type: ignore[arg-type]
        return await handle(self.dispatcher, inbound)

    def replies(self) -> list[str]:
        return [message.text for _, message in self.connector.sent]
