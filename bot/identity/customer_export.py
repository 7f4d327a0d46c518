"""What a customer's data export holds (:meth:`bot.identity.privacy.Privacy.export`): the
records' shapes and how a conversation, its tickets and the addresses' consent are read."""

from __future__ import annotations

import json
from typing import Any, TypedDict

import redis.asyncio as redis

from bot.delivery.records import DeliveryRecord
from bot.insight.journal import JournalEvent
from bot.models import Address, MessageDict
from bot.storage.keys import OPEN_TICKETS_KEY, conversation_key, optout_key


class ConsentExport(TypedDict):
    """An address's consent: when it opted out (None: it did not)."""

    address: str
    opted_out_at: float | None


class TicketExport(TypedDict):
    """A desk ticket of the customer's conversation."""

    ticket: str
    open: bool


class ConversationExport(TypedDict):
    """A conversation: its state, messages and the agents' notes on it."""

    id: str
    state: str
    escalation: dict[str, Any] | None
    slots: dict[str, str]
    messages: list[MessageDict]
    notes: list[MessageDict]


class CustomerExport(TypedDict):
    """Everything kept about a customer, JSON-ready."""

    customer_id: str
    exported_at: float
    profile: dict[str, str]
    addresses: list[str]
    conversations: list[ConversationExport]
    tickets: list[TicketExport]
    deliveries: dict[str, DeliveryRecord]
    consent: list[ConsentExport]
    events: list[JournalEvent]


async def conversation_export(
    client: redis.Redis, cid: str
) -> tuple[ConversationExport, list[TicketExport]]:
    """The conversation of customer ``cid`` and its tickets, as exported."""
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(conversation_key(cid, "meta"))
    pipe.lrange(conversation_key(cid, "history"), 0, -1)
    pipe.lrange(conversation_key(cid, "notes"), 0, -1)
    meta, history, notes = await pipe.execute()
    open_since = await client.zscore(OPEN_TICKETS_KEY, cid)
    tickets: list[TicketExport] = []
    if meta.get("ticket"):
        tickets.append({"ticket": str(meta["ticket"]), "open": open_since is not None})
    if meta.get("previous_ticket"):
        tickets.append({"ticket": str(meta["previous_ticket"]), "open": False})
    conversation: ConversationExport = {
        "id": cid,
        "state": str(meta.get("state", "bot")),
        "escalation": json.loads(meta["escalation"]) if meta.get("escalation") else None,
        "slots": json.loads(meta.get("slots") or "{}"),
        "messages": [json.loads(str(item)) for item in history],
        "notes": [json.loads(str(item)) for item in notes],
    }
    return conversation, tickets


async def consent_export(client: redis.Redis, addresses: list[str]) -> list[ConsentExport]:
    """Whether and when each address (``channel:id``) opted out."""
    found: list[ConsentExport] = []
    for text in addresses:
        stamp = await client.get(optout_key(Address(*text.split(":", 1))))
        found.append({"address": text, "opted_out_at": None if stamp is None else float(stamp)})
    return found
