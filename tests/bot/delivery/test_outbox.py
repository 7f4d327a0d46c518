"""Outbound delivery: queued in Redis with the message, in order, retried across restarts,
recorded, refused for good, dead-lettered, replayed; nothing sent after an opt-out."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from bot.contracts import DeliveryError, Sender, Sent, Unsure
from bot.delivery.consent import Consent
from bot.delivery.outbox import ATTEMPTS, Outbox, Replay, Result
from bot.delivery.records import Deliveries, DeliveryRecord
from bot.metrics import Metrics
from bot.models import Address, Message, Role
from bot.storage.keys import OUTBOX_DUE_KEY, conversation_key
from bot.storage.store import Store
from tests.support.fakes import RecordingConnector, permanent
from tests.support.polling import wait_until

TO = Address("test", "carol")
OutboxFactory = Callable[..., Outbox]


@pytest.fixture
async def make_outbox(
    redis_client: aioredis.Redis, store: Store, deliveries: Deliveries
) -> AsyncIterator[OutboxFactory]:
    """Outboxes on the test Redis (one per simulated process); their sweepers are stopped."""
    made: list[Outbox] = []

    def build(connector: Sender | None, **options: object) -> Outbox:
        senders = {"test": connector} if connector is not None else {}
        options.setdefault("backoff_s", 0.0)
        options.setdefault("metrics", Metrics())
        outbox = Outbox(redis_client, store, deliveries, senders, **options)  # type: ignore[arg-type]
        made.append(outbox)
        return outbox

    yield build
    for outbox in made:
        await outbox.stop()


def bot_message(text: str = "x") -> Message:
    return Message(role=Role.BOT, text=text)


async def test_messages_are_stored_and_sent_in_order_and_recorded(
    make_outbox: OutboxFactory, store: Store, deliveries: Deliveries
) -> None:
    connector = RecordingConnector()
    outbox = make_outbox(connector)
    messages = tuple(bot_message(str(i)) for i in range(5))
    await outbox.say("c", TO, messages)
    await outbox.settle()
    assert [m.text for _, m in connector.sent] == ["0", "1", "2", "3", "4"]
    assert [m.text for m in (await store.load("c")).messages] == ["0", "1", "2", "3", "4"]
    record = await deliveries.get("c", messages[0].id)
    assert record is not None
    assert (record["status"], record["vendor_id"], record["attempts"]) == ("sent", "V1", 1)


async def test_a_channel_without_a_sender_queues_nothing(
    make_outbox: OutboxFactory, redis_client: aioredis.Redis
) -> None:
    outbox = make_outbox(RecordingConnector())
    await outbox.say("c", Address("webchat", "t"), (bot_message(),))
    assert await redis_client.llen("conv:{c}:outbox") == 0
    assert await redis_client.zcard(OUTBOX_DUE_KEY) == 0


async def test_a_transient_failure_is_retried_in_order(
    make_outbox: OutboxFactory, deliveries: Deliveries
) -> None:
    connector = RecordingConnector(failures=ATTEMPTS - 1)
    outbox = make_outbox(connector, sweep_s=0.01)
    await outbox.start()
    first, second = bot_message("first"), bot_message("second")
    await outbox.say("c", TO, (first, second))
    await wait_until(lambda: len(connector.sent) == 2)
    assert [m.text for _, m in connector.sent] == ["first", "second"]
    assert connector.attempts == ATTEMPTS + 1
    record = await deliveries.get("c", first.id)
    assert record is not None
    assert record["attempts"] == ATTEMPTS
    assert await deliveries.dead_letters() == []


async def test_queued_messages_survive_the_process_and_are_sent_by_another(
    make_outbox: OutboxFactory, store: Store
) -> None:
    down = RecordingConnector(failures=1)
    first = make_outbox(down)
    await first.say("c", TO, (bot_message("one"), bot_message("two")))
    await first.settle()
    # the first process failed once and "died"; another process's sweeper finds the work
    other = RecordingConnector()
    survivor = make_outbox(other, sweep_s=0.01)
    await survivor.start()
    await wait_until(lambda: len(other.sent) == 2)
    assert [m.text for _, m in other.sent] == ["one", "two"]
    assert down.sent == []


async def test_a_permanent_refusal_is_not_retried_and_is_recorded(
    make_outbox: OutboxFactory, deliveries: Deliveries
) -> None:
    connector = RecordingConnector(failures=1, error=permanent(21610))
    outbox = make_outbox(connector)
    message = bot_message()
    await outbox.say("c", TO, (message,))
    await outbox.settle()
    assert connector.attempts == 1
    record = await deliveries.get("c", message.id)
    assert record is not None
    assert (record["status"], record["error_code"]) == ("failed", 21610)
    assert await deliveries.dead_letters() == []


async def test_retry_after_is_honoured(
    make_outbox: OutboxFactory, redis_client: aioredis.Redis
) -> None:
    connector = RecordingConnector(failures=1, error=DeliveryError("429", retry_after=2.5))
    outbox = make_outbox(connector)
    before = time.time()
    await outbox.say("c", TO, (bot_message(),))
    await outbox.settle()
    due = await redis_client.zscore(OUTBOX_DUE_KEY, "c")
    assert due is not None
    assert before + 2.5 <= due <= time.time() + 2.5
    assert connector.attempts == 1


async def test_a_lasting_failure_is_dead_lettered_then_replayed(
    make_outbox: OutboxFactory, deliveries: Deliveries, caplog: pytest.LogCaptureFixture
) -> None:
    connector = RecordingConnector(failures=ATTEMPTS)
    outbox = make_outbox(connector, sweep_s=0.01)
    await outbox.start()
    message = bot_message("lost?")
    await outbox.say("c", TO, (message,))
    await wait_until(lambda: connector.attempts == ATTEMPTS)
    await outbox.stop()
    assert connector.sent == []
    [entry] = await deliveries.dead_letters()
    assert (entry["id"], entry["conversation"], entry["to"]) == (message.id, "c", ["test", "carol"])
    assert entry["message"] == message.to_dict()
    assert "undeliverable" in caplog.text
    assert await outbox.replay(message.id) is Replay.SENT
    assert connector.sent == [(TO, message)]
    assert await deliveries.dead_letters() == []
    assert await outbox.replay(message.id) is Replay.NOT_FOUND


async def test_a_queued_message_for_a_channel_switched_off_is_dead_lettered(
    make_outbox: OutboxFactory, deliveries: Deliveries
) -> None:
    await make_outbox(RecordingConnector(failures=1)).say("c", TO, (bot_message(),))
    assert await make_outbox(None).work("c") != {}
    [entry] = await deliveries.dead_letters()
    assert "no connector" in entry["error"]


async def test_nothing_is_sent_to_an_address_that_opted_out(
    make_outbox: OutboxFactory, deliveries: Deliveries, redis_client: aioredis.Redis
) -> None:
    connector = RecordingConnector()
    outbox = make_outbox(connector)
    consent = Consent(redis_client)
    await consent.opt_out(TO)
    message = bot_message()
    await outbox.say("c", TO, (message,))
    await outbox.settle()
    assert connector.attempts == 0
    record = await deliveries.get("c", message.id)
    assert record is not None
    assert record["status"] == "suppressed"
    await consent.opt_in(TO)
    await outbox.say("c", TO, (bot_message("again"),))
    await outbox.settle()
    assert [m.text for _, m in connector.sent] == ["again"]


async def test_opt_outs_apply_only_to_the_channels_that_have_them(
    make_outbox: OutboxFactory, redis_client: aioredis.Redis
) -> None:
    connector = RecordingConnector()
    # a marker on a channel without opt-outs is never looked at
    await Consent(redis_client).opt_out(TO)
    outbox = make_outbox(connector, opt_out_channels={"sms"})
    await outbox.say("c", TO, (bot_message(),))
    await outbox.settle()
    assert len(connector.sent) == 1


class Hanging(RecordingConnector):
    """A channel whose sends never finish (a process about to die mid-call)."""

    async def send(
        self, to: Address, message: Message, unsure: Unsure | None = None
    ) -> Sent | None:
        self.attempts += 1
        await asyncio.Event().wait()
        return None


async def test_a_try_cut_short_by_a_crash_is_retried_as_unsure(
    make_outbox: OutboxFactory,
) -> None:
    first = make_outbox(RecordingConnector())
    await first.say("c", TO, (bot_message("one"),))
    await first.settle()
    dying, began = Hanging(), time.time()
    doomed = make_outbox(dying)
    await doomed.say("c", TO, (bot_message("two"),))
    await wait_until(lambda: dying.attempts == 1)
    doomed.kick("c").cancel()  # the process dies in the vendor call
    survivor = RecordingConnector()
    await make_outbox(survivor).kick("c")
    assert [m.text for _, m in survivor.sent] == ["two"]
    [unsure] = survivor.unsure
    assert unsure is not None
    assert began <= unsure.since <= time.time()
    assert unsure.known == {"V1"}


async def test_a_send_recorded_before_a_crash_is_not_sent_again(
    make_outbox: OutboxFactory, store: Store, deliveries: Deliveries, redis_client: aioredis.Redis
) -> None:
    # the state a process leaves when it dies after recording a send, before removing the entry
    connector = RecordingConnector()
    outbox = make_outbox(connector)
    message = bot_message("one")
    [entry] = outbox.entries(TO, (message,))
    await store.record("c", (message,), outbound=[json.dumps({**json.loads(entry), "since": 1.0})])
    record: DeliveryRecord = {
        "channel": TO.channel,
        "to": TO.id,
        "status": "sent",
        "attempts": 1,
        "updated": 1.0,
        "vendor_id": "V9",
    }
    await deliveries.save("c", message.id, record)
    assert await outbox.kick("c") == {message.id: Result.SENT}
    assert connector.attempts == 0
    assert await redis_client.llen(conversation_key("c", "outbox")) == 0


@pytest.mark.parametrize("maybe_sent", [True, False])
async def test_after_a_failure_the_next_try_is_unsure_only_if_it_may_have_sent(
    make_outbox: OutboxFactory, maybe_sent: bool
) -> None:
    flaky = RecordingConnector(failures=1, error=DeliveryError("cut", maybe_sent=maybe_sent))
    outbox = make_outbox(flaky)
    await outbox.say("c", TO, (bot_message("one"), bot_message("two")))
    await outbox.settle()
    await outbox.kick("c")
    assert [m.text for _, m in flaky.sent] == ["one", "two"]
    assert [u is not None for u in flaky.unsure] == [False, maybe_sent, False]
