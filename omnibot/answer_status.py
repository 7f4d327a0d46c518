"""What the answer processes say about themselves, through Redis, for a front's ``/healthz``.

A front process loads no model, so it cannot say which model answers, where its fine-tuning
stands or what the help-centre index holds. Each answer process writes that status with each
beat (:class:`omnibot.roles.AnswerBeat`) to a key of its own, ``answering:status:<consumer>``,
that expires after ``ALIVE_S`` (by Redis's clock, like the beats): a process that stops
beating drops out of the report on its own, and a graceful stop deletes its key at once.

The front reports every live process under ``answerers`` and, at the top level, the status of
one of them (:func:`summary`): the model most of them serve (ties: the first by consumer name),
and among those the one whose tuning is not ``waiting`` (the one tuning, when one does).
"""

from __future__ import annotations

import json
import math
import os
import socket
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import redis.asyncio as redis

from bot.storage.keys import ANSWER_STATUS_PREFIX, ANSWERING_KEY

# the top-level keys a front fills from the answer processes' statuses
SUMMARY_KEYS = ("model", "tuning", "knowledge")
NO_MODEL: dict[str, object] = {"model": "none", "tuning": "off"}  # nobody answers

StatusSource = Callable[[], Mapping[str, object]]


def status_key(consumer: str) -> str:
    """The key of one answer process's status."""
    return ANSWER_STATUS_PREFIX + consumer


def process_status(consumer: str, model: Mapping[str, object]) -> dict[str, object]:
    """One answer process's status: ``model`` (``omnibot.health.model_status``) plus which
    process it is."""
    return {"consumer": consumer, "pid": os.getpid(), "host": socket.gethostname(), **model}


async def publish(
    client: redis.Redis, consumer: str, status: Mapping[str, object], alive_s: float
) -> None:
    """Write ``status`` for ``consumer``, living ``alive_s`` unless written again."""
    ttl_ms = max(1, math.ceil(alive_s * 1000))
    await client.set(status_key(consumer), json.dumps(status), px=ttl_ms)


async def withdraw(client: redis.Redis, consumer: str) -> None:
    """Delete ``consumer``'s status (a graceful stop)."""
    await client.delete(status_key(consumer))


async def live_statuses(client: redis.Redis, consumers: list[str]) -> list[dict[str, object]]:
    """The statuses of ``consumers`` that are still there (one GET each, in one pipeline: the
    keys may live in different cluster slots), ordered by consumer name."""
    names = sorted(consumers)
    pipe = client.pipeline(transaction=False)
    for consumer in names:
        pipe.get(status_key(consumer))
    found: list[dict[str, object]] = []
    for raw in await pipe.execute() if names else []:
        if raw is not None:
            found.append(json.loads(raw))
    return found


def summary(statuses: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """The top-level ``model``, ``tuning`` and ``knowledge`` of a front's ``/healthz``: the
    status of the process that speaks for most (see the module's docstring); ``model: none``
    when no answer process is alive."""
    if not statuses:
        return dict(NO_MODEL)
    counts = Counter(str(status.get("model")) for status in statuses)
    majority = max(counts.values())
    model = next(str(s.get("model")) for s in statuses if counts[str(s.get("model"))] == majority)
    serving = [status for status in statuses if str(status.get("model")) == model]
    chosen = next((s for s in serving if s.get("tuning") != "waiting"), serving[0])
    return {key: chosen[key] for key in SUMMARY_KEYS if key in chosen}


def models_agree(statuses: Sequence[Mapping[str, object]]) -> bool:
    """Whether every live answer process serves the same model (False during a swap that
    has reached some of them only)."""
    return len({str(status.get("model")) for status in statuses}) <= 1


async def fresh_consumers(client: redis.Redis, alive_s: float) -> list[str]:
    """The answer processes whose last beat is fresher than ``alive_s`` (by Redis's clock)."""
    pipe = client.pipeline(transaction=False)
    pipe.time()
    pipe.zrange(ANSWERING_KEY, 0, -1, withscores=True)
    (seconds, micros), beats = await pipe.execute()
    now = seconds + micros / 1_000_000
    return [str(name) for name, score in beats if now - float(score) < alive_s]
