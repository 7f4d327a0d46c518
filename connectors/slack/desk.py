"""Tickets as Slack threads: the core's ``AgentDesk`` on Slack's Web API.

A ticket is a parent message in the escalation channel (customer, channel, reason, the bot's
last guess, and buttons), with the latest of the transcript in its thread (the earlier messages
counted, and linked when the desk knows where the whole conversation is read); later customer
messages are
added to the thread and the parent is updated when the ticket is claimed or closed. Personal
data in everything posted is masked (:mod:`bot.redaction`, with the shop's ``REDACT_PATTERNS``
as ``patterns``). Failures become the core's :class:`DeliveryError`, so the desk queue
retries what can succeed.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.contracts import DeliveryError, TicketChange
from bot.models import Conversation, Message
from connectors.slack.blocks import ticket_blocks, ticket_view
from connectors.slack.transcript import TRANSCRIPT_MESSAGES, message_line, transcript_messages

TIMEOUT_S = 10
TRANSIENT_ERRORS = {
    "ratelimited",
    "service_unavailable",
    "fatal_error",
    "internal_error",
    "request_timeout",
}

T = TypeVar("T")
log = logging.getLogger(__name__)


def web_client(token: str, api_url: str) -> AsyncWebClient:
    """Slack's Web API client: ``api_url`` as its base, rate limits retried once."""
    return AsyncWebClient(
        token=token,
        base_url=api_url,
        timeout=TIMEOUT_S,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )


async def slack_call(call: Awaitable[T]) -> T:
    """Await a Web API call, turning its failures into the core's :class:`DeliveryError`."""
    try:
        return await call
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown"))
        status = error.response.status_code
        raise DeliveryError(
            f"Slack answered {status}: {code}",
            permanent=status < 500 and code not in TRANSIENT_ERRORS and status != 429,
        ) from error
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise DeliveryError(f"Slack unreachable: {type(error).__name__}") from error


def split_ticket(ticket: str) -> tuple[str, str]:
    """A ticket id ``<channel>:<thread ts>`` as its parts."""
    channel, _, ts = ticket.partition(":")
    return channel, ts


class SlackDesk:
    """Tickets as Slack threads: the parent message with buttons, the transcript below it.

    ``history_url`` is where agents read a whole conversation (the thread shows the latest
    ``keep`` messages); ``patterns`` are the shop's own redaction patterns, masked with the
    built-in kinds; ``reachable`` says whether Slack answered the last call.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        routes: Mapping[str, str] | None = None,
        history_url: str | None = None,
        keep: int = TRANSCRIPT_MESSAGES,
        patterns: Sequence[re.Pattern[str]] = (),
    ) -> None:
        self.client = client
        self._client = client
        self._channel = channel
        self._routes = dict(routes or {})
        self._history_url = history_url
        self._keep = keep
        self._patterns = tuple(patterns)
        self.reachable = True

    @classmethod
    def connect(
        cls,
        token: str,
        api_url: str,
        channel: str,
        routes: Mapping[str, str] | None = None,
        history_url: str | None = None,
        patterns: Sequence[re.Pattern[str]] = (),
    ) -> SlackDesk:
        """A desk talking to the Web API at ``api_url`` with the bot token."""
        client = web_client(token, api_url)
        return cls(client, channel, routes, history_url, patterns=patterns)

    async def _call(self, call: Awaitable[T]) -> T:
        """:func:`slack_call`, remembering whether Slack could be reached."""
        try:
            answer = await slack_call(call)
        except DeliveryError as error:
            cause = error.__cause__  # a refusal or a rate limit: Slack is there all the same
            self.reachable = isinstance(cause, SlackApiError) and cause.response.status_code < 500
            raise
        self.reachable = True
        return answer

    async def open_ticket(self, conversation: Conversation, reason: str) -> str:
        """Post the parent message, then the transcript's latest messages in its thread."""
        escalation = conversation.escalation
        channel = (
            self._routes.get(escalation.intent or "", self._channel)
            if escalation
            else self._channel
        )
        view = ticket_view(
            conversation,
            reason,
            escalated_at=escalation.at if escalation else time.time(),
            intent=escalation.intent if escalation else None,
            confidence=escalation.confidence if escalation else None,
            detail=escalation.detail if escalation else None,
            previous_thread=await self._permalink(conversation.previous_ticket),
            patterns=self._patterns,
        )
        text, blocks = ticket_blocks(view)
        parent = await self._call(
            self._client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False
            )
        )
        ts = str(parent["ts"])
        # the console opens the conversation named after "#"
        history = f"{self._history_url}#{conversation.id}" if self._history_url else None
        transcript = transcript_messages(
            conversation.messages, keep=self._keep, history_url=history, patterns=self._patterns
        )
        for part_text, part_blocks in transcript:
            await self._call(
                self._client.chat_postMessage(
                    channel=channel,
                    thread_ts=ts,
                    text=part_text,
                    blocks=part_blocks,
                    unfurl_links=False,
                )
            )
        return f"{parent['channel']}:{ts}"

    async def post(self, ticket: str, message: Message) -> None:
        """Add a later message to the ticket's thread."""
        channel, ts = split_ticket(ticket)
        text, blocks = message_line(message, patterns=self._patterns)
        await self._call(
            self._client.chat_postMessage(
                channel=channel, thread_ts=ts, text=text, blocks=blocks, unfurl_links=False
            )
        )

    async def update_ticket(
        self, ticket: str, conversation: Conversation, change: TicketChange
    ) -> None:
        """Show who claimed or closed the ticket, and when, on its parent message."""
        channel, ts = split_ticket(ticket)
        escalation = conversation.escalation
        view = ticket_view(
            conversation,
            escalation.reason if escalation else "",
            escalated_at=escalation.at if escalation else change.at,
            intent=escalation.intent if escalation else None,
            confidence=escalation.confidence if escalation else None,
            detail=escalation.detail if escalation else None,
            patterns=self._patterns,
        )
        view = replace(view, status=change.status, agent=change.agent, status_at=change.at)
        text, blocks = ticket_blocks(view)
        await self._call(self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks))

    async def _permalink(self, ticket: str | None) -> str | None:
        if ticket is None:
            return None
        channel, ts = split_ticket(ticket)
        try:
            answer = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, aiohttp.ClientError, TimeoutError):
            log.warning("no permalink for the earlier ticket %s", ticket)
            return None
        return str(answer["permalink"])
