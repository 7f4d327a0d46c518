"""A local fake of Slack's Web API, and builders of the signed requests Slack sends to our app.

:class:`FakeSlack` serves ``/api/<method>`` on 127.0.0.1 for the real
``slack_sdk.web.async_client.AsyncWebClient(token=..., base_url=fake.url)``, in the spirit of
bolt-python's ``tests/mock_web_api_server``: bearer-token auth, JSON or form bodies as slack_sdk
sends them, the real answers' shapes, every call recorded, scripted failures on demand.

The builders make what Slack POSTs to ``/slack/events``: Events API envelopes and block_actions
payloads, signed with slack_sdk's own ``SignatureVerifier``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.signature import SignatureVerifier

BOT_TOKEN = "xoxb-1111111111-2222222222222-" + "fakefakefakefakefakefake"
APP_TOKEN = "xapp-1-A0FAKE0001-3333333333333-" + "f" * 64  # Socket Mode's app-level token
SIGNING_SECRET = "fake-signing-secret-" + "5" * 12
VERIFICATION_TOKEN = "fake-verification-token"  # deprecated, but still in every payload
TEAM_ID = "T0FAKE0001"
TEAM_NAME = "Omnibot Test"
TEAM_DOMAIN = "omnibot-test"
APP_ID = "A0FAKE0001"
BOT_ID = "B0FAKE0001"
BOT_USER_ID = "U0FAKEBOT1"
BOT_NAME = "omnibot"
DESK_CHANNEL = "C0DESK0001"
DESK_CHANNEL_NAME = "support-desk"
AGENT_ID = "U0AGENT001"
AGENT_REAL_NAME = "Dana Scully"
AGENT_DISPLAY_NAME = "Dana"

SCOPES = "chat:write,users:read,channels:history,groups:history"
DEFAULT_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}
JSON_PARAMS = ("blocks", "attachments", "metadata")  # JSON strings in form-encoded calls
MAX_BLOCKS = 50
# chat.postMessage answers msg_blocks_too_long past about this much text in all of a message's
# blocks (undocumented; slackapi/bolt-js#2509 and #2867).
MAX_BLOCKS_TEXT = 12_000
MAX_TEXT = 40_000  # longer ``text`` is cut, not refused
TS_STEP_US = 100  # "1732790000.000100", "1732790000.000200", ...
US_PER_S = 1_000_000
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class FakeUser:
    """A workspace member as ``users.info`` shows them."""

    real_name: str
    display_name: str = ""
    is_bot: bool = False
    tz: str = "Europe/London"


@dataclass(frozen=True)
class Failure:
    """A scripted answer: HTTP status, Slack ``error`` slug and ``Retry-After`` seconds."""

    status: int
    error: str
    retry_after: int | None = None


@dataclass(frozen=True)
class Call:
    """One Web API call the fake received: the method, its parameters (token left out), when
    (monotonic seconds), and how it was answered."""

    method: str
    params: dict[str, Any]
    at: float
    status: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the answer was ``{"ok": true}``."""
        return self.error is None

    def __getitem__(self, name: str) -> Any:
        return self.params[name]


