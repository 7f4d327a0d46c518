"""The Redis client: on a cluster, a command whose connection is closed under it is retried."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection

from bot.storage.client import connect


@pytest.fixture
async def cluster(redis_cluster_url: str) -> AsyncIterator[RedisCluster]:
    client = connect(redis_cluster_url, cluster=True)
    assert isinstance(client, RedisCluster)
    yield client
    await client.aclose()


def close_on_next_write(connection: Connection) -> None:
    """Make another task's disconnect land on ``connection`` just before its next write: the
    race redis-py loses when one node's idle connections are dropped after a failure."""
    check_health = connection.check_health

    async def disconnect_then_check() -> None:
        connection.check_health = check_health  # type: ignore[method-assign]
        await connection.disconnect()

    connection.check_health = disconnect_then_check  # type: ignore[method-assign]


async def test_a_command_whose_connection_closes_under_it_is_retried(
    cluster: RedisCluster,
) -> None:
    await cluster.set("omnibot:test:race", "stored")
    node = cluster.get_node_from_key("omnibot:test:race")
    assert node is not None
    [connection] = node._free  # the one connection the SET used, idle again
    close_on_next_write(connection)
    assert await cluster.get("omnibot:test:race") == "stored"
    await cluster.delete("omnibot:test:race")
