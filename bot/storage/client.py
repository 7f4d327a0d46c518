"""The Redis client omnibot runs on: one server or a Redis Cluster, retrying over restarts.

On one server every request written to Redis is counted (a pipeline or script is one round
trip), as ``omnibot_redis_round_trips_total`` in ``/metrics``; redis-py's cluster client takes
no connection class, so on a cluster the count stays 0.
"""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio as redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.storage.supervisor import client_retry

POOL_SIZE = 200  # connections (per cluster node); a burst waits for one up to WAIT_S
WAIT_S = 5.0

_sent = [0]  # this process's round trips (a list: updated in place)


class CountingConnection(Connection):
    """A connection that counts what it sends: one call, one round trip (a pipeline too)."""

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        _sent[0] += 1
        await super().send_packed_command(command, check_health)


class RetryingCluster(RedisCluster):
    """redis-py's cluster client, retrying a command whose connection was closed under it.

    When one command fails on a node, redis-py disconnects that node's idle connections while
    other commands may be picking them up; such a command then writes to a closed stream and
    gets a bare ``AttributeError``/``TypeError`` (redis-py issues 3546 and 4287) instead of a
    ``ConnectionError``, which no retry covers. Nothing was written, so it is retried here
    like any lost connection.
    """

    async def _execute_command(self, target_node: ClusterNode, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._execute_command(target_node, *args, **kwargs)
        except (AttributeError, TypeError) as exc:
            if "NoneType" not in str(exc):  # a programming error, not a closed stream
                raise
            raise RedisConnectionError(f"connection closed while writing: {exc}") from exc


def round_trips() -> int:
    """Round trips to Redis made by this process so far."""
    return _sent[0]


def connect(url: str, cluster: bool = False) -> redis.Redis:
    """A client of ``url``: a pool of connections to one server, or redis-py's cluster client
    (typed as :class:`redis.asyncio.Redis`, whose command API it shares)."""
    if cluster:
        return cast(
            redis.Redis,
            RetryingCluster.from_url(
                url, decode_responses=True, max_connections=POOL_SIZE, **client_retry()
            ),
        )
    # A burst waits for a free connection (up to WAIT_S) instead of failing at once, and a
    # connection broken by a Redis restart is retried instead of failing its command.
    pool = redis.BlockingConnectionPool.from_url(
        url,
        decode_responses=True,
        max_connections=POOL_SIZE,
        timeout=WAIT_S,
        connection_class=CountingConnection,
        **client_retry(),
    )
    return redis.Redis.from_pool(pool)