class FakeSlack:
    """Slack's Web API on a free local port; ``url`` is the ``base_url`` for slack_sdk.

    Use as ``async with FakeSlack() as fake:``. ``fail_next(method, ...)`` queues one failure
    for that method; while ``down`` is true every call gets a 503. ``users`` maps user ids to
    :class:`FakeUser` (the agent Dana and the bot itself to begin with).
    """

    def __init__(self, token: str = BOT_TOKEN, first_ts: int | None = None) -> None:
        self.token = token
        self.down = False
        self.calls: list[Call] = []
        self.users: dict[str, FakeUser] = {
            AGENT_ID: FakeUser(AGENT_REAL_NAME, AGENT_DISPLAY_NAME),
            BOT_USER_ID: FakeUser(BOT_NAME, BOT_NAME, is_bot=True),
        }
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: list[dict[str, Any]] = []
        self._scripted: defaultdict[str, deque[Failure]] = defaultdict(deque)
        self._next_us = (first_ts if first_ts is not None else int(time.time())) * US_PER_S
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:54321/api/`` (what ``SLACK_API_URL`` takes)."""
        if self._server is None or self._server.port is None:
            raise RuntimeError("the fake is not started")
        return f"http://127.0.0.1:{self._server.port}/api/"

    def add_user(self, user_id: str, real_name: str, display_name: str = "") -> None:
        """Make ``users.info`` know ``user_id``."""
        self.users[user_id] = FakeUser(real_name, display_name)

    def fail_next(
        self,
        method: str,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next call of ``method`` with this failure.

        ``status=429`` is Slack's rate limit (``Retry-After`` header, ``ratelimited``);
        ``status=200`` with an ``error`` is an API error such as ``channel_not_found``.
        """
        slug = error or DEFAULT_ERRORS.get(status)
        if slug is None:
            raise ValueError("an HTTP 200 failure needs an error slug")
        self._scripted[method].append(Failure(status, slug, retry_after))

    def posts(
        self, channel: str | None = None, thread_ts: str | None = None
    ) -> list[dict[str, Any]]:
        """The parameters of the successful ``chat.postMessage`` calls, oldest first.

        ``channel`` and ``thread_ts`` filter when given (``None`` means any).
        """
        return [
            call.params
            for call in self._succeeded("chat.postMessage")
            if channel in (None, call.params.get("channel"))
            and thread_ts in (None, call.params.get("thread_ts"))
        ]

    def updates(self) -> list[dict[str, Any]]:
        """The parameters of the successful ``chat.update`` calls, oldest first."""
        return [call.params for call in self._succeeded("chat.update")]

    def ephemerals(self) -> list[dict[str, Any]]:
        """The parameters of the successful ``chat.postEphemeral`` calls, oldest first."""
        return [call.params for call in self._succeeded("chat.postEphemeral")]

    def calls_to(self, method: str) -> list[Call]:
        """Every call of ``method``, failed ones included."""
        return [call for call in self.calls if call.method == method]

    async def start(self) -> None:
        """Serve on 127.0.0.1, on a free port."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/socket", self._socket)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        """Stop serving (Socket Mode connections first)."""
        for ws in self.sockets:
            await ws.close()
        if self._server is not None:
            await self._server.close()

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ---- serving --------------------------------------------------------------------------

    def _succeeded(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method and call.ok]

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        failure: Failure | None
        try:
            params = await _params(request)
        except ValueError:
            params, failure = {}, Failure(200, "invalid_json")
        else:
            token = _bearer(request) or params.get("token")
            params.pop("token", None)
            failure = self._failure(method, token)
        status, body, headers = _failed(failure) if failure else self._call(method, params)
        error = None if body.get("ok") else str(body.get("error"))
        self.calls.append(Call(method, params, time.monotonic(), status, error))
        return web.json_response(body, status=status, headers=headers)

    def _failure(self, method: str, token: object) -> Failure | None:
        """Outage, then auth, then a scripted failure, in that order."""
        if self.down:
            return Failure(503, DEFAULT_ERRORS[503])
        if not token:
            return Failure(200, "not_authed")
        if token != (APP_TOKEN if method == "apps.connections.open" else self.token):
            return Failure(200, "invalid_auth")
        if self._scripted[method]:
            return self._scripted[method].popleft()
        return None

    def _call(
        self, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        handlers = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "users.info": self._users_info,
            "chat.getPermalink": self._permalink,
            "apps.connections.open": self._connections_open,
        }
        handler = handlers.get(method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        headers = {"x-oauth-scopes": SCOPES, "x-accepted-oauth-scopes": ""}
        return 200, handler(params), headers

    def _next_ts(self) -> str:
        """A fresh message ts: distinct and increasing, as Slack's are within a channel."""
        self._next_us += TS_STEP_US
        seconds, micros = divmod(self._next_us, US_PER_S)
        return f"{seconds}.{micros:06d}"

    # ---- methods ----------------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        error = _content_error(params) if channel else "channel_not_found"
        if error:
            return _error(error)
        thread_ts = params.get("thread_ts")
        ts = self._next_ts()
        message = self._message(params, ts)
        if thread_ts:
            parent = self.messages.get((channel, str(thread_ts)), {})
            message.update(thread_ts=thread_ts, parent_user_id=parent.get("user", BOT_USER_ID))
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        error = _content_error(params)
        if error is None and key not in self.messages:
            error = "message_not_found"
        if error:
            return _error(error)
        message = self.messages[key]
        message.update(
            self._message(params, key[1]), edited={"user": BOT_USER_ID, "ts": self._next_ts()}
        )
        return {
            "ok": True,
            "channel": key[0],
            "ts": key[1],
            "text": message["text"],
            "message": message,
        }

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return _error("channel_not_found")
        if params.get("user") not in self.users:
            return _error("user_not_in_channel")
        error = _content_error(params)
        return _error(error) if error else {"ok": True, "message_ts": self._next_ts()}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user"))
        user = self.users.get(user_id)
        if user is None:
            return _error("user_not_found")
        return {"ok": True, "user": _user(user_id, user)}

    def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http://", "ws://").replace("/api/", "/socket")}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then carry envelopes to the app and its acks back."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake"},
                "connection_info": {"app_id": APP_ID},
            }
        )
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        return ws

    async def socket_event(self, payload: dict[str, Any]) -> str:
        """Send an Events API payload over Socket Mode; its envelope id (acked in ``acks``)."""
        envelope_id = secrets.token_hex(16)
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": "events_api",
                "payload": payload,
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    def _permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel")), str(params.get("message_ts"))
        message = self.messages.get((channel, ts))
        if message is None:
            return _error("message_not_found")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        if message.get("thread_ts"):
            link += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        """The message object Slack answers with for a post by this app's bot user."""
        message: dict[str, Any] = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": str(params.get("text", ""))[:MAX_TEXT],
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": BOT_NAME,
                "icons": {},
                "deleted": False,
                "updated": int(time.time()),
                "team_id": TEAM_ID,
            },
        }
        if "blocks" in params:  # chat.update: [] removes the blocks, no key keeps them
            # Slack gives every block a block_id when the app did not
            message["blocks"] = [{"block_id": _random_id(5), **block} for block in params["blocks"]]
        return message


