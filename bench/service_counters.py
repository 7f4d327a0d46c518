"""The counters ``bench.e2e`` reads at the two ends of its measured window.

Every thread's CPU ticks (``bench.process_cpu``), the load generator's own CPU, the service's
Redis round trips and answered messages (its ``/metrics``) and the commands redis-server ran
(``INFO commandstats``); ``redis_figures`` turns two snapshots into Redis work per answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import redis.asyncio as redis

from bench.process_cpu import TickMap, per_answer, tree_ticks


@dataclass(frozen=True)
class Snapshot:
    """The counters read at one end of the measured window."""

    at: float
    ticks: TickMap
    own_cpu_s: float
    round_trips: float | None  # None: not one process's count (--workers)
    server_answered: float | None
    redis_calls: int
    redis_usec: int


async def scrape(session: aiohttp.ClientSession, root: str) -> tuple[float, float]:
    """The serving process's Redis round trips and answered messages (``/metrics``)."""
    async with session.get(f"{root}/metrics") as response:
        text = await response.text()
    round_trips = answered = 0.0
    for line in text.splitlines():
        if line.startswith("omnibot_redis_round_trips_total "):
            round_trips = float(line.rsplit(" ", 1)[1])
        elif line.startswith("omnibot_answered_total{"):
            answered += float(line.rsplit(" ", 1)[1])
    return round_trips, answered


async def command_stats(client: redis.Redis) -> tuple[int, int]:
    """Commands redis-server ran so far and the microseconds it spent, its INFO calls left
    out."""
    stats: dict[str, dict[str, Any]] = await client.info("commandstats")
    mine = {"cmdstat_info"}
    calls = sum(int(s["calls"]) for name, s in stats.items() if name not in mine)
    usec = sum(int(s["usec"]) for name, s in stats.items() if name not in mine)
    return calls, usec


async def snapshot(
    session: aiohttp.ClientSession, root: str, pid: int, client: redis.Redis, per_process: bool
) -> Snapshot:
    """Every counter at once; the service's own counts only when one process serves."""
    at, ticks, own = time.monotonic(), tree_ticks(pid), time.process_time()
    round_trips, answered = await scrape(session, root)
    calls, usec = await command_stats(client)
    if not per_process:
        return Snapshot(at, ticks, own, None, None, calls, usec)
    return Snapshot(at, ticks, own, round_trips, answered, calls, usec)


def delta(after: float | None, before: float | None) -> float | None:
    """``after - before``, None when either is unknown."""
    return None if after is None or before is None else after - before


def redis_figures(before: Snapshot, after: Snapshot, answered: int) -> dict[str, Any]:
    """Redis per answered message: round trips, commands and redis-server's time."""
    commands = after.redis_calls - before.redis_calls
    return {
        "server_answered": delta(after.server_answered, before.server_answered),
        "round_trips_per_answer": per_answer(
            delta(after.round_trips, before.round_trips), answered
        ),
        "commands_per_answer": per_answer(commands, answered),
        "redis_ms_per_answer": per_answer((after.redis_usec - before.redis_usec) / 1000, answered),
    }
