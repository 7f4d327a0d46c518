"""Slack events over Socket Mode (for a workspace omnibot is not public to): the connection
is opened in the background and retried with backoff while Slack cannot be reached, one log
line a failure."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

RECONNECT_FIRST_S = 1.0  # Socket Mode: the first wait after a failed connection, doubled after
RECONNECT_MAX_S = 60.0
CONNECT_TIMEOUT_S = 30.0
# the logger names of connectors.slack.events, where this code was first: log filters and
# levels set for them keep applying
EVENTS_LOGGER = "connectors.slack.events"

log = logging.getLogger(EVENTS_LOGGER)


def socket_handler(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Bolt's Socket Mode handler for ``app``, its own log lines without tracebacks."""
    socket_logger = logging.getLogger(f"{EVENTS_LOGGER}.socket")
    socket_logger.addFilter(_no_traceback)
    return AsyncSocketModeHandler(app, app_token, logger=socket_logger)


async def keep_trying(client: AsyncWebClient, socket: AsyncSocketModeHandler) -> None:
    """Connect over Socket Mode, retrying with backoff; one log line per failure."""
    delay = RECONNECT_FIRST_S
    while True:
        try:
            # asked here rather than by the SDK, which logs each failure once more
            opened = await client.apps_connections_open(app_token=socket.app_token)
            socket.client.wss_uri = str(opened["url"])
            await asyncio.wait_for(socket.connect_async(), CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning(
                "cannot connect to Slack over Socket Mode (%s); retrying in %.0f s",
                _reason(error),
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)
            continue
        log.info("connected to Slack over Socket Mode")
        return


def _reason(error: BaseException) -> str:
    """A failure in a few words, for a one-line log."""
    if isinstance(error, SlackApiError):
        return f"Slack answered {error.response.get('error', 'an error')}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _no_traceback(record: logging.LogRecord) -> bool:
    """Socket Mode's own retries log a whole traceback each time: keep its one line."""
    record.exc_info = None
    record.exc_text = None
    return True
