"""The desk's data in Redis: agents' notes, on one server and on a cluster."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.desk.tickets import Tickets
from bot.models import Message, Role
from tests.conftest import ON_SERVER_AND_CLUSTER

pytestmark = ON_SERVER_AND_CLUSTER


async def test_an_agents_note_is_kept_in_order(redis_client: aioredis.Redis) -> None:
    tickets = Tickets(redis_client)
    await tickets.add_note("c-notes", Message(Role.AGENT, "called the courier", author="ana"))
    await tickets.add_note("c-notes", Message(Role.AGENT, "refund approved", author="ana"))
    assert [n.text for n in await tickets.notes("c-notes")] == [
        "called the courier",
        "refund approved",
    ]
