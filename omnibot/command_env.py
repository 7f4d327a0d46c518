"""What a command works on: the data directory, and the Redis to read and write.

A command uses ``REDIS_URL``, else the running service's embedded Redis, else (the service
is stopped) an embedded Redis started on the service's data for the command's length.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import redis.asyncio as redis

from bot.storage.client import connect
from bot.storage.embedded import EmbeddedRedis, running_url
from omnibot.settings import Settings, SettingsError

DATA_DIR_EXPECTED = (
    "a directory omnibot can create and write (a relative path starts at the current directory)"
)


def ensure_data_dir(settings: Settings) -> None:
    """Create ``OMNIBOT_DATA_DIR`` if needed; a :class:`SettingsError` when it is unusable."""
    with contextlib.suppress(OSError):  # the check below says what is wrong
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not (settings.data_dir.is_dir() and os.access(settings.data_dir, os.W_OK | os.X_OK)):
        raise SettingsError("OMNIBOT_DATA_DIR", str(settings.data_dir), DATA_DIR_EXPECTED)


@contextlib.asynccontextmanager
async def cli_redis(settings: Settings) -> AsyncIterator[redis.Redis]:
    """Redis for a command: ``REDIS_URL``, the running service's embedded server, or (when
    the service is stopped) the embedded server started on its data for the command."""
    url = settings.redis_url or running_url(settings.data_dir / "redis")
    if url is not None and await _answers(url):
        source = "REDIS_URL" if settings.redis_url else "the running service's embedded Redis"
        _using(settings, f"{redacted(url)} ({source})")
        client = connect(url, settings.redis_cluster)
        try:
            yield client
        finally:
            await client.aclose()
        return
    if settings.redis_url:
        raise SystemExit("omnibot: the Redis at REDIS_URL does not answer")
    ensure_data_dir(settings)
    async with EmbeddedRedis(settings.data_dir / "redis") as embedded:
        _using(settings, f"{redacted(embedded.url)} (embedded, started for this command)")
        client = redis.Redis.from_url(embedded.url, decode_responses=True)
        try:
            yield client
        finally:
            await client.aclose()


def _using(settings: Settings, redis_text: str) -> None:
    # stderr, so that --json output stays one object a line
    data_dir = settings.data_dir.resolve()
    print(f"omnibot: data dir {data_dir}; Redis {redis_text}", file=sys.stderr)


def redacted(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


async def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url)
    try:
        return bool(await client.ping())
    except (redis.ConnectionError, OSError):
        return False
    finally:
        await client.aclose()
