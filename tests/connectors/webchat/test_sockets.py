"""Counting open web chat sockets per address in Redis: the cap, letting go, and the sockets of
a process that died going stale."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from bot.storage.keys import sockets_key
from connectors.webchat.sockets import STALE_S, SocketCap

IP = "203.0.113.9"


async def test_the_cap_holds_per_address_and_a_closed_socket_frees_its_place(
    redis_client: aioredis.Redis,
) -> None:
    cap = SocketCap(redis_client, 2)
    first, second = await cap.hold(IP), await cap.hold(IP)
    assert first is not None
    assert second is not None
    assert await cap.hold(IP) is None
    assert await cap.hold("198.51.100.1") is not None  # other addresses go on
    await cap.let_go(IP, first)
    assert await cap.hold(IP) is not None


async def test_sockets_of_a_process_that_died_stop_counting(
    redis_client: aioredis.Redis,
) -> None:
    cap = SocketCap(redis_client, 1)
    gone = await cap.hold(IP)
    assert gone is not None
    assert await cap.hold(IP) is None
    await redis_client.zadd(sockets_key(IP), {gone: time.time() - STALE_S - 1})
    assert await cap.hold(IP) is not None


async def test_refreshed_sockets_keep_counting(redis_client: aioredis.Redis) -> None:
    cap = SocketCap(redis_client, 1)
    live = await cap.hold(IP)
    assert live is not None
    await redis_client.zadd(sockets_key(IP), {live: time.time() - STALE_S + 5})
    await cap.refresh([(IP, live)])
    assert await cap.hold(IP) is None
    assert 0 < await redis_client.ttl(sockets_key(IP)) <= STALE_S
