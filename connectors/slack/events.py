"""Agents' actions from Slack: thread replies and buttons, to the core's hand-off.

:class:`SlackEvents` mounts slack-bolt's ``AsyncApp`` at ``POST /slack/events`` through bolt's
aiohttp adapter (or, with an app-level token, on bolt's Socket Mode handler): bolt checks the
signature and the timestamp, acknowledges within Slack's 3 seconds, and then runs the
listeners, which translate a thread reply or a button click into a call of the core's
:class:`~bot.contracts.DeskActions` and show an agent why an action was refused. The tickets
themselves are :class:`connectors.slack.desk.SlackDesk`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.contracts import AgentOutcome, AgentResult, DeskActions
from bot.desk.actions import agent_text
from bot.desk.agent_text import is_note
from bot.desk.tickets import Tickets
from connectors.slack.payloads import body_text, check_payload, json_object, user_id
from connectors.slack.socket_mode import keep_trying, socket_handler
from connectors.slack.text import mentioned_users, plain_text

EVENTS_PATH = "/slack/events"
NAME_CACHE_S = 3600.0
MAX_MENTIONS = 10  # users.info lookups for one reply; more mentions keep their ids

log = logging.getLogger(__name__)


class SlackEvents:
    """``POST /slack/events``: agents' thread replies and button clicks, through slack-bolt."""

    def __init__(
        self,
        client: AsyncWebClient,
        signing_secret: str | None,
        tickets: Tickets,
        actions: DeskActions,
    ) -> None:
        """``tickets`` tells a Slack event seen before (Slack retries); ``actions`` acts."""
        self._client = client
        self._tickets = tickets
        self._actions = actions
        self._names: dict[str, tuple[str, float]] = {}
        self._socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None
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
        """Receive events over Socket Mode (for a workspace omnibot is not public to).

        Returns at once: the connection is made in the background and retried with backoff
        while Slack cannot be reached, so a desk outage never holds up the customer channels.
        """
        self._socket = socket_handler(self.app, app_token)
        self._connecting = asyncio.create_task(
            keep_trying(self._client, self._socket), name="slack-socket"
        )

    async def connected(self) -> bool:
        """Whether events can reach omnibot: over HTTP always (Slack calls us); in Socket
        Mode while the connection is up."""
        if self._socket is None:
            return True
        return bool(await self._socket.client.is_connected())

    async def close(self) -> None:
        """Stop connecting, and close the Socket Mode connection, if one is open."""
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
            self._connecting = None
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None

    async def handle(self, request: web.Request) -> web.Response:
        """Hand the request to bolt (signature, ack, listeners) and its answer back.

        Bolt parses the body before it checks the signature, and fails on anything but a JSON
        object: such a body is refused here, as is one not in UTF-8 (Slack's only charset).
        """
        body = await body_text(request)
        check_payload(body, request.content_type)
        bolt_request = AsyncBoltRequest(
            body=body,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        thread = event.get("thread_ts")
        if event.get("subtype") or event.get("bot_id") or not thread or thread == event.get("ts"):
            return  # edits, joins, bots (ourselves included), and messages outside threads
        if not await self._tickets.first_time("slack", str(body.get("event_id", event["ts"]))):
            return  # a retry of an event already handled
        channel, user = str(event.get("channel", "")), str(event.get("user", ""))
        ticket = f"{channel}:{thread}"
        cid = await self._actions.conversation_of(ticket)
        raw = str(event.get("text", ""))
        if cid is None or not raw.strip():
            return  # not our thread
        name = await self._name(user)
        if is_note(raw):  # kept with the conversation (the console shows it too)
            await self._actions.note(cid, name, plain_text(raw, {}).strip())
            return
        text = (await self._plain(raw)).strip()
        result = await self._actions.reply(cid, name, text, ticket=ticket)
        if result.refused:
            await self._ephemeral(channel, user, result.message, thread)

    async def _plain(self, raw: str) -> str:
        """An agent's Slack text as the customer reads it: mentions by name, links spelled out."""
        users = sorted(mentioned_users(raw))[:MAX_MENTIONS]
        names = {user: await self._name(user) for user in users}
        return plain_text(raw, names)

    async def _on_claim(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        found = await self._ticket_of(body)
        if found is None:
            return
        cid, name, ticket = found
        await self._told(body, await self._actions.claim(cid, name, ticket=ticket))

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
        cid, name, ticket = found
        step = self._actions.resolve if resolved else self._actions.back_to_bot
        await self._told(body, await step(cid, name, ticket=ticket))

    async def _ticket_of(self, body: dict[str, Any]) -> tuple[str, str, str] | None:
        """The conversation a button belongs to, the clicking agent's name and the ticket, when
        the button sits on one of our tickets."""
        container = json_object(body.get("container"))
        ticket = f"{container.get('channel_id')}:{container.get('message_ts')}"
        actions = body.get("actions")
        action = json_object(actions[0] if isinstance(actions, list) and actions else None)
        cid = await self._actions.conversation_of(ticket)
        if cid is None or cid != str(action.get("value", "")):
            await self._tell(body, agent_text(None, AgentOutcome.NOT_OURS))
            return None
        return cid, await self._name(user_id(body)), ticket

    async def _told(self, body: dict[str, Any], result: AgentResult) -> None:
        """Tell the clicking agent why their click changed nothing, if it did not."""
        if result.refused:
            await self._tell(body, result.message)

    async def _tell(self, body: dict[str, Any], text: str) -> None:
        container = json_object(body.get("container"))
        await self._ephemeral(str(container.get("channel_id")), user_id(body), text, None)

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
