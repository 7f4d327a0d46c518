"""The local agent console (``/agent``) through aiohttp's test client, on a real Redis with the
real engine: a web chat visitor escalates, agents act through the console's WebSocket."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import Mock

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, make_mocked_request

from bot.app import SERVICES
from bot.handoff import BACK_TO_BOT_TEXT, JOINED_TEXT, RESOLVED_TEXT
from bot.models import Address, Role, State
from connectors.agent_console import AgentConsole
from connectors.agent_console_auth import (
    SESSION_COOKIE,
    AccessDeniedError,
    Guard,
    is_loopback_address,
    is_loopback_host,
)
from connectors.agent_console_socket import MAX_STRIKES
from tests.conftest import PUBLIC_URL, AppFactory
from tests.webchat_client import Frame, frame, opening

ClientFactory = Any  # pytest-aiohttp's aiohttp_client fixture
Client = TestClient[Any, Any]
TOKEN = "console-token-4b1e2f0a9c7d"
SAM, DANA = "Sam", "Dana"


def console_app(make_app: AppFactory, **overrides: object) -> web.Application:
    """An app with the console mounted (``create_app`` mounts it when Slack is off)."""
    app = make_app(**overrides)
    if not any(r.canonical == "/agent" for r in app.router.resources()):
        services = app[SERVICES]
        app.router.add_routes(
            AgentConsole(
                services.store,
                services.hub,
                services.handoff,
                services.settings.agent_console_token,
                services.settings.public_url,
                tickets=services.tickets,
            ).routes()
        )
    return app


@pytest.fixture
async def client(aiohttp_client: ClientFactory, make_app: AppFactory) -> Client:
    result: Client = await aiohttp_client(console_app(make_app))
    return result


@pytest.fixture
async def customer(client: Client) -> AsyncIterator[tuple[aiohttp.ClientWebSocketResponse, str]]:
    """A web chat visitor who asked for a person: their socket and conversation id."""
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        await ws.send_json({"type": "message", "text": "I want to talk to a human"})
        await until(ws, "state", state="waiting")
        cid = await client.app[SERVICES].store.customer_for(Address("webchat", token))
        assert cid is not None
        yield ws, cid


async def until(ws: aiohttp.ClientWebSocketResponse, kind: str, **fields: object) -> Frame:
    """The next frame of type ``kind`` whose ``fields`` match (others are skipped)."""
    while True:
        item = await frame(ws)
        if _matches(item, kind, fields):
            return item


def _matches(item: Frame, kind: str, fields: dict[str, object]) -> bool:
    return item["type"] == kind and _has(item, fields)


def _has(item: Frame, fields: dict[str, object]) -> bool:
    return all(item.get(k) == v for k, v in fields.items())


class Desk:
    """An agent's console socket; frames not asked for yet are kept, as the socket's tasks
    (list, followed conversation, actions) interleave."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._kept: list[Frame] = []

    async def next(self, kind: str, **fields: object) -> Frame:
        """The first frame of type ``kind`` whose ``fields`` match."""
        for index, item in enumerate(self._kept):
            if _matches(item, kind, fields):
                return self._kept.pop(index)
        while not _matches(item := await frame(self.ws), kind, fields):
            self._kept.append(item)
        return item

    async def listed(self, cid: str, **fields: object) -> Frame:
        """The entry of ``cid`` in the first list frame that shows it with ``fields``."""
        while True:
            entries: list[Frame] = [
                t
                for t in (await self.next("list"))["conversations"]
                if t["conversation"] == cid and _has(t, fields)
            ]
            if entries:
                return entries[0]

    async def open(self, cid: str) -> Frame:
        """Follow ``cid``; its history frame."""
        await self.ws.send_json({"type": "open", "conversation": cid})
        return await self.next("history", conversation=cid)

    async def act(self, action: str, cid: str, agent: str = SAM, text: str | None = None) -> Frame:
        """Send an action frame; the outcome frame it gets."""
        sent: dict[str, str] = {"type": action, "conversation": cid, "agent": agent}
        if text is not None:
            sent["text"] = text
        await self.ws.send_json(sent)
        return await self.next("outcome", conversation=cid, action=action)


