"""Agents' actions from Slack: thread replies and buttons, to the core's hand-off.

:class:`SlackEvents` mounts slack-bolt's ``AsyncApp`` at ``POST /slack/events`` through bolt's
aiohttp adapter (or, with an app-level token, on bolt's Socket Mode handler): bolt checks the
signature and the timestamp, acknowledges within Slack's 3 seconds, and then runs the
listeners, which translate a thread reply or a button click into a call of the hand-off. The
tickets themselves are :class:`connectors.slack_desk.SlackDesk`'s.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handoff import AgentOutcome, Handoff
from bot.store import Store
from bot.tickets import Tickets
from connectors.slack_text import unescape
from connectors.webchat_frames import MAX_TEXT_CHARS as WEBCHAT_MAX_CHARS

EVENTS_PATH = "/slack/events"
NAME_CACHE_S = 3600.0
NOTE_PREFIX = "note:"
CLOSED_TEXT = "This conversation is closed (back with the bot): your message reached nobody."
TAKEN_TEXT = "{agent} has already claimed this conversation."
NOT_OURS_TEXT = "This is not a ticket omnibot knows."
TOO_LONG_TEXT = (
    "Not sent: web chat messages hold at most {limit:,} characters (yours has "
    "{length:,}). Please split it."
)

log = logging.getLogger(__name__)


class SlackEvents:
    """``POST /slack/events``: agents' thread replies and button clicks, through slack-bolt."""

    def __init__(
        self,
        client: AsyncWebClient,
        signing_secret: str | None,
        store: Store,
        tickets: Tickets,
        handoff: Handoff,
    ) -> None:
        self._client = client
        self._store = store
        self._tickets = tickets
        self._handoff = handoff
        self._names: dict[str, tuple[str, float]] = {}
        self._socket: AsyncSocketModeHandler | None = None
        # Socket Mode needs no signing secret (Slack's own WebSocket carries the events);
        # over HTTP bolt verifies every request with it.
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=signing_secret is not None,
            process_before_response=False,
        )
        self.app.event("message")(self._on_message)
        self.app.action("omnibot_claim")(self._on_claim)
        self.app.action("omnibot_resolve")(self._on_resolve)
        self.app.action("omnibot_back_to_bot")(self._on_back_to_bot)

    def routes(self) -> list[web.AbstractRouteDef]:
        """The Events API and interactivity endpoint."""
        return [web.post(EVENTS_PATH, self.handle)]

    async def connect(self, app_token: str) -> None:
        """Receive events over Socket Mode (for a workspace omnibot is not public to)."""
        self._socket = AsyncSocketModeHandler(self.app, app_token)
        await self._socket.connect_async()  # type: ignore[no-untyped-call]
        log.info("connected to Slack over Socket Mode")

    async def close(self) -> None:
        """Close the Socket Mode connection, if one is open."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None

    async def handle(self, request: web.Request) -> web.Response:
        """Hand the request to bolt (signature, ack, listeners) and its answer back."""
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:  # bolt parses the body before it checks the signature
            raise web.HTTPBadRequest(text="the body is neither JSON nor a form") from None
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        thread = event.get("thread_ts")
        if event.get("subtype") or event.get("bot_id") or not thread or thread == event.get("ts"):
            return  # edits, joins, bots (ourselves included), and messages outside threads
        if not await self._tickets.first_time("slack", str(body.get("event_id", event["ts"]))):
            return  # a retry of an event already handled
        channel, user = str(event["channel"]), str(event.get("user", ""))
        cid = await self._tickets.conversation_of_ticket(f"{channel}:{thread}")
        text = unescape(str(event.get("text", ""))).strip()
        if cid is None or not text or text.lower().startswith(NOTE_PREFIX):
            return  # not our thread, or an internal note
        refusal = await self._refusal(cid, text)
        outcome = (
            None if refusal else await self._handoff.agent_reply(cid, await self._name(user), text)
        )
        if outcome is AgentOutcome.CLOSED:
            refusal = CLOSED_TEXT
        if refusal:
            await self._ephemeral(channel, user, refusal, thread)

    async def _refusal(self, cid: str, text: str) -> str | None:
        """Why an agent's reply cannot go to the customer's channel as it is, if it cannot."""
        address = (await self._store.load(cid)).last_address
        if address is not None and address.channel == "webchat" and len(text) > WEBCHAT_MAX_CHARS:
            return TOO_LONG_TEXT.format(limit=WEBCHAT_MAX_CHARS, length=len(text))
        return None

    async def _on_claim(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        found = await self._ticket_of(body)
        if found is None:
            return
        cid, name = found
        outcome = await self._handoff.claim(cid, name)
        if outcome is AgentOutcome.TAKEN:
            agent = (await self._store.load(cid)).agent or "Another agent"
            await self._tell(body, TAKEN_TEXT.format(agent=agent))
        elif outcome is AgentOutcome.CLOSED:
            await self._tell(body, CLOSED_TEXT)

    async def _on_resolve(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await self._back_to_bot(body, resolved=True)

    async def _on_back_to_bot(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await self._back_to_bot(body, resolved=False)

    async def _back_to_bot(self, body: dict[str, Any], resolved: bool) -> None:
        found = await self._ticket_of(body)
        if found is None:
            return
        cid, name = found
        if await self._handoff.back_to_bot(cid, name, resolved=resolved) is AgentOutcome.CLOSED:
            await self._tell(body, CLOSED_TEXT)

    async def _ticket_of(self, body: dict[str, Any]) -> tuple[str, str] | None:
        """The conversation a button belongs to and the clicking agent's name, when the
        button sits on one of our tickets."""
        container = body.get("container") or {}
        ticket = f"{container.get('channel_id')}:{container.get('message_ts')}"
        value = str((body.get("actions") or [{}])[0].get("value", ""))
        cid = await self._tickets.conversation_of_ticket(ticket)
        if cid is None or cid != value:
            await self._tell(body, NOT_OURS_TEXT)
            return None
        return cid, await self._name(str(body["user"]["id"]))

    async def _tell(self, body: dict[str, Any], text: str) -> None:
        container = body.get("container") or {}
        await self._ephemeral(str(container.get("channel_id")), str(body["user"]["id"]), text, None)

    async def _ephemeral(self, channel: str, user: str, text: str, thread: str | None) -> None:
        try:
            await self._client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError):
            log.warning("could not tell an agent in %s: %s", channel, text)

    async def _name(self, user: str) -> str:
        """The agent's Slack display name (cached), else their real name, else their id."""
        cached = self._names.get(user)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        try:
            answer = await self._client.users_info(user=user)
        except (SlackApiError, aiohttp.ClientError, TimeoutError):
            return cached[0] if cached else user
        profile = (answer.get("user") or {}).get("profile") or {}
        name = str(profile.get("display_name") or profile.get("real_name") or user)
        self._names[user] = (name, time.monotonic() + NAME_CACHE_S)
        return name
