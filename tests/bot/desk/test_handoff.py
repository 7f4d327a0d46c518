"""The hand-off state machine on a real Redis: bot -> waiting -> agent -> bot."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from bot.contracts import AgentAction, AgentOutcome, TicketStatus
from bot.core import Core
from bot.delivery.consent import Consent
from bot.desk.actions import HandoffActions
from bot.desk.handoff import NOTICE_EVERY_S, Handoff
from bot.desk.hours import AgentHours
from bot.desk.queue import DeskQueue
from bot.desk.tickets import Tickets
from bot.models import Address, Channel, Message, Role, State
from bot.storage.store import Store
from bot.texts import Texts
from tests.core import CONFIG, make_core
from tests.support.fakes import FlakyDesk, RecordingConnector
from tests.support.queues import due_now

BOB = Address("test", "bob")
TEXTS = Texts()


async def waiting_conversation(store: Store, handoff: Handoff) -> str:
    cid = await store.resolve(BOB)
    question = Message(role=Role.CUSTOMER, text="my parcel is lost")
    await store.record(cid, (question,), {"last_address": BOB})
    await handoff.escalate(await store.load(cid), "lost parcel")
    return cid


@pytest.fixture
def connector() -> RecordingConnector:
    return RecordingConnector()


@pytest.fixture
def desk() -> FlakyDesk:
    return FlakyDesk()


@pytest.fixture
def core(redis_client: aioredis.Redis, desk: FlakyDesk, connector: RecordingConnector) -> Core:
    return make_core(redis_client, desk, connector)


@pytest.fixture
def queue(core: Core) -> DeskQueue:
    return core.desk_queue


@pytest.fixture
def handoff(core: Core) -> Handoff:
    return core.handoff


async def test_claim_reply_and_resolve(
    store: Store, tickets: Tickets, handoff: Handoff, desk: FlakyDesk, connector: RecordingConnector
) -> None:
    cid = await waiting_conversation(store, handoff)
    ticket = (await store.load(cid)).ticket
    assert ticket is not None
    assert await tickets.conversation_of_ticket(ticket) == cid
    assert [c for c, _ in await tickets.open_conversations()] == [cid]
    assert await handoff.claim(cid, "Dana") is AgentOutcome.DONE
    assert (await store.load(cid)).state is State.AGENT
    assert await handoff.claim(cid, "Dana") is AgentOutcome.ALREADY_YOURS
    assert await handoff.claim(cid, "Sam") is AgentOutcome.TAKEN
    assert await handoff.agent_reply(cid, "Dana", "Found it, it arrives tomorrow.") is (
        AgentOutcome.DONE
    )
    assert await handoff.back_to_bot(cid, "Dana", resolved=True) is AgentOutcome.DONE
    assert await handoff.agent_reply(cid, "Dana", "one more thing") is AgentOutcome.CLOSED
    assert await handoff.claim(cid, "Sam") is AgentOutcome.CLOSED
    conversation = await store.load(cid)
    assert conversation.state is State.BOT
    assert (conversation.ticket, conversation.previous_ticket) == (None, ticket)
    assert conversation.escalation is None
    assert await tickets.open_conversations() == []
    assert [(c.status, c.agent) for c in desk.changes[ticket]] == [
        (TicketStatus.CLAIMED, "Dana"),
        (TicketStatus.RESOLVED, "Dana"),
    ]
    assert [(m.role, m.text, m.author) for m in conversation.messages[2:]] == [
        (Role.SYSTEM, TEXTS.joined.format(agent="Dana"), None),
        (Role.AGENT, "Found it, it arrives tomorrow.", "Dana"),
        (Role.SYSTEM, TEXTS.resolved.format(agent="Dana"), None),
    ]
    assert [m.text for _, m in connector.sent][-3:] == [m.text for m in conversation.messages[2:]]
    assert {to for to, _ in connector.sent} == {BOB}


async def test_an_agent_replying_while_waiting_claims_first(store: Store, handoff: Handoff) -> None:
    cid = await waiting_conversation(store, handoff)
    await handoff.agent_reply(cid, "Sam", "Hi, Sam here.")
    conversation = await store.load(cid)
    assert conversation.state is State.AGENT
    assert conversation.agent == "Sam"
    assert [m.role for m in conversation.messages[-2:]] == [Role.SYSTEM, Role.AGENT]


async def test_back_to_bot_is_a_no_op_when_already_with_the_bot(
    store: Store, handoff: Handoff
) -> None:
    cid = await waiting_conversation(store, handoff)
    await handoff.back_to_bot(cid)
    await handoff.back_to_bot(cid)
    texts = [m.text for m in (await store.load(cid)).messages]
    assert texts.count(TEXTS.back_to_bot) == 1


async def test_a_desk_outage_queues_the_work_and_it_catches_up_in_order(
    redis_client: aioredis.Redis, store: Store, handoff: Handoff, queue: DeskQueue, desk: FlakyDesk
) -> None:
    desk.down = True
    cid = await waiting_conversation(store, handoff)
    conversation = await store.load(cid)
    assert conversation.state is State.WAITING
    assert conversation.ticket is None
    for text in ("anyone?", "hello??"):
        message = Message(role=Role.CUSTOMER, text=text)
        await store.record(cid, (message,))
        await handoff.to_agents(await store.load(cid), message, None)
    assert desk.tickets == {}
    desk.down = False
    assert await queue.work(cid) is False  # backing off after the failures
    await due_now(redis_client, cid, "desk")  # the sweeper's next round, without waiting for it
    assert await queue.work(cid) is True
    ticket = (await store.load(cid)).ticket
    assert ticket is not None
    texts = [m.text for m in desk.tickets[ticket]]
    # the ticket opened with the transcript so far; the queued posts are in it, once
    queued = TEXTS.queued.format(place=1, wait="")  # what the customer was told after "anyone?"
    assert texts == ["my parcel is lost", texts[1], "anyone?", queued, "hello??"]
    desk.down = True
    await handoff.to_agents(await store.load(cid), Message(role=Role.CUSTOMER, text="late"), None)
    desk.down = False
    await due_now(redis_client, cid, "desk")
    assert await queue.work(cid) is True
    assert desk.tickets[ticket][-1].text == "late"


async def test_an_agent_is_told_when_the_customer_opted_out(
    redis_client: aioredis.Redis,
    store: Store,
    desk: FlakyDesk,
    handoff: Handoff,
    connector: RecordingConnector,
) -> None:
    cid = await waiting_conversation(store, handoff)
    await Consent(redis_client).opt_out(BOB)
    await handoff.agent_reply(cid, "Dana", "Are you still there?")
    assert "Are you still there?" not in [m.text for _, m in connector.sent]
    ticket = (await store.load(cid)).ticket
    assert ticket is not None
    notice = desk.tickets[ticket][-1]
    assert notice.role is Role.SYSTEM
    assert notice.text.startswith(Texts().undelivered.split("(", 1)[0])
    assert "opted out" in notice.text


async def customer_writes(store: Store, handoff: Handoff, cid: str, text: str) -> None:
    message = Message(role=Role.CUSTOMER, text=text)
    await store.record(cid, (message,))
    await handoff.to_agents(await store.load(cid), message, None)


async def test_a_waiting_customer_hears_their_place_at_once_then_at_most_every_few_minutes(
    store: Store, tickets: Tickets, handoff: Handoff, connector: RecordingConnector
) -> None:
    cid = await waiting_conversation(store, handoff)
    await tickets.mark_claimed("someone-else", 240.0)  # a recent claim took 4 minutes
    queued = TEXTS.queued.format(place=1, wait=TEXTS.typical_wait.format(minutes=4, s="s"))
    await customer_writes(store, handoff, cid, "hello?? is anyone actually there")
    assert [m.text for _, m in connector.sent] == [TEXTS.waiting, queued]  # no 3 minutes' silence
    await customer_writes(store, handoff, cid, "its been AGES")
    assert len(connector.sent) == 2  # told a moment ago
    await store.record(cid, meta={"notified_at": time.time() - NOTICE_EVERY_S - 1})
    await customer_writes(store, handoff, cid, "helloooo")
    assert [m.text for _, m in connector.sent][2:] == [queued]
    await customer_writes(store, handoff, cid, "fine ill wait")
    assert len(connector.sent) == 3


async def test_the_queue_place_counts_the_conversations_waiting_before(
    store: Store, handoff: Handoff, connector: RecordingConnector
) -> None:
    first = await waiting_conversation(store, handoff)
    carol = Address("test", "carol")
    second = await store.resolve(carol)
    await store.record(
        second, (Message(role=Role.CUSTOMER, text="refund??"),), {"last_address": carol}
    )
    await handoff.escalate(await store.load(second), "refund")
    await customer_writes(store, handoff, second, "where is my money")
    assert connector.sent[-1][1].text == TEXTS.queued.format(place=2, wait="")
    await customer_writes(store, handoff, first, "hello")
    assert connector.sent[-1][1].text == TEXTS.queued.format(place=1, wait="")


async def test_once_an_agent_has_claimed_the_bot_stays_quiet(
    store: Store, handoff: Handoff, connector: RecordingConnector
) -> None:
    cid = await waiting_conversation(store, handoff)
    assert await handoff.claim(cid, "Dana") is AgentOutcome.DONE
    sent = len(connector.sent)
    await customer_writes(store, handoff, cid, "hi dana, its order 55012")
    await store.record(cid, meta={"notified_at": time.time() - NOTICE_EVERY_S - 1})
    await customer_writes(store, handoff, cid, "hello?")
    assert len(connector.sent) == sent  # the agent answers, not the bot


async def test_outside_agent_hours_the_customer_is_told_when_and_where(
    redis_client: aioredis.Redis, store: Store, desk: FlakyDesk, connector: RecordingConnector
) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%a")
    hours = AgentHours.parse(f"{tomorrow} 09:00-10:00 UTC")
    config = replace(CONFIG, agent_hours=hours)
    away = make_core(redis_client, desk, connector, config=config).handoff
    cid = await waiting_conversation(store, away)
    told = connector.sent[-1][1].text
    assert told == TEXTS.away.format(where="here", when=hours.describe_opening(datetime.now(UTC)))
    conversation = await store.load(cid)
    assert conversation.state is State.WAITING
    assert conversation.ticket is not None  # the ticket stays open for the morning


async def test_a_reply_its_channel_cannot_carry_reaches_nobody_and_the_agent_is_told(
    store: Store, tickets: Tickets, handoff: Handoff
) -> None:
    web = Address(Channel.WEBCHAT, "session-1")
    cid = await store.resolve(web)
    await store.record(cid, (Message(role=Role.CUSTOMER, text="help"),), {"last_address": web})
    await handoff.escalate(await store.load(cid), "asked for a person")
    actions = HandoffActions(store, tickets, handoff)
    refused = await actions.reply(cid, "Dana", "x" * 2001)
    assert (refused.outcome, refused.message) == (
        AgentOutcome.TOO_LONG,
        "Not sent: web chat messages hold at most 2,000 characters (yours has 2,001). "
        "Please split it.",
    )
    assert (await store.load(cid)).state is State.WAITING  # a refused reply claims nothing
    assert (await actions.reply(cid, "Dana", "y" * 2000)).outcome is AgentOutcome.DONE
    note = await actions.reply(cid, "Dana", "note: refund pending")
    assert note.action is AgentAction.NOTE
    assert [n.text for n in await tickets.notes(cid)] == ["note: refund pending"]
    taken = await actions.claim(cid, "Sam")
    assert taken.message == "Dana has already claimed this conversation."
    agent_texts = [m.text for m in (await store.load(cid)).messages if m.role is Role.AGENT]
    assert agent_texts == ["y" * 2000]


async def test_the_journal_records_each_agent_action(core: Core, handoff: Handoff) -> None:
    cid = await waiting_conversation(core.store, handoff)
    await handoff.agent_reply(cid, "Dana", "Hi, Dana here.")  # a first reply claims
    await handoff.note(cid, "Dana", "refund approved")
    await handoff.back_to_bot(cid, "Dana", resolved=True)
    await handoff.escalate(await core.store.load(cid), "lost parcel")
    await handoff.claim(cid, "Sam")
    await handoff.back_to_bot(cid, "Sam")
    events = await core.journal.of_customer(cid)
    assert [(e["type"], e.get("agent")) for e in events] == [
        ("escalated", None),
        ("claimed", "Dana"),
        ("agent_reply", "Dana"),
        ("note", "Dana"),
        ("resolved", "Dana"),
        ("escalated", None),
        ("claimed", "Sam"),
        ("back_to_bot", "Sam"),
    ]
    assert events[0].get("reason") == "problem"  # an intent's own reason to need a person
    assert [e["channel"] for e in events if e["type"] != "note"] == [BOB.channel] * 7
    assert "text" not in events[3]  # a note's words stay with the notes
