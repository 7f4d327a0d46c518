"""Outbound delivery: in order, retried, recorded, refused for good, dead-lettered, replayed."""

from __future__ import annotations

import pytest

from bot.contracts import DeliveryError
from bot.deliveries import Deliveries
from bot.models import Address, Message, Role
from bot.outbox import ATTEMPTS, Outbox, Result
from tests.fakes import RecordingConnector, permanent

TO = Address("test", "carol")


def outbox(deliveries: Deliveries, connector: RecordingConnector | None) -> Outbox:
    return Outbox(deliveries, {"test": connector} if connector else {}, backoff_s=0.0)


def bot_message(text: str = "x") -> Message:
    return Message(role=Role.BOT, text=text)


async def test_messages_leave_in_order_and_are_recorded(deliveries: Deliveries) -> None:
    connector = RecordingConnector()
    messages = tuple(bot_message(str(i)) for i in range(5))
    results = await outbox(deliveries, connector).deliver("c", TO, messages)
    assert results == [Result.SENT] * 5
    assert [m.text for _, m in connector.sent] == ["0", "1", "2", "3", "4"]
    record = await deliveries.get("c", messages[0].id)
    assert record is not None
    assert (record["status"], record["vendor_id"], record["attempts"]) == ("sent", "V1", 1)


async def test_a_transient_failure_is_retried(deliveries: Deliveries) -> None:
    connector = RecordingConnector(failures=ATTEMPTS - 1)
    message = bot_message()
    assert await outbox(deliveries, connector).deliver("c", TO, (message,)) == [Result.SENT]
    assert [m.text for _, m in connector.sent] == ["x"]
    assert await deliveries.dead_letters() == []
    record = await deliveries.get("c", message.id)
    assert record is not None
    assert record["attempts"] == ATTEMPTS


async def test_a_permanent_refusal_is_not_retried_and_is_recorded(deliveries: Deliveries) -> None:
    connector = RecordingConnector(failures=1, error=permanent(21610))
    message = bot_message()
    assert await outbox(deliveries, connector).deliver("c", TO, (message,)) == [Result.FAILED]
    assert connector.attempts == 1
    record = await deliveries.get("c", message.id)
    assert record is not None
    assert (record["status"], record["error_code"]) == ("failed", 21610)
    assert await deliveries.dead_letters() == []


async def test_retry_after_is_honoured(
    deliveries: Deliveries, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr("bot.outbox.asyncio.sleep", sleep)
    connector = RecordingConnector(failures=1, error=DeliveryError("429", retry_after=2.5))
    await outbox(deliveries, connector).deliver("c", TO, (bot_message(),))
    assert [delay for delay in slept if delay] == [2.5]


async def test_a_lasting_failure_is_dead_lettered_then_replayed(
    deliveries: Deliveries, caplog: pytest.LogCaptureFixture
) -> None:
    connector = RecordingConnector(failures=ATTEMPTS)
    message = bot_message("lost?")
    sender = outbox(deliveries, connector)
    assert await sender.deliver("c", TO, (message,)) == [Result.DEAD]
    assert connector.sent == []
    [entry] = await deliveries.dead_letters()
    assert (entry["id"], entry["conversation"], entry["to"]) == (message.id, "c", ["test", "carol"])
    assert entry["message"] == message.to_dict()
    assert "undeliverable" in caplog.text
    assert await sender.replay(message.id) is Result.SENT
    assert connector.sent == [(TO, message)]
    assert await deliveries.dead_letters() == []
    assert await sender.replay(message.id) is None


async def test_an_unknown_channel_is_dead_lettered(deliveries: Deliveries) -> None:
    result = await outbox(deliveries, None).deliver("c", Address("fax", "1"), (bot_message(),))
    assert result == [Result.DEAD]
    assert len(await deliveries.dead_letters()) == 1


async def test_nothing_is_sent_to_an_address_that_opted_out(deliveries: Deliveries) -> None:
    connector = RecordingConnector()
    await deliveries.opt_out(TO)
    message = bot_message()
    assert await outbox(deliveries, connector).deliver("c", TO, (message,)) == [Result.SUPPRESSED]
    assert connector.attempts == 0
    record = await deliveries.get("c", message.id)
    assert record is not None
    assert record["status"] == "suppressed"
    await deliveries.opt_in(TO)
    assert await outbox(deliveries, connector).deliver("c", TO, (message,)) == [Result.SENT]


async def test_opt_outs_apply_only_to_the_channels_that_have_them(
    deliveries: Deliveries,
) -> None:
    connector = RecordingConnector()
    await deliveries.opt_out(TO)  # a marker on a channel without opt-outs is never looked at
    outbox = Outbox(deliveries, {"test": connector}, opt_out_channels={"sms"})
    assert await outbox.deliver("c", TO, (bot_message(),)) == [Result.SENT]