# ---- request parsing and answers ------------------------------------------------------------


async def _params(request: web.Request) -> dict[str, Any]:
    """Query string and body (JSON or form-encoded) as one dict; JSON-string fields parsed."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = json.loads(await request.text() or "{}")
        if not isinstance(body, dict):
            raise ValueError("the JSON body is not an object")
        params.update(body)
    elif request.can_read_body:
        params.update({name: str(value) for name, value in (await request.post()).items()})
    for name in JSON_PARAMS:
        if isinstance(params.get(name), str):
            params[name] = json.loads(params[name])
    return params


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _content_error(params: Mapping[str, Any]) -> str | None:
    """Slack's checks on a message's text and blocks."""
    blocks = params.get("blocks")
    if not params.get("text") and not blocks and not params.get("attachments"):
        return "no_text"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return "invalid_blocks_format"
    if len(blocks) > MAX_BLOCKS or not all(_valid_block(block) for block in blocks):
        return "invalid_blocks"
    if sum(_text_length(block) for block in blocks) > MAX_BLOCKS_TEXT:
        return "msg_blocks_too_long"
    return None


def _valid_block(block: dict[str, Any]) -> bool:
    """Whether slack_sdk's own Block Kit model accepts ``block`` (types, lengths, counts)."""
    parsed = Block.parse(block)
    if parsed is None:
        return False
    try:
        parsed.validate_json()
    except SlackObjectFormationError:
        return False
    return True


def _text_length(node: object) -> int:
    """All the ``text`` strings in a block tree, counted together."""
    if isinstance(node, dict):
        return sum(
            len(value) if key == "text" and isinstance(value, str) else _text_length(value)
            for key, value in node.items()
        )
    if isinstance(node, list):
        return sum(_text_length(item) for item in node)
    return 0


def _error(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


def _failed(failure: Failure) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = str(failure.retry_after)
    return failure.status, _error(failure.error), headers


def _user(user_id: str, user: FakeUser) -> dict[str, Any]:
    """A user object as ``users.info`` returns it (the fields that matter)."""
    display = user.display_name
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": (display or user.real_name).lower(),
        "deleted": False,
        "real_name": user.real_name,
        "tz": user.tz,
        "is_bot": user.is_bot,
        "is_admin": False,
        "is_app_user": False,
        "updated": int(time.time()),
        "profile": {
            "real_name": user.real_name,
            "display_name": display,
            "real_name_normalized": user.real_name,
            "display_name_normalized": display,
            "team": TEAM_ID,
            "image_48": f"https://avatars.slack-edge.com/{user_id}_48.png",
        },
    }


