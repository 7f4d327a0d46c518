"""One process's core (a dispatcher and its collaborators on a real Redis, with scripted
intents and a recording channel), for tests of the dispatcher and the pipeline."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.delivery.consent import Consent
from bot.delivery.records import Deliveries
from bot.desk.handoff import Handoff
from bot.desk.queue import DeskQueue
from bot.desk.tickets import Tickets
from bot.models import Address, InboundMessage, Outcome, new_id
from bot.pipeline.dispatcher import Dispatcher
from bot.storage.store import Store
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


class Bot:
    """A dispatcher with its collaborators, as one process would hold them."""

    def __init__(
        self,
        client: aioredis.Redis,
        store: Store,
        deliveries: Deliveries,
        classifier: ScriptedClassifier | None = None,
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.consent = Consent(client)
        self.connector = RecordingConnector()
        self.desk = LogDesk()
        self.classifier = classifier or ScriptedClassifier(SCRIPT)
        outbox = SettledOutbox(client, store, deliveries, {"test": self.connector})
        tickets = Tickets(client)
        queue = DeskQueue(client, store, tickets, self.desk, deliveries)
        self.handoff = Handoff(store, tickets, queue, outbox)
        responder = TableResponder(
            {"order_status": "It ships today.", "greeting": "Hi!"},
            escalate={"human": "asked for a person"},
        )
        self.dispatcher = Dispatcher(
            store,
            self.consent,
            self.classifier,
            responder,
            self.handoff,
            outbox,
            texts=Texts(help="HELP TEXT"),
        )

    async def say(self, text: str, dedup_id: str | None = None, **extra: object) -> Outcome:
        inbound = InboundMessage(ALICE, text, dedup_id=dedup_id or new_id(), **extra)  # type: ignore[arg-type]
        return await self.dispatcher.handle(inbound)

    def replies(self) -> list[str]:
        return [message.text for _, message in self.connector.sent]
