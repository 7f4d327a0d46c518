"""The client's address behind trusted proxies: which header hops are believed, and the
per-address limits that depend on it."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_network
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from omnibot.channels import check_channels
from omnibot.proxies import ForwardedHeader, Network, trusted_proxies
from omnibot.settings import Settings, SettingsError
from tests.conftest import PUBLIC_URL, AppFactory

ClientFactory = Any
LOOPBACK = (ip_network("127.0.0.1/32"), ip_network("::1/128"))
INTERNAL = (*LOOPBACK, ip_network("10.0.0.0/8"))


async def remote_seen(
    aiohttp_client: ClientFactory,
    headers: Sequence[tuple[str, str]],
    networks: Sequence[Network] = LOOPBACK,
    header: ForwardedHeader = ForwardedHeader.X_FORWARDED_FOR,
) -> str:
    """The ``request.remote`` a handler behind the middleware sees (the test client's peer
    address is 127.0.0.1)."""

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.remote or "")

    app = web.Application(middlewares=[trusted_proxies(networks, header)])
    app.router.add_get("/", echo)
    client = await aiohttp_client(app)
    response = await client.get("/", headers=list(headers))
    return str(await response.text())


@pytest.mark.parametrize(
    ("headers", "client"),
    [
        ([], "127.0.0.1"),  # a direct request from the proxy's host
        ([("X-Forwarded-For", "203.0.113.5")], "203.0.113.5"),
        # what the client wrote itself is left of what the proxy appended: not believed
        ([("X-Forwarded-For", "198.51.100.7, 203.0.113.5")], "203.0.113.5"),
        ([("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-For", "203.0.113.5")], "203.0.113.5"),
        ([("X-Forwarded-For", "203.0.113.5:4711")], "203.0.113.5"),
        ([("X-Forwarded-For", "[2001:db8::17]:4711")], "2001:db8::17"),
        ([("X-Forwarded-For", "::ffff:203.0.113.5")], "203.0.113.5"),
        ([("X-Forwarded-For", "203.0.113.5, not-an-address")], "127.0.0.1"),
        ([("X-Forwarded-For", "")], "127.0.0.1"),
        ([("Forwarded", "for=203.0.113.5")], "127.0.0.1"),  # not the configured header
    ],
)
async def test_the_client_is_the_right_most_address_no_trusted_proxy_owns(
    aiohttp_client: ClientFactory, headers: list[tuple[str, str]], client: str
) -> None:
    assert await remote_seen(aiohttp_client, headers) == client


async def test_a_chain_of_trusted_proxies_is_walked_past(aiohttp_client: ClientFactory) -> None:
    chain = [("X-Forwarded-For", "198.51.100.7, 203.0.113.5, 10.1.2.3, 10.0.0.9")]
    assert await remote_seen(aiohttp_client, chain, INTERNAL) == "203.0.113.5"
    internal = [("X-Forwarded-For", "10.1.2.3, 10.0.0.9")]  # all trusted: the first of them
    assert await remote_seen(aiohttp_client, internal, INTERNAL) == "10.1.2.3"


async def test_headers_from_a_peer_that_is_no_trusted_proxy_are_ignored(
    aiohttp_client: ClientFactory,
) -> None:
    spoofed = [("X-Forwarded-For", "203.0.113.5")]
    trusted = (ip_network("10.0.0.0/8"),)
    assert await remote_seen(aiohttp_client, spoofed, trusted) == "127.0.0.1"


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("for=203.0.113.5;proto=https", "203.0.113.5"),
        ('for=198.51.100.7, for="[2001:db8::17]:4711"', "2001:db8::17"),
        ('for="203.0.113.5:4711", for=10.0.0.9', "203.0.113.5"),
        ("for=_hidden", "127.0.0.1"),
        ("proto=https", "127.0.0.1"),
    ],
)
async def test_the_forwarded_header_when_the_proxies_write_that(
    aiohttp_client: ClientFactory, forwarded: str, client: str
) -> None:
    headers = [("Forwarded", forwarded), ("X-Forwarded-For", "192.0.2.1")]
    seen = await remote_seen(aiohttp_client, headers, INTERNAL, ForwardedHeader.FORWARDED)
    assert seen == client


async def open_session(client: Any, forwarded_for: str) -> int:
    """Open a web chat session with this ``X-Forwarded-For``: 101, or the refusal's status."""
    try:
        async with client.ws_connect(
            "/webchat/ws", headers={"X-Forwarded-For": forwarded_for}
        ) as ws:
            await ws.receive_json()
            return 101
    except aiohttp.WSServerHandshakeError as error:
        return error.status


async def test_behind_a_proxy_each_client_has_its_own_session_budget(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    app = make_app(trusted_proxies=LOOPBACK, sessions_per_minute=1, public_url=PUBLIC_URL)
    client = await aiohttp_client(app)
    assert [await open_session(client, ip) for ip in ("203.0.113.5", "198.51.100.7")] == [
        101,
        101,
    ]
    assert await open_session(client, "203.0.113.5") == 429


async def test_without_trusted_proxies_the_header_changes_nothing(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    app = make_app(sessions_per_minute=1, public_url=PUBLIC_URL)
    client = await aiohttp_client(app)
    assert await open_session(client, "203.0.113.5") == 101
    assert await open_session(client, "198.51.100.7") == 429  # a claim, not an address


def test_trusted_proxies_and_their_header_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5,::1", "TRUSTED_PROXY_HEADER": "Forwarded"},
        env_file=None,
    )
    assert settings.trusted_proxies == (
        ip_network("10.0.0.0/8"),
        ip_network("192.168.1.5/32"),
        ip_network("::1/128"),
    )
    assert settings.trusted_proxy_header is ForwardedHeader.FORWARDED
    assert Settings.from_env({}, env_file=None).trusted_proxies == ()
    for name, value in [("TRUSTED_PROXIES", "10.0.0.300"), ("TRUSTED_PROXY_HEADER", "X-Real-IP")]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value}, env_file=None)


def test_sms_behind_a_proxy_needs_the_public_url() -> None:
    settings = Settings(
        twilio_account_sid="AC1",
        twilio_auth_token="token",
        twilio_from_number="+15550000100",
        trusted_proxies=LOOPBACK,
    )
    with pytest.raises(SettingsError, match="PUBLIC_URL"):
        check_channels(settings)