@contextlib.asynccontextmanager
async def desk(client: Client, headers: dict[str, str] | None = None) -> AsyncIterator[Desk]:
    """An agent's console socket on ``client``."""
    async with client.ws_connect("/agent/ws", headers=headers or {}) as ws:
        yield Desk(ws)


async def customer_message(ws: aiohttp.ClientWebSocketResponse, role: str) -> Frame:
    return await until(ws, "message", role=role)


# the desk's work -----------------------------------------------------------------------------


async def test_the_list_shows_an_escalated_conversation(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    _, cid = customer
    async with desk(client) as agent:
        entry = await agent.listed(cid)
    assert entry["state"] == "waiting"
    assert entry["channel"] == "webchat"
    assert entry["agent"] is None
    assert entry["reason"]
    assert entry["escalated_at"] > 0
    assert entry["last_message"] == "I want to talk to a human"
    assert entry["customer"] == f"Customer {cid[:8]}"
    assert entry["address"] is None  # a web chat address is the visitor's session token
    assert entry["reaches"] == ["webchat"]


async def test_the_list_names_a_known_customer_and_every_channel_they_use(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    _, cid = customer
    store = client.app[SERVICES].store
    await store.link(cid, Address("sms", "+15557654321"))
    await store.remember(cid, {"name": "Ana"})
    async with desk(client) as agent:
        entry = await agent.listed(cid)
    assert entry["customer"] == f"Ana ({cid[:8]})"
    assert entry["reaches"] == ["sms +15557654321", "webchat"]  # never the session token


async def test_the_list_puts_the_oldest_waiting_first(client: Client) -> None:
    cids = []
    for _ in range(3):
        async with client.ws_connect("/webchat/ws") as ws:
            token, _, _ = await opening(ws)
            await ws.send_json({"type": "message", "text": "I want to talk to a human"})
            await until(ws, "state", state="waiting")
        cid = await client.app[SERVICES].store.customer_for(Address("webchat", token))
        assert cid is not None
        cids.append(cid)
    async with desk(client) as agent:
        assert (await agent.act("claim", cids[0]))["outcome"] == "done"
        shown: list[tuple[str, str]] = []
        while (cids[0], "agent") not in shown:
            shown = [
                (t["conversation"], t["state"]) for t in (await agent.next("list"))["conversations"]
            ]
    assert shown == [(cids[1], "waiting"), (cids[2], "waiting"), (cids[0], "agent")]


async def test_the_desk_never_sees_a_web_chat_session_token(client: Client) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        await ws.send_json({"type": "message", "text": "I want to talk to a human"})
        await until(ws, "state", state="waiting")
        cid = await client.app[SERVICES].store.customer_for(Address("webchat", token))
        assert cid is not None
        async with desk(client) as agent:
            entry = await agent.listed(cid)
            history = await agent.open(cid)
    assert token not in json.dumps(entry) + json.dumps(history)


async def test_claim_reply_note_and_resolve(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    ws, cid = customer
    store, tickets = client.app[SERVICES].store, client.app[SERVICES].tickets
    async with desk(client) as agent:
        history = await agent.open(cid)
        assert "I want to talk to a human" in [m["text"] for m in history["messages"]]
        assert (history["ticket"]["state"], history["notes"]) == ("waiting", [])

        assert (await agent.act("claim", cid))["outcome"] == "done"
        assert await agent.next("state", conversation=cid) == {
            "type": "state",
            "conversation": cid,
            "state": "agent",
            "agent": SAM,
        }
        joined = await customer_message(ws, "system")
        assert joined["text"] == JOINED_TEXT.format(agent=SAM)

        assert (await agent.act("reply", cid, text="Hi, Sam here."))["outcome"] == "done"
        answer = await customer_message(ws, "agent")
        assert (answer["author"], answer["text"]) == (SAM, "Hi, Sam here.")
        notice = await agent.next("message", conversation=cid)
        assert notice["message"]["text"] == JOINED_TEXT.format(agent=SAM)
        shown = await agent.next("message", conversation=cid)
        assert (shown["message"]["role"], shown["message"]["text"]) == ("agent", "Hi, Sam here.")

        noted = await agent.act("note", cid, text="Upset about a late parcel")
        assert noted["outcome"] == "done"
        note = await agent.next("note", conversation=cid)
        assert (note["note"]["author"], note["note"]["text"]) == (SAM, "Upset about a late parcel")

        await ws.send_json({"type": "message", "text": "Thanks, it is order 100234"})
        live = await agent.next("message", conversation=cid)
        assert live["message"]["text"] == "Thanks, it is order 100234"

        assert (await agent.act("resolve", cid))["outcome"] == "done"
        assert (await agent.next("state", conversation=cid))["state"] == "bot"
        closed = await agent.act("reply", cid, text="Anything else?")
        assert closed["outcome"] == "closed"
        assert "closed" in closed["message"]

    conversation = await store.load(cid)
    texts = [m.text for m in conversation.messages]
    assert conversation.state is State.BOT
    assert texts.count("Hi, Sam here.") == 1
    assert RESOLVED_TEXT.format(agent=SAM) in texts
    assert "Anything else?" not in texts
    assert "Upset about a late parcel" not in texts  # notes never reach the customer
    assert [n.text for n in await tickets.notes(cid)] == ["Upset about a late parcel"]
    assert cid not in [c for c, _ in await tickets.open_conversations()]


async def test_the_customer_never_sees_a_note(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    ws, cid = customer
    async with desk(client) as agent:
        assert (await agent.act("note", cid, text="internal only"))["outcome"] == "done"
        assert (await agent.act("reply", cid, text="Hello!"))["outcome"] == "done"
        reopened = await agent.open(cid)
    seen = [await frame(ws)]
    while seen[-1].get("role") != "agent":  # up to the reply: joined, state... and no note
        seen.append(await frame(ws))
    assert "internal only" not in json.dumps(seen)
    assert [n["text"] for n in reopened["notes"]] == ["internal only"]
    assert "internal only" not in json.dumps(reopened["messages"])
    token = next(a.id for a in (await client.app[SERVICES].store.customer(cid)).addresses)
    async with client.ws_connect(f"/webchat/ws?token={token}") as again:
        _, history, state = await opening(again)
    assert "internal only" not in json.dumps(history)
    assert [m["text"] for m in history if m["role"] == "agent"] == ["Hello!"]
    assert state == "agent"


async def test_a_second_agents_claim_is_taken(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    _, cid = customer
    async with desk(client) as sam, desk(client) as dana:
        assert (await sam.act("claim", cid, SAM))["outcome"] == "done"
        taken = await dana.act("claim", cid, DANA)
        again = await sam.act("claim", cid, SAM)
        entry = await dana.listed(cid, state="agent")
    assert (taken["outcome"], taken["message"]) == (
        "taken",
        "Sam has already claimed this conversation.",
    )
    assert again["outcome"] == "already_yours"
    assert entry["agent"] == SAM
    assert (await client.app[SERVICES].store.load(cid)).agent == SAM


async def test_back_to_bot(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    ws, cid = customer
    async with desk(client) as agent:
        assert (await agent.act("back_to_bot", cid))["outcome"] == "done"
        assert (await agent.act("back_to_bot", cid))["outcome"] == "closed"
        assert (await agent.act("claim", cid))["outcome"] == "closed"
    assert (await customer_message(ws, "system"))["text"] == BACK_TO_BOT_TEXT
    assert (await client.app[SERVICES].store.load(cid)).state is State.BOT


async def test_a_too_long_web_chat_reply_is_refused(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    _, cid = customer
    async with desk(client) as agent:
        await agent.ws.send_json(
            {"type": "reply", "conversation": cid, "agent": SAM, "text": "x" * 2001}
        )
        refused = await agent.next("error")
        assert (await agent.act("reply", cid, text="y" * 2000))["outcome"] == "done"
    assert refused["code"] == "text_too_long"
    assert "2,000" in refused["message"]
    agent_texts = [
        m.text
        for m in (await client.app[SERVICES].store.load(cid)).messages
        if m.role is Role.AGENT
    ]
    assert agent_texts == ["y" * 2000]


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("nonsense", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "open"}', "invalid_conversation"),
        ('{"type": "open", "conversation": "../../etc"}', "invalid_conversation"),
        ('{"type": "open", "conversation": "CID\\n"}', "invalid_conversation"),
        ('{"type": "open", "conversation": "nobody"}', "unknown_conversation"),
        ('{"type": "claim", "conversation": "nobody", "agent": "Sam"}', "unknown_conversation"),
        ('{"type": "claim", "conversation": "CID"}', "missing_agent"),
        ('{"type": "claim", "conversation": "CID", "agent": "  "}', "missing_agent"),
        ('{"type": "claim", "conversation": "CID", "agent": "Sam\\u202e"}', "invalid_agent"),
        ('{"type": "reply", "conversation": "CID", "agent": "Sam"}', "empty_text"),
        ('{"type": "note", "conversation": "CID", "agent": "Sam", "text": 5}', "empty_text"),
        (
            json.dumps({"type": "note", "conversation": "CID", "agent": "Sam", "text": "n" * 4001}),
            "text_too_long",
        ),
    ],
)
async def test_bad_frames_get_error_frames_and_the_socket_survives(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str], sent: str, code: str
) -> None:
    _, cid = customer
    async with desk(client) as agent:
        await agent.ws.send_str(sent.replace("CID", cid))
        error = await agent.next("error")
        await agent.ws.send_bytes(b"\x00")
        binary = await agent.next("error")
        history = await agent.open(cid)
    assert error["code"] == code
    assert error["message"]
    assert binary["code"] == "unsupported_frame"
    assert history["conversation"] == cid
    assert (await client.app[SERVICES].store.load(cid)).state is State.WAITING


async def test_a_client_that_keeps_misbehaving_is_closed(client: Client) -> None:
    async with client.ws_connect("/agent/ws") as agent:
        for _ in range(MAX_STRIKES):
            await agent.send_str("nonsense")
        while (item := await agent.receive(timeout=10)).type is WSMsgType.TEXT:
            pass
    assert item.type is WSMsgType.CLOSE
    assert item.data == aiohttp.WSCloseCode.POLICY_VIOLATION
    async with desk(client) as again:  # the service keeps serving
        assert (await again.next("list"))["type"] == "list"


async def test_the_page_and_its_files_are_served(client: Client) -> None:
    page = await client.get("/agent")
    assert page.status == 200
    text = await page.text()
    assert 'src="/agent/static/console.js"' in text
    assert "Sign out" not in text  # no token, nothing to sign out of
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    for name in ("console.js", "console.css"):
        assert (await client.get(f"/agent/static/{name}")).status == 200
    assert (await client.get("/agent/ws")).status == 400  # not an upgrade: refused, not a 500


# without a token: this machine only ---------------------------------------------------------


async def test_without_a_token_loopback_is_let_in(client: Client) -> None:
    assert (await client.get("/agent")).status == 200
    async with desk(client) as agent:
        assert (await agent.next("list"))["conversations"] == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.7"},
        {"Forwarded": "for=203.0.113.7;proto=https"},
        {"X-Real-IP": "203.0.113.7"},
        {"Host": "rebound.example:8080"},  # DNS rebinding: a foreign name resolved to 127.0.0.1
    ],
)
async def test_without_a_token_proxied_or_foreign_requests_are_refused(
    client: Client, headers: dict[str, str]
) -> None:
    page = await client.get("/agent", headers=headers)
    assert page.status == 403
    assert "AGENT_CONSOLE_TOKEN" in await page.text()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/agent/ws", headers=headers)
    assert refused.value.status == 403


async def test_without_a_token_a_public_url_means_refused(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(console_app(make_app, public_url=PUBLIC_URL))
    page = await client.get("/agent")
    assert page.status == 403
    assert "AGENT_CONSOLE_TOKEN" in await page.text()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/agent/ws")
    assert refused.value.status == 403


def test_without_a_token_another_machine_is_refused() -> None:
    transport = Mock()
    transport.get_extra_info.return_value = ("203.0.113.7", 52100)
    request = make_mocked_request(
        "GET", "/agent", headers={"Host": "127.0.0.1:8080"}, transport=transport
    )
    with pytest.raises(AccessDeniedError) as refused:
        Guard(None, None).check(request)
    assert refused.value.status == 403
    assert "AGENT_CONSOLE_TOKEN" in refused.value.reason


@pytest.mark.parametrize(
    ("remote", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("203.0.113.7", False),
        ("", False),
        (None, False),
        ("not an address", False),
    ],
)
def test_loopback_addresses(remote: str | None, loopback: bool) -> None:
    assert is_loopback_address(remote) is loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:8080", True),
        ("localhost:8080", True),
        ("[::1]:8080", True),
        ("localhost", True),
        ("evil.example", False),
        ("[::1", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://evil.example", False),
        ("null", False),
        (None, True),
        ("OWN", True),
    ],
)
async def test_the_websocket_origin_is_checked(
    client: Client, origin: str | None, allowed: bool
) -> None:
    own = f"http://{client.host}:{client.port}"
    headers = {} if origin is None else {"Origin": own if origin == "OWN" else origin}
    if allowed:
        async with desk(client, headers) as agent:
            await agent.next("list")
        return
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/agent/ws", headers=headers)
    assert refused.value.status == 403


# with a token ----------------------------------------------------------------------------


@pytest.fixture
async def guarded(aiohttp_client: ClientFactory, make_app: AppFactory) -> Client:
    result: Client = await aiohttp_client(console_app(make_app, agent_console_token=TOKEN))
    return result


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer ", f"Bearer {TOKEN}x"]
)
async def test_with_a_token_a_missing_or_wrong_one_is_refused(
    guarded: Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    page = await guarded.get("/agent", headers=headers)
    assert page.status == 401
    assert page.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'name="token"' in await page.text()  # the login form, nothing of the desk
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await guarded.ws_connect("/agent/ws", headers=headers)
    assert refused.value.status == 401


async def test_with_a_token_a_bearer_header_is_let_in(guarded: Client) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "203.0.113.7"}
    page = await guarded.get("/agent", headers=headers)
    assert page.status == 200
    assert "Sign out" in await page.text()
    async with desk(guarded, headers) as agent:
        assert (await agent.next("list"))["conversations"] == []


async def test_with_a_token_the_login_form_sets_a_session_cookie(guarded: Client) -> None:
    wrong = await guarded.post("/agent/login", data={"token": "guess"}, allow_redirects=False)
    assert wrong.status == 401
    assert "not right" in await wrong.text()
    assert SESSION_COOKIE not in {c.key for c in guarded.session.cookie_jar}

    right = await guarded.post("/agent/login", data={"token": TOKEN}, allow_redirects=False)
    assert (right.status, right.headers["Location"]) == (303, "/agent")
    cookie = right.cookies[SESSION_COOKIE]
    assert TOKEN not in cookie.value
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/agent"
    assert (await guarded.get("/agent")).status == 200
    async with desk(guarded) as agent:
        assert (await agent.next("list"))["type"] == "list"

    out = await guarded.post("/agent/logout", allow_redirects=False)
    assert out.status == 303
    assert (await guarded.get("/agent")).status == 401


async def test_with_a_token_a_forged_session_cookie_is_refused(guarded: Client) -> None:
    guarded.session.cookie_jar.update_cookies({SESSION_COOKIE: TOKEN})
    assert (await guarded.get("/agent")).status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await guarded.ws_connect("/agent/ws")
    assert refused.value.status == 401


async def test_a_cross_site_login_is_refused(guarded: Client) -> None:
    response = await guarded.post(
        "/agent/login",
        data={"token": TOKEN},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_behind_a_proxy_with_a_token_paths_follow_the_public_url(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(
        console_app(make_app, agent_console_token=TOKEN, public_url=PUBLIC_URL)
    )
    page = await client.get("/agent", headers={"Authorization": f"Bearer {TOKEN}"})
    assert 'src="/omnibot/agent/static/console.js"' in await page.text()
    right = await client.post(
        "/agent/login",
        data={"token": TOKEN},
        allow_redirects=False,
        headers={"Origin": "https://support.example.com"},
    )
    assert right.headers["Location"] == "/omnibot/agent"
    cookie = right.cookies[SESSION_COOKIE]
    assert (cookie["path"], cookie["secure"]) == ("/omnibot/agent", True)
    async with desk(
        client, {"Authorization": f"Bearer {TOKEN}", "Origin": "https://support.example.com"}
    ) as agent:
        assert (await agent.next("list"))["type"] == "list"
