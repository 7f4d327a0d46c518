"""The local agent console (``/agent``) through aiohttp's test client, on a real Redis with the
real engine: a web chat visitor escalates, agents act through the console's WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from bot.desk.actions import HandoffActions
from bot.models import Address, Role, State
from bot.storage.keys import console_session_key
from bot.texts import Texts
from connectors.console.auth import SESSION_COOKIE
from connectors.console.console import AgentConsole
from connectors.console.desk_socket import LIST_INTERVAL_S, MAX_STRIKES, SIGNED_OUT
from connectors.console.sessions import (
    ATTEMPTS_PER_WINDOW,
    SESSION_TTL_S,
    Sessions,
    client_key,
)
from connectors.console.token import TOKEN_FILE, console_token
from omnibot import cli
from omnibot.services import SERVICES
from omnibot.settings import Settings, SettingsError
from tests.conftest import PUBLIC_URL, AppFactory
from tests.support.webchat_client import Frame, frame, opening

ClientFactory = Any  # pytest-aiohttp's aiohttp_client fixture
Client = TestClient[Any, Any]
TOKEN = "console-token-4b1e2f0a9c7d"
SAM, DANA = "Sam", "Dana"
FORM = "application/x-www-form-urlencoded"

TEXTS = Texts()


def console_app(make_app: AppFactory, **overrides: object) -> web.Application:
    """An app with the console mounted (``create_app`` mounts it when Slack is off), its
    token ``TOKEN`` unless ``overrides`` say otherwise."""
    overrides.setdefault("agent_console_token", TOKEN)
    app = make_app(**overrides)
    assert any(r.canonical == "/agent" for r in app.router.resources())
    return app


def own_origin(client: Client) -> dict[str, str]:
    """The Origin header a browser on the console's own page sends."""
    return {"Origin": f"http://{client.host}:{client.port}"}


async def sign_in(client: Client, token: str = TOKEN) -> aiohttp.ClientResponse:
    """Post the login form; the session cookie lands in the client's jar."""
    return await client.post("/agent/login", data={"token": token}, allow_redirects=False)


@pytest.fixture
async def client(aiohttp_client: ClientFactory, make_app: AppFactory) -> Client:
    """A test client signed in to the console."""
    result: Client = await aiohttp_client(console_app(make_app))
    assert (await sign_in(result)).status == 303
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
    async with client.ws_connect("/agent/ws", headers=own_origin(client) | (headers or {})) as ws:
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
    assert entry["max_chars"] == 2000  # the web chat's own limit, for the page's counter


