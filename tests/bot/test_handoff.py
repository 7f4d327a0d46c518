"""The hand-off state machine on a real Redis: bot -> waiting -> agent -> bot."""

from __future__ import annotations

import logging

import pytest

from bot.deliveries import Deliveries
from bot.handoff import BACK_TO_BOT_TEXT, JOINED_TEXT, RESOLVED_TEXT, UNDELIVERED_TEXT, Handoff
from bot.log_desk import LogDesk
from bot.models import Address, Message, Role, State
from bot.outbox import Outbox
from bot.store import Store
from tests.fakes import BrokenDesk, RecordingConnector

BOB = Address("test", "bob")


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
def desk() -> LogDesk:
    return LogDesk()


@pytest.fixture
def handoff(store: Store, deliveries: Deliveries, desk: LogDesk,
            connector: RecordingConnector) -> Handoff:
    return Handoff(store, desk, Outbox(deliveries, {"test": connector}))


async def test_claim_reply_and_resolve(store: Store, handoff: Handoff,
                                       connector: RecordingConnector) -> None:
    cid = await waiting_conversation(store, handoff)
    await handoff.claim(cid, "Dana")
    assert (await store.load(cid)).state is State.AGENT
    await handoff.agent_reply(cid, "Dana", "Found it, it arrives tomorrow.")
    await handoff.back_to_bot(cid, "Dana", resolved=True)
    conversation = await store.load(cid)
    assert conversation.state is State.BOT
    assert conversation.ticket is None
    assert [(m.role, m.text, m.author) for m in conversation.messages[2:]] == [
        (Role.SYSTEM, JOINED_TEXT.format(agent="Dana"), None),
        (Role.AGENT, "Found it, it arrives tomorrow.", "Dana"),
        (Role.SYSTEM, RESOLVED_TEXT.format(agent="Dana"), None)]
    assert [m.text for _, m in connector.sent][-3:] == [m.text for m in conversation.messages[2:]]
    assert {to for to, _ in connector.sent} == {BOB}


async def test_an_agent_replying_while_waiting_claims_first(store: Store,
                                                            handoff: Handoff) -> None:
    cid = await waiting_conversation(store, handoff)
    await handoff.agent_reply(cid, "Sam", "Hi, Sam here.")
    conversation = await store.load(cid)
    assert conversation.state is State.AGENT
    assert conversation.agent == "Sam"
    assert [m.role for m in conversation.messages[-2:]] == [Role.SYSTEM, Role.AGENT]


async def test_back_to_bot_is_a_no_op_when_already_with_the_bot(store: Store,
                                                                handoff: Handoff) -> None:
    cid = await waiting_conversation(store, handoff)
    await handoff.back_to_bot(cid)
    await handoff.back_to_bot(cid)
    texts = [m.text for m in (await store.load(cid)).messages]
    assert texts.count(BACK_TO_BOT_TEXT) == 1


async def test_a_desk_failure_is_logged_and_retried_on_the_next_message(
        store: Store, deliveries: Deliveries, connector: RecordingConnector,
        caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox(deliveries, {"test": connector})
    broken = Handoff(store, BrokenDesk(), outbox)
    with caplog.at_level(logging.ERROR):
        cid = await waiting_conversation(store, broken)
    assert "could not open a ticket" in caplog.text
    conversation = await store.load(cid)
    assert conversation.state is State.WAITING
    assert conversation.ticket is None
    desk = LogDesk()
    healed = Handoff(store, desk, outbox)
    follow_up = Message(role=Role.CUSTOMER, text="anyone?")
    await store.record(cid, (follow_up,))
    await healed.to_agents(await store.load(cid), follow_up, None)
    ticket = (await store.load(cid)).ticket
    assert ticket is not None
    assert [m.text for m in desk.tickets[ticket]][-1] == "anyone?"


async def test_an_agent_is_told_when_the_customer_opted_out(
        store: Store, deliveries: Deliveries, desk: LogDesk, handoff: Handoff,
        connector: RecordingConnector) -> None:
    cid = await waiting_conversation(store, handoff)
    await deliveries.opt_out(BOB)
    await handoff.agent_reply(cid, "Dana", "Are you still there?")
    assert "Are you still there?" not in [m.text for _, m in connector.sent]
    ticket = (await store.load(cid)).ticket
    assert ticket is not None
    notice = desk.tickets[ticket][-1]
    assert notice.role is Role.SYSTEM
    assert notice.text.startswith(UNDELIVERED_TEXT.split("(", 1)[0])
    assert "opted out" in notice.text
