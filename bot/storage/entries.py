"""What a conversation queue (:mod:`bot.storage.queue`) keeps in its entries: the failed tries
(``attempts``) and when the next is due (``retry_at``), written into the entry itself so that
every process shares the backoff; the head as read, with its guarded rewrite; the retry
schedule; and an entry made fresh again."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.commands.core import AsyncScript

ATTEMPTS_FIELD = "attempts"  # failed tries of an entry so far
RETRY_AT_FIELD = "retry_at"  # when an entry that failed may be tried again (epoch seconds)

__all__ = ["ATTEMPTS_FIELD", "RETRY_AT_FIELD", "Head", "Schedule", "fresh"]


class Head:
    """The entry at the head of one conversation's queue, as read."""

    def __init__(self, replace_head: AsyncScript, key: str, cid: str, raw: str) -> None:
        self.cid = cid
        self.raw = raw
        self._replace_head = replace_head
        self._key = key
        self._fields: dict[str, Any] = json.loads(raw)

    def entry(self) -> Any:
        """A fresh copy of the entry's fields (for its owner's TypedDict)."""
        return json.loads(self.raw)

    @property
    def attempts(self) -> int:
        """The failed tries so far."""
        return int(self._fields.get(ATTEMPTS_FIELD, 0))

    @property
    def retry_at(self) -> float:
        """When it may be tried again (0: at once)."""
        return float(self._fields.get(RETRY_AT_FIELD, 0.0))

    async def rewrite(self, fields: Mapping[str, Any]) -> bool:
        """Replace the head with ``fields`` if it is still this entry (False: it is not)."""
        raw = json.dumps(fields)
        if not await self._replace_head(keys=[self._key], args=[self.raw, raw]):
            return False
        self.raw, self._fields = raw, dict(fields)
        return True


@dataclass(frozen=True)
class Schedule:
    """How often and how long an entry is retried: ``backoff_s`` doubling per failed try up to
    ``max_backoff_s``, then dead-lettered after ``tries`` tries."""

    tries: int
    backoff_s: float
    max_backoff_s: float

    def delay(self, attempts: int, after_s: float | None) -> float:
        """The wait after the ``attempts``-th failed try (the other side's own, if it named one)."""
        return float(min(after_s or self.backoff_s * 2 ** (attempts - 1), self.max_backoff_s))


def fresh(raw: str) -> str:
    """An entry as new: its failed tries and backoff forgotten (a dead letter queued again)."""
    fields = json.loads(raw)
    fields.pop(ATTEMPTS_FIELD, None)
    fields.pop(RETRY_AT_FIELD, None)
    return json.dumps(fields)
