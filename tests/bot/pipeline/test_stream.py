"""The work stream on a real Redis (one server, and a cluster): messages accepted by any process
are answered once and in order by the workers of any process; work of a crashed or hung worker
is taken over; shutdown hands unfinished work back at once; a message whose processing keeps
failing goes to a person without holding up the conversation or anyone else."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

import bot.pipeline.failures as failures_module
import bot.pipeline.stream as pipeline_module
import bot.storage.lock as conversation_lock
from bot.contracts import Prediction
from bot.models import Address, InboundMessage, Outcome, Role, State
from bot.pipeline.dispatcher import PROCESSING_FAILED_REASON
from bot.pipeline.stream import WorkStream
from bot.storage.keys import (
    LEGACY_WORK_STREAM,
    WORK_FIELD,
    WORK_GROUP,
    conversation_key,
    work_stream,
)
from bot.texts import Texts
from tests.conftest import ON_SERVER_AND_CLUSTER, ClientFactory
from tests.core import SCRIPT, Bot
from tests.support.fakes import ScriptedClassifier
from tests.support.polling import wait_until

pytestmark = ON_SERVER_AND_CLUSTER

TEXTS = Texts()


class StuckClassifier(ScriptedClassifier):
    """Classifies like :class:`ScriptedClassifier` once ``go`` is set; until then it hangs."""

    def __init__(self) -> None:
        super().__init__(SCRIPT)
        self.go = asyncio.Event()
        self.waiting = 0

    async def classify(self, text: str) -> Prediction:
        self.waiting += 1
        await self.go.wait()
        return await super().classify(text)


class PoisonClassifier(ScriptedClassifier):
    """Classifies like :class:`ScriptedClassifier`, but raises for the text ``poison`` (as
    the tokenizer did for a lone surrogate)."""

    def __init__(self) -> None:
        super().__init__(SCRIPT)

    async def classify(self, text: str) -> Prediction:
        if text == "poison":
            self.seen.append(text)
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]")
        return await super().classify(text)


Process = tuple[Bot, WorkStream]
ProcessFactory = Callable[..., Process]


@pytest.fixture
async def start_process(
    new_client: ClientFactory, redis_client: aioredis.Redis
) -> AsyncIterator[ProcessFactory]:
    """Starts simulated processes: each a core and a pipeline on a client of its own (on the
    test's Redis, flushed after the test)."""
    pipelines: list[WorkStream] = []

    def start(classifier: ScriptedClassifier | None = None, **options: float) -> Process:
        client = new_client()
        core = Bot(client, classifier)
        pipeline = WorkStream(core.dispatcher, client, **options)  # type: ignore[arg-type]
        pipelines.append(pipeline)
        return core, pipeline

    yield start
    for pipeline in pipelines:
        await asyncio.wait_for(pipeline.stop(timeout_s=1.0), 10)


async def acknowledged(pipeline: WorkStream) -> bool:
    return await pipeline.queued() == 0


def customer(i: int) -> Address:
    return Address("test", f"customer-{i}")


async def answers(core: Bot, address: Address) -> list[tuple[Role, str]]:
    cid = await core.store.resolve(address)
    return [(m.role, m.text) for m in (await core.store.load(cid)).messages]


async def test_messages_accepted_anywhere_are_answered_once_and_in_order(
    start_process: ProcessFactory,
) -> None:
    (one, first), (two, second) = start_process(), start_process()
    await first.start()
    await second.start()
    texts = ["hello", "where is my order", "hello", "where is my order", "hello"]
    for text in texts:  # each customer's messages arrive through both processes in turn
        for i in range(4):
            via = first if (i + len(text)) % 2 else second
            assert await via.submit(InboundMessage(customer(i), text)) is Outcome.ACCEPTED

    async def answered_all() -> bool:
        lengths = [len(await answers(one, customer(i))) for i in range(4)]
        return lengths == [2 * len(texts)] * 4

    await wait_until(answered_all, what="every message answered")
    expected = {"hello": "Hi!", "where is my order": "It ships today."}
    for i in range(4):
        history = await answers(two, customer(i))
        asked = [n for n, (role, _) in enumerate(history) if role is Role.CUSTOMER]
        told = [n for n, (role, _) in enumerate(history) if role is Role.BOT]
        assert [history[n][1] for n in asked] == texts
        assert [history[n][1] for n in told] == [expected[text] for text in texts]
        assert all(t > a for a, t in zip(asked, told, strict=True))  # each after its question
    await wait_until(lambda: acknowledged(first), what="every entry acknowledged")


async def test_a_repeated_message_is_answered_once(start_process: ProcessFactory) -> None:
    core, pipeline = start_process()
    await pipeline.start()
    message = InboundMessage(customer(1), "hello", dedup_id="SM1")
    outcomes = await asyncio.gather(*(pipeline.submit(message) for _ in range(5)))
    assert outcomes.count(Outcome.ACCEPTED) == 1
    await wait_until(lambda: core.replies() == ["Hi!"])
    await wait_until(lambda: pipeline.busy == 0)
    assert await pipeline.submit(message) is Outcome.DUPLICATE

    async def idle() -> bool:  # a duplicate queued by mistake would be in the stream by now
        return pipeline.busy == 0 and await pipeline.queued() == 0

    await wait_until(idle, what="no work queued or running")
    assert core.replies() == ["Hi!"]


async def test_work_of_a_hung_worker_is_taken_over_and_never_answered_twice(
    start_process: ProcessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conversation_lock, "LOCK_TTL_S", 1.0)
    monkeypatch.setattr(pipeline_module, "RECLAIM_EVERY_S", 0.1)
    monkeypatch.setattr(pipeline_module, "HEARTBEAT_S", 3600.0)  # a hung process beats no more
    stuck = StuckClassifier()
    hung_core, hung = start_process(stuck, visibility_s=0.5)
    await hung.start()
    await hung.submit(InboundMessage(customer(1), "hello"))
    await wait_until(lambda: stuck.waiting == 1)
    live_core, live = start_process(visibility_s=0.5)
    started = time.monotonic()
    await live.start()
    await wait_until(lambda: live_core.replies() == ["Hi!"], what="the take-over")
    assert time.monotonic() - started < 5
    stuck.go.set()  # the hung worker wakes up: its lock is gone, it writes and sends nothing
    await wait_until(lambda: hung.busy == 0)
    assert hung_core.replies() == []
    assert await answers(live_core, customer(1)) == [(Role.CUSTOMER, "hello"), (Role.BOT, "Hi!")]
    await wait_until(lambda: acknowledged(live), what="the entry acknowledged")


async def test_shutdown_hands_unfinished_work_back_at_once(
    start_process: ProcessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "RECLAIM_EVERY_S", 0.1)
    stuck = StuckClassifier()
    _, leaving = start_process(stuck)
    await leaving.start()
    await leaving.submit(InboundMessage(customer(1), "hello"))
    await wait_until(lambda: stuck.waiting == 1)
    staying_core, staying = start_process()  # the default visibility: 10 s
    await staying.start()
    started = time.monotonic()
    await leaving.stop(timeout_s=0.1)
    await wait_until(lambda: staying_core.replies() == ["Hi!"], what="the hand-back")
    assert time.monotonic() - started < pipeline_module.VISIBILITY_S / 2


def failures(core: Bot, outcome: str) -> float | None:
    registry = core.dispatcher.metrics.registry
    return registry.get_sample_value("omnibot_processing_failures_total", {"outcome": outcome})


async def test_a_message_that_keeps_failing_goes_to_a_person_and_the_rest_carries_on(
    start_process: ProcessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnibot.desk")
    poison = PoisonClassifier()
    core, pipeline = start_process(poison, failure_pause_s=0.05)
    await pipeline.start()
    await pipeline.submit(InboundMessage(customer(1), "poison"))
    await pipeline.submit(InboundMessage(customer(2), "hello"))  # another customer, unaffected
    cid = await core.store.resolve(customer(1))

    async def escalated() -> bool:
        return (await core.store.load(cid)).state is State.WAITING

    await wait_until(escalated, what="the escalation")
    conversation = await core.store.load(cid)
    assert poison.seen.count("poison") == failures_module.MAX_FAILURES
    assert conversation.escalation is not None
    assert conversation.escalation.reason == PROCESSING_FAILED_REASON
    assert conversation.answered == 1  # the cursor moved past it
    assert conversation.messages[-1].text.startswith(TEXTS.processing_failed)
    assert (failures(core, "retried"), failures(core, "dead_lettered")) == (2, 1)
    assert await answers(core, customer(2)) == [(Role.CUSTOMER, "hello"), (Role.BOT, "Hi!")]
    await wait_until(lambda: PROCESSING_FAILED_REASON in caplog.text, what="the ticket")

    # the conversation goes on: the agents get the next message, then the bot answers again
    await pipeline.submit(InboundMessage(customer(1), "where is my order"))
    await wait_until(
        lambda: any(m.text == "where is my order" for t in core.desk.tickets.values() for m in t)
    )
    await core.handoff.back_to_bot(cid, "Dana")
    await pipeline.submit(InboundMessage(customer(1), "hello"))
    await wait_until(lambda: core.replies()[-1:] == ["Hi!"], what="the next answer")
    assert poison.seen.count("poison") == failures_module.MAX_FAILURES  # never tried again
    await wait_until(lambda: acknowledged(pipeline), what="every entry acknowledged")


async def test_failures_are_counted_across_processes(
    start_process: ProcessFactory, redis_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "RECLAIM_EVERY_S", 0.1)
    first_poison, second_poison = PoisonClassifier(), PoisonClassifier()
    _, leaving = start_process(first_poison, failure_pause_s=60.0)
    await leaving.start()
    await leaving.submit(InboundMessage(customer(1), "poison"))
    await wait_until(lambda: first_poison.seen == ["poison"])
    await leaving.stop(timeout_s=0.1)  # stops while waiting to try again
    core, staying = start_process(second_poison, failure_pause_s=0.05)
    await staying.start()
    cid = await core.store.resolve(customer(1))

    async def escalated() -> bool:
        return (await core.store.load(cid)).state is State.WAITING

    await wait_until(escalated, what="the escalation")
    # the first process's try counted: the second tried only the tries that were left
    assert len(second_poison.seen) == failures_module.MAX_FAILURES - 1
    meta = await redis_client.hgetall(conversation_key(cid, "meta"))
    assert (meta["failed_at"], meta["failures"]) == ("0", str(failures_module.MAX_FAILURES))


async def test_web_chat_is_not_held_up_by_an_sms_backlog(start_process: ProcessFactory) -> None:
    classifier = ScriptedClassifier(SCRIPT)
    _, pipeline = start_process(classifier, concurrency=2)
    for i in range(20):  # queued before any worker runs: a backlog
        await pipeline.submit(InboundMessage(Address("sms", f"+1555000{i:04}"), "hello"))
    for i in range(2):  # the web chat's few come last
        await pipeline.submit(
            InboundMessage(Address("webchat", f"visitor-{i}"), "where is my order")
        )
    await pipeline.start()
    await wait_until(lambda: len(classifier.seen) == 22, what="every message classified")
    asked = [n for n, text in enumerate(classifier.seen) if text == "where is my order"]
    assert max(asked) < 2 * 2  # among the first two reads of two, not after the 20
    await wait_until(lambda: acknowledged(pipeline), what="every entry acknowledged")


async def test_work_left_on_the_old_single_stream_is_processed(
    start_process: ProcessFactory, redis_client: aioredis.Redis
) -> None:
    core, pipeline = start_process()
    await pipeline.submit(InboundMessage(customer(1), "hello"))
    cid = await core.store.resolve(customer(1))
    # as an earlier version queued it: on the one ``work`` stream, read by its group
    await redis_client.delete(work_stream("test"))
    await redis_client.xgroup_create(LEGACY_WORK_STREAM, WORK_GROUP, id="0", mkstream=True)
    await redis_client.xadd(LEGACY_WORK_STREAM, {WORK_FIELD: cid})
    assert await pipeline.queued() == 1
    await pipeline.start()
    await wait_until(lambda: core.replies() == ["Hi!"], what="the old entry's answer")
    await wait_until(lambda: acknowledged(pipeline), what="the old entry acknowledged")


async def test_a_conversation_switching_channel_is_answered_once_and_in_order(
    start_process: ProcessFactory,
) -> None:
    (one, first), (_, second) = start_process(), start_process()
    web, phone = Address("webchat", "visitor"), Address("sms", "+15550009999")
    cid = await one.store.resolve(web)
    await one.store.add_address(cid, phone)
    await first.submit(InboundMessage(web, "hello"))  # two streams, two processes
    await second.submit(InboundMessage(phone, "where is my order"))
    await first.start()
    await second.start()

    async def answered() -> bool:
        return len((await one.store.load(cid)).messages) == 4

    await wait_until(answered, what="both messages answered")
    history = [(m.role, m.text) for m in (await one.store.load(cid)).messages]
    assert history == [  # both stored before any worker ran: answered in their order
        (Role.CUSTOMER, "hello"),
        (Role.CUSTOMER, "where is my order"),
        (Role.BOT, "Hi!"),
        (Role.BOT, "It ships today."),
    ]
    await wait_until(lambda: acknowledged(first), what="every entry acknowledged")


async def test_a_conversation_with_a_backlog_takes_turns_with_the_others(
    start_process: ProcessFactory,
) -> None:
    gated = StuckClassifier()
    _, pipeline = start_process(gated, concurrency=1)
    texter = Address("sms", "+15550001111")
    for _ in range(6):
        await pipeline.submit(InboundMessage(texter, "hello"))
    await pipeline.start()
    await wait_until(lambda: gated.waiting == 1, what="the texter's first turn")
    await pipeline.submit(InboundMessage(Address("webchat", "visitor"), "where is my order"))
    gated.go.set()
    await wait_until(lambda: len(gated.seen) == 7, what="every message classified")
    # a turn is one message: the visitor waits for one or two of the texter's, not for six
    assert gated.seen.index("where is my order") <= 2
    await wait_until(lambda: acknowledged(pipeline), what="every entry acknowledged")