async def test_the_list_names_a_known_customer_and_every_channel_they_use(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    _, cid = customer
    store = client.app[SERVICES].store
    await store.add_address(cid, Address("sms", "+15557654321"))
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
        assert joined["text"] == TEXTS.joined.format(agent=SAM)

        assert (await agent.act("reply", cid, text="Hi, Sam here."))["outcome"] == "done"
        answer = await customer_message(ws, "agent")
        assert (answer["author"], answer["text"]) == (SAM, "Hi, Sam here.")
        notice = await agent.next("message", conversation=cid)
        assert notice["message"]["text"] == TEXTS.joined.format(agent=SAM)
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
    assert TEXTS.resolved.format(agent=SAM) in texts
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


async def test_a_reply_written_as_a_note_stays_internal(
    client: Client, customer: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    ws, cid = customer
    async with desk(client) as agent:
        sent = {
            "type": "reply",
            "conversation": cid,
            "agent": SAM,
            "text": "> Note - refund pending",
        }
        await agent.ws.send_json(sent)
        outcome = await agent.next("outcome", conversation=cid, action="note")  # told it's a note
        assert outcome["outcome"] == "done"
        assert (await agent.act("reply", cid, text="Hello!"))["outcome"] == "done"
        reopened = await agent.open(cid)
    seen = [await frame(ws)]
    while seen[-1].get("role") != "agent":
        seen.append(await frame(ws))
    assert "refund pending" not in json.dumps(seen)
    assert [n["text"] for n in reopened["notes"]] == ["> Note - refund pending"]


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
    assert (await customer_message(ws, "system"))["text"] == TEXTS.back_to_bot
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
    async with client.ws_connect("/agent/ws", headers=own_origin(client)) as agent:
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
    assert "Sign out" in text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    for name in ("console.js", "console.css", "login.js"):
        assert (await client.get(f"/agent/static/{name}")).status == 200
    not_upgraded = await client.get("/agent/ws", headers=own_origin(client))
    assert not_upgraded.status == 400  # refused, not a 500


# the token: always needed, generated when not configured -------------------------------------


@pytest.fixture
async def guarded(aiohttp_client: ClientFactory, make_app: AppFactory) -> Client:
    """A test client of the console that has not signed in."""
    result: Client = await aiohttp_client(console_app(make_app))
    return result


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_of(client: Client) -> str:
    """The session id in the client's cookie jar."""
    return next(c.value for c in client.session.cookie_jar if c.key == SESSION_COOKIE)


async def session_keys(client: aioredis.Redis) -> list[str]:
    return [k.decode() if isinstance(k, bytes) else k async for k in client.scan_iter("console:*")]


async def test_a_script_behind_a_plain_proxy_gets_nothing(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    """No AGENT_CONSOLE_TOKEN, no PUBLIC_URL, a proxy that rewrites Host to loopback and adds
    no forwarding header, a script that sends no Origin: the login form, never the desk."""
    client = await aiohttp_client(console_app(make_app, agent_console_token=None))
    loopback = {"Host": f"127.0.0.1:{client.port}"}
    page = await client.get("/agent", headers=loopback)
    assert page.status == 401
    text = await page.text()
    assert 'name="token"' in text
    assert "console.js" not in text
    for extra, status in (({}, 403), (own_origin(client), 401)):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/agent/ws", headers=loopback | extra)
        assert refused.value.status == status


async def test_without_a_configured_token_one_is_generated_logged_once_and_kept(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.console.token")
    first = await aiohttp_client(console_app(make_app, agent_console_token=None))
    path = settings.data_dir / TOKEN_FILE
    token = path.read_text(encoding="utf-8").strip()
    assert len(token) >= 24
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # another worker, or the next start: the same token, and the token is not logged again
    second = await aiohttp_client(console_app(make_app, agent_console_token=None))
    assert path.read_text(encoding="utf-8").strip() == token
    logged = [r.getMessage() for r in caplog.records if token in r.getMessage()]
    assert logged == [logged[0]]
    assert f"/agent#token={token}" in logged[0]
    for client in (first, second):
        assert (await sign_in(client, token)).status == 303
        assert (await client.get("/agent")).status == 200


def test_workers_starting_together_share_one_token(tmp_path: Path) -> None:
    url = "http://127.0.0.1:8080/agent"
    with ThreadPoolExecutor(8) as pool:
        tokens = set(pool.map(lambda _: console_token(None, tmp_path, url), range(32)))
    assert len(tokens) == 1
    assert [p.name for p in tmp_path.iterdir()] == [TOKEN_FILE]  # no temporary file left


def test_a_configured_token_wins_and_a_loose_token_file_is_tightened(tmp_path: Path) -> None:
    assert console_token(TOKEN, tmp_path, "http://x/agent") == TOKEN
    assert not (tmp_path / TOKEN_FILE).exists()
    (tmp_path / TOKEN_FILE).write_text("t" * 30 + "\n", encoding="utf-8")
    os.chmod(tmp_path / TOKEN_FILE, 0o644)
    assert console_token(None, tmp_path, "http://x/agent") == "t" * 30
    assert stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode) == 0o600


def test_a_short_configured_token_stops_start_up_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.setenv("AGENT_CONSOLE_TOKEN", "short-secret-1234")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "AGENT_CONSOLE_TOKEN" in error
    assert "at least 24 characters" in error
    assert "short-secret-1234" not in error  # a secret is never echoed


def test_a_short_token_is_refused_however_it_is_given(make_app: AppFactory) -> None:
    with pytest.raises(SettingsError) as refused:
        console_app(make_app, agent_console_token="x" * 23)
    assert refused.value.name == "AGENT_CONSOLE_TOKEN"
    assert Settings.from_env({"AGENT_CONSOLE_TOKEN": "x" * 24}, env_file=None).agent_console_token


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer ", f"Bearer {TOKEN}x"]
)
async def test_a_missing_or_wrong_token_is_refused(
    guarded: Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    page = await guarded.get("/agent", headers=headers)
    assert page.status == 401
    assert page.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'name="token"' in await page.text()  # the login form, nothing of the desk
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await guarded.ws_connect("/agent/ws", headers=own_origin(guarded) | headers)
    assert refused.value.status == 401


async def test_a_bearer_header_is_let_in(guarded: Client) -> None:
    headers = bearer() | {"X-Forwarded-For": "203.0.113.7"}
    page = await guarded.get("/agent", headers=headers)
    assert page.status == 200
    assert "Sign out" in await page.text()
    async with desk(guarded, headers) as agent:
        assert (await agent.next("list"))["conversations"] == []


async def test_the_login_form_starts_a_session(guarded: Client) -> None:
    wrong = await sign_in(guarded, "guess")
    assert wrong.status == 401
    assert "not right" in await wrong.text()
    assert SESSION_COOKIE not in {c.key for c in guarded.session.cookie_jar}

    right = await sign_in(guarded)
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


async def test_sessions_are_random_and_expire_in_redis(
    guarded: Client, redis_client: aioredis.Redis
) -> None:
    first = (await sign_in(guarded)).cookies[SESSION_COOKIE].value
    second = (await sign_in(guarded)).cookies[SESSION_COOKIE].value
    assert first != second
    assert len(first) >= 32
    keys = await session_keys(redis_client)
    assert len(keys) == 2
    assert all(k.startswith(console_session_key("")) for k in keys)
    assert first not in "".join(keys)  # Redis holds a hash of the id, not the id
    for key in keys:
        assert 0 < await redis_client.ttl(key) <= SESSION_TTL_S
        await redis_client.pexpire(key, 1)
    await asyncio.sleep(0.05)
    assert (await guarded.get("/agent")).status == 401  # expired


async def test_sign_out_revokes_the_session_even_for_a_kept_copy(client: Client) -> None:
    session = session_of(client)
    assert (await client.post("/agent/logout", allow_redirects=False)).status == 303
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: session})  # copied before
    assert (await client.get("/agent")).status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/agent/ws", headers=own_origin(client))
    assert refused.value.status == 401


async def test_signing_out_closes_an_open_console(client: Client) -> None:
    async with desk(client) as agent:
        await agent.next("list")
        async with aiohttp.ClientSession(cookie_jar=client.session.cookie_jar) as other_tab:
            out = await other_tab.post(client.make_url("/agent/logout"), allow_redirects=False)
            assert out.status == 303
        while (item := await agent.ws.receive(timeout=LIST_INTERVAL_S * 3)).type is WSMsgType.TEXT:
            pass
    assert item.type is WSMsgType.CLOSE
    assert item.extra == SIGNED_OUT.decode()


async def test_a_new_token_ends_every_session(client: Client, redis_client: aioredis.Redis) -> None:
    session = session_of(client)
    assert await Sessions(redis_client, TOKEN).valid(session)
    assert not await Sessions(redis_client, TOKEN + "-rotated").valid(session)


async def test_a_forged_session_cookie_is_refused(guarded: Client) -> None:
    old_style = "0" * 64  # the shape of the former fixed HMAC cookie
    for forged in (TOKEN, old_style):
        guarded.session.cookie_jar.update_cookies({SESSION_COOKIE: forged})
        assert (await guarded.get("/agent")).status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await guarded.ws_connect("/agent/ws", headers=own_origin(guarded))
        assert refused.value.status == 401


@pytest.mark.parametrize(
    ("origin", "status"),
    [("https://evil.example", 403), ("null", 403), (None, 403), ("OWN", None)],
)
async def test_the_websocket_needs_its_own_origin(
    client: Client, origin: str | None, status: int | None
) -> None:
    own = own_origin(client)["Origin"]
    headers = {} if origin is None else {"Origin": own if origin == "OWN" else origin}
    if status is None:
        async with client.ws_connect("/agent/ws", headers=headers) as ws:
            assert (await frame(ws))["type"] == "list"
        return
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/agent/ws", headers=headers | bearer())
    assert refused.value.status == status


async def test_a_cross_site_login_is_refused(guarded: Client) -> None:
    response = await guarded.post(
        "/agent/login",
        data={"token": TOKEN},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_behind_a_proxy_paths_follow_the_public_url(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(console_app(make_app, public_url=PUBLIC_URL))
    page = await client.get("/agent", headers=bearer())
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
    async with desk(client, bearer() | {"Origin": "https://support.example.com"}) as agent:
        assert (await agent.next("list"))["type"] == "list"


# throttling wrong tokens ----------------------------------------------------------------------


async def test_wrong_tokens_are_throttled_then_even_the_right_one(guarded: Client) -> None:
    for _ in range(ATTEMPTS_PER_WINDOW):
        assert (await sign_in(guarded, "w" * 30)).status == 401
    throttled = await sign_in(guarded)
    assert throttled.status == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 60
    assert "Too many" in await throttled.text()
    assert SESSION_COOKIE not in {c.key for c in guarded.session.cookie_jar}
    page = await guarded.get("/agent", headers=bearer())
    assert (page.status, "Retry-After" in page.headers) == (429, True)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await guarded.ws_connect("/agent/ws", headers=own_origin(guarded) | bearer())
    assert refused.value.status == 429


async def test_every_entry_point_counts_toward_the_limit(guarded: Client) -> None:
    wrong = bearer("w" * 30)
    for _ in range(2):
        assert (await guarded.get("/agent", headers=wrong)).status == 401
    for _ in range(2):
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await guarded.ws_connect("/agent/ws", headers=own_origin(guarded) | wrong)
    guarded.session.cookie_jar.update_cookies({SESSION_COOKIE: "made-up"})
    assert (await guarded.get("/agent")).status == 401
    guarded.session.cookie_jar.clear()
    assert (await sign_in(guarded)).status == 429


async def test_right_tokens_do_not_use_up_the_limit(guarded: Client) -> None:
    for _ in range(ATTEMPTS_PER_WINDOW * 3):
        assert (await guarded.get("/agent", headers=bearer())).status == 200
    assert (await sign_in(guarded)).status == 303


async def test_a_signed_in_agent_keeps_working_while_the_address_is_throttled(
    client: Client,
) -> None:
    async with aiohttp.ClientSession() as guesser:  # same address, no session
        for _ in range(ATTEMPTS_PER_WINDOW + 1):
            await guesser.post(client.make_url("/agent/login"), data={"token": "w" * 30})
        throttled = await guesser.post(client.make_url("/agent/login"), data={"token": TOKEN})
        assert throttled.status == 429
    assert (await client.get("/agent")).status == 200
    async with desk(client) as agent:
        assert (await agent.next("list"))["type"] == "list"


@pytest.mark.parametrize(
    ("remote", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        (None, "unknown"),
    ],
)
def test_attempts_count_per_address_and_per_ipv6_64(remote: str | None, key: str) -> None:
    assert client_key(remote) == key


# the login form's body ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        (f"{FORM}; charset=x-unknown", b"token=abc", 415),
        (f"{FORM}; charset=utf-16", "token=abc".encode("utf-16"), 415),
        ("multipart/form-data; boundary=x", b"--x--\r\n", 415),
        ("text/plain", b"token=abc", 415),
        (FORM, b"token=\xff\xfe", 400),
        (f"{FORM}; charset=UTF-8", f"token={TOKEN}".encode(), 303),
    ],
)
async def test_an_unreadable_login_body_is_a_4xx_not_a_500(
    guarded: Client,
    caplog: pytest.LogCaptureFixture,
    content_type: str,
    body: bytes,
    status: int,
) -> None:
    response = await guarded.post(
        "/agent/login",
        data=body,
        headers={"Content-Type": content_type},
        allow_redirects=False,
    )
    assert response.status == status
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_redis_down_is_a_503_not_a_500(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    services = console_app(make_app)[SERVICES]
    dead = aioredis.Redis(port=1, socket_connect_timeout=0.5)  # nothing listens there
    console = AgentConsole(
        services.store,
        services.hub,
        HandoffActions(services.store, services.tickets, services.handoff),
        TOKEN,
        None,
        tickets=services.tickets,
        client=dead,
    )
    app = web.Application()
    app.router.add_routes(console.routes())
    client = await aiohttp_client(app)
    try:
        assert (await client.get("/agent", headers=bearer())).status == 503
        assert (await sign_in(client)).status == 503
    finally:
        await dead.aclose()