def _random_id(length: int) -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


# ---- what Slack sends to our app ------------------------------------------------------------


def signed_headers(
    body: str,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str | None = None,
) -> dict[str, str]:
    """The headers Slack sends with ``body``, signed by slack_sdk's own code.

    The content type is JSON for an Events API body, a form for interactivity, unless given.
    """
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    if signature is None:
        raise RuntimeError("slack_sdk made no signature")
    kind = content_type or (
        "application/json" if body.lstrip().startswith("{") else "application/x-www-form-urlencoded"
    )
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": kind,
    }


def new_ts() -> str:
    """A message ts for now, as Slack writes them."""
    return f"{time.time():.6f}"


def new_event_id() -> str:
    """An Events API event id (``Ev`` and ten characters)."""
    return "Ev" + _random_id(10)


def message_event(
    channel: str,
    thread_ts: str | None,
    user: str,
    text: str,
    event_id: str | None = None,
    ts: str | None = None,
) -> dict[str, Any]:
    """A person's message (a thread reply when ``thread_ts`` is given) in its envelope."""
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "client_msg_id": secrets.token_hex(16),
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": TEAM_ID,
        "blocks": _rich_text(text),
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if thread_ts:
        event.update(thread_ts=thread_ts, parent_user_id=BOT_USER_ID)
    return event_callback(event, event_id)


def bot_message_event(
    channel: str,
    thread_ts: str | None,
    text: str,
    event_id: str | None = None,
    ts: str | None = None,
    bot_id: str = BOT_ID,
    legacy: bool = False,
) -> dict[str, Any]:
    """A bot's message in its envelope: by default this app's own post (``bot_id``, ``app_id``,
    the bot user); ``legacy`` makes an integration's ``subtype: bot_message`` without a user."""
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "ts": ts,
        "bot_id": bot_id,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if legacy:
        event.update(subtype="bot_message", username="integration", icons={})
    else:
        event.update(
            user=BOT_USER_ID,
            app_id=APP_ID,
            team=TEAM_ID,
            blocks=_rich_text(text),
            bot_profile={
                "id": bot_id,
                "app_id": APP_ID,
                "name": BOT_NAME,
                "deleted": False,
                "team_id": TEAM_ID,
            },
        )
    if thread_ts:
        event.update(thread_ts=thread_ts, parent_user_id=BOT_USER_ID)
    return event_callback(event, event_id)


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """``event`` in the Events API envelope (``type: event_callback``)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(float(event.get("event_ts", time.time()))),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_urlsafe(24),
    }


def block_action(
    action_id: str,
    value: str,
    user_id: str = AGENT_ID,
    user_name: str = "dana",
    channel: str = DESK_CHANNEL,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    message: Mapping[str, Any] | None = None,
    label: str = "Button",
) -> dict[str, Any]:
    """A ``block_actions`` payload: ``user_id`` clicked the button ``action_id`` (``value``)
    on the bot's message ``message_ts``; ``message`` is that message as Slack holds it
    (``FakeSlack.messages[(channel, ts)]``), a minimal one when not given."""
    message_ts = message_ts or new_ts()
    action_ts = new_ts()
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    if thread_ts:
        container["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": f"{action_ts}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": DESK_CHANNEL_NAME},
        "message": dict(message) if message else _bot_message(message_ts, thread_ts),
        "state": {"values": {}},
        "response_url": (
            f"https://hooks.slack.com/actions/{TEAM_ID}/"
            f"{secrets.randbelow(10**13)}/{secrets.token_urlsafe(18)}"
        ),
        "actions": [
            {
                "action_id": action_id,
                "block_id": _random_id(5),
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }


def form_body(payload: Mapping[str, Any]) -> str:
    """An interactivity request body: the form field ``payload`` holding the JSON."""
    return "payload=" + quote(json.dumps(payload))


def _bot_message(ts: str, thread_ts: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "user": BOT_USER_ID,
        "type": "message",
        "ts": ts,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "text": "Ticket",
        "team": TEAM_ID,
        "blocks": [],
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
    return message


def _rich_text(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack's client attaches to what a person types."""
    return [
        {
            "type": "rich_text",
            "block_id": _random_id(3),
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]
