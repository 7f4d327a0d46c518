"""Which request and which conversation a log line is about, without passing them around.

The HTTP edge names the request (:func:`request`), the dispatcher the conversation it handles
(:func:`conversation`); both live in context variables, so every log call made meanwhile, and
every asyncio task started meanwhile (a task copies the context it was created in), knows them.
:class:`ContextFilter` writes them onto each log record as ``record.request`` and
``record.conversation`` (None when unknown) for a formatter to show.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_REQUEST: ContextVar[str | None] = ContextVar("omnibot_request_id", default=None)
_CONVERSATION: ContextVar[str | None] = ContextVar("omnibot_conversation_id", default=None)


def request_id() -> str | None:
    """The id of the HTTP request being handled, if any."""
    return _REQUEST.get()


def conversation_id() -> str | None:
    """The id of the conversation being handled, if any."""
    return _CONVERSATION.get()


@contextmanager
def request(rid: str) -> Iterator[None]:
    """Within the block (and tasks started in it) the request is ``rid``."""
    token = _REQUEST.set(rid)
    try:
        yield
    finally:
        _REQUEST.reset(token)


@contextmanager
def conversation(cid: str) -> Iterator[None]:
    """Within the block (and tasks started in it) the conversation is ``cid``."""
    token = _CONVERSATION.set(cid)
    try:
        yield
    finally:
        _CONVERSATION.reset(token)


def enter_conversation(cid: str) -> None:
    """The conversation is ``cid`` for the rest of the current task (a task that handles one
    conversation; its context is its own copy, so nothing leaks to other tasks)."""
    _CONVERSATION.set(cid)


class ContextFilter(logging.Filter):
    """Stamps each record with the request and conversation ids of the context it was
    logged in (as a handler's filter it runs in the logging call, so the context is the
    caller's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``record.request`` and ``record.conversation``; never drops the record."""
        # a record logged elsewhere with the ids already set (e.g. passed through a queue)
        # keeps them
        if getattr(record, "request", None) is None:
            record.request = _REQUEST.get()
        if getattr(record, "conversation", None) is None:
            record.conversation = _CONVERSATION.get()
        return True
