"""Outbound delivery: in order, retried, and dead-lettered rather than dropped."""

from __future__ import annotations

import pytest

from bot import outbox as outbox_module
from bot.models import Address, Message, Role
from bot.outbox import ATTEMPTS, Outbox
from bot.store import Store
from tests.fakes import RecordingConnector

TO = Address("test", "carol")


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_module, "BACKOFF_S", 0.0)


async def test_messages_leave_in_order(store: Store) -> None:
    connector = RecordingConnector()
    messages = tuple(Message(role=Role.BOT, text=str(i)) for i in range(5))
    await Outbox(store, {"test": connector}).deliver(TO, messages)
    assert [m.text for _, m in connector.sent] == ["0", "1", "2", "3", "4"]


async def test_a_transient_failure_is_retried(store: Store) -> None:
    connector = RecordingConnector(failures=ATTEMPTS - 1)
    await Outbox(store, {"test": connector}).deliver(TO, (Message(role=Role.BOT, text="x"),))
    assert [m.text for _, m in connector.sent] == ["x"]
    assert await store.dead_letters() == []


async def test_a_lasting_failure_is_dead_lettered(store: Store,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    connector = RecordingConnector(failures=ATTEMPTS)
    message = Message(role=Role.BOT, text="lost?")
    await Outbox(store, {"test": connector}).deliver(TO, (message,))
    assert connector.sent == []
    [entry] = await store.dead_letters()
    assert entry["message"] == message.to_dict()
    assert entry["to"] == ["test", "carol"]
    assert "undeliverable" in caplog.text


async def test_an_unknown_channel_is_dead_lettered(store: Store) -> None:
    await Outbox(store, {}).deliver(Address("fax", "1"), (Message(role=Role.BOT, text="x"),))
    assert len(await store.dead_letters()) == 1
