"""The request and conversation ids reach every log line logged while they are handled."""

from __future__ import annotations

import asyncio
import logging

from bot.pipeline.log_context import (
    ContextFilter,
    conversation,
    conversation_id,
    enter_conversation,
    request,
    request_id,
)


def stamped() -> tuple[object, object]:
    """The (request, conversation) ids :class:`ContextFilter` stamps on a record logged now."""
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "line", None, None)
    assert ContextFilter().filter(record)
    return getattr(record, "request", "unset"), getattr(record, "conversation", "unset")


def test_the_ids_hold_within_their_blocks_only() -> None:
    assert (request_id(), conversation_id()) == (None, None)
    with request("r1"), conversation("c1"):
        assert stamped() == ("r1", "c1")
        with conversation("c2"):
            assert conversation_id() == "c2"
        assert conversation_id() == "c1"
    assert stamped() == (None, None)


def test_a_record_keeps_ids_it_already_carries() -> None:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "m", None, None)
    record.conversation = "elsewhere"
    with conversation("here"):
        ContextFilter().filter(record)
    assert getattr(record, "conversation", None) == "elsewhere"


async def test_tasks_started_inside_inherit_the_ids_and_keep_their_own() -> None:
    seen: dict[str, tuple[str | None, str | None]] = {}

    async def work(name: str) -> None:
        await asyncio.sleep(0)
        seen[name] = (request_id(), conversation_id())

    async def one_conversation(cid: str) -> None:
        enter_conversation(cid)  # for the rest of this task only
        await asyncio.sleep(0)
        await work(cid)

    with request("r9"):
        inherited = asyncio.create_task(work("inherited"))
    await asyncio.gather(one_conversation("c1"), one_conversation("c2"), inherited)
    assert seen == {"inherited": ("r9", None), "c1": (None, "c1"), "c2": (None, "c2")}
    assert conversation_id() is None  # nothing leaked out of the tasks
