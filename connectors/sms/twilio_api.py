"""Sending SMS through Twilio's REST API: the only module that calls Twilio's REST client (the
connector uses the library only to check webhook signatures).

``TwilioMessages.create`` is one Messages create call with no retries of its own (the outbox
retries); every failure becomes a :class:`SendError` that says whether retrying can help.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import (
    AsyncTwilioHttpClient,
)
from twilio.http.response import Response
from twilio.rest import Client

DEFAULT_API_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_S = 10.0
RECENT_LIMIT = 50  # messages to one number looked at when an earlier try's outcome is unknown
# twilio falls back to os.environ for an empty mapping; a stray TWILIO_EDGE or TWILIO_REGION
# there would rewrite the host of the configured API root.
NO_ENVIRONMENT = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}


@dataclass(frozen=True)
class Created:
    """A message Twilio holds: its SID and body."""

    sid: str
    body: str


class SendError(Exception):
    """A message Twilio did not accept; ``permanent`` says a retry cannot help.

    ``code`` is Twilio's error code (e.g. 21610, unsubscribed recipient) and ``retry_after``
    the seconds a 429 asked us to wait, when it said. ``maybe_sent``: Twilio may have created
    the message all the same (a timeout, a cut connection, a server error).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.permanent = permanent
        self.maybe_sent = maybe_sent


class _HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc, unused-ignore]
    """Twilio's aiohttp client, with its timeout applied and HTTP failures raised here,
    where the status and headers (Retry-After) are still at hand."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's signature
        allow_redirects: bool = False,
    ) -> Response:
        # The async client ignores its own timeout and passes None, which aiohttp reads as
        # "no timeout at all"; a hung request would hold the outbox forever.
        timeout = timeout if timeout is not None else self.timeout
        if auth is not None:
            # aiohttp 3.14 deprecates auth=BasicAuth (twilio's way); the header is the same
            # bytes, and twilio's request log leaves out any Authorization header.
            headers = {**(headers or {}), "Authorization": _basic_auth(*auth)}
        try:
            response = await super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=None,
                timeout=timeout,
                allow_redirects=allow_redirects,
            )
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            raise SendError(f"Twilio unreachable: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"Twilio unreachable: {type(exc).__name__}", maybe_sent=True) from exc
        if not 200 <= response.status_code < 300:
            raise _http_error(response.status_code, response.text, response.headers or {})
        return response


class TwilioMessages:
    """Creates outbound messages with Twilio's async REST client.

    Build it inside the running event loop (its aiohttp session needs one) and ``close()`` it
    on shutdown. With ``messaging_service_sid`` set, Twilio picks the sender from the service
    and ``from_number`` is not sent.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_url: str = DEFAULT_API_URL,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("a from number or a messaging service SID is required")
        # max_retries=None keeps aiohttp-retry's RetryClient out: the outbox owns retries.
        self._http = _HttpClient(timeout=timeout_s, max_retries=None)
        self._client = Client(
            account_sid, auth_token, http_client=self._http, environment=NO_ENVIRONMENT
        )
        # The Api domain's base_url is the root every api.twilio.com path is joined to.
        self._client.api.base_url = api_url
        self._sender: dict[str, str] = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_number or ""}
        )

    async def create(self, to: str, body: str, status_callback: str | None = None) -> str:
        """Send ``body`` to ``to``; return the new message's SID."""
        try:
            message = await self._client.messages.create_async(
                to=to, body=body, status_callback=status_callback, **self._sender
            )
        except (TwilioException, ValueError) as exc:
            # A 2xx we cannot read: the message may well exist, so a retry could double it.
            raise SendError(
                f"unreadable answer from Twilio: {type(exc).__name__}", permanent=True
            ) from exc
        sid = message.sid
        if not isinstance(sid, str) or not sid:
            raise SendError("Twilio's answer had no message SID", permanent=True)
        return sid

    async def recent(self, to: str, since: datetime) -> list[Created]:
        """The messages created for ``to`` since ``since`` (at most ``RECENT_LIMIT``, newest
        first): what an earlier try whose answer was lost may have sent."""
        try:
            records = await self._client.messages.list_async(to=to, limit=RECENT_LIMIT)
        except (TwilioException, ValueError) as exc:
            raise SendError(f"unreadable message list from Twilio: {type(exc).__name__}") from exc
        return [
            Created(sid=record.sid, body=record.body or "")
            for record in records
            if record.sid and record.date_created is not None and record.date_created >= since
        ]

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._http.close()


def _basic_auth(login: str, password: str) -> str:
    """An HTTP basic Authorization header value (latin-1, as aiohttp's BasicAuth encodes)."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode("latin-1")).decode("ascii")


def _http_error(status: int, text: str, headers: Mapping[str, str]) -> SendError:
    """A :class:`SendError` for an HTTP error answer, from Twilio's JSON error body."""
    payload = _json_object(text)
    code = payload.get("code")
    detail = payload.get("message") or payload.get("detail") or payload.get("title")
    message = f"Twilio answered {status}" + (f" (code {code})" if code else "")
    if isinstance(detail, str) and detail:
        message += f": {detail}"
    transient = status == 429 or status >= 500
    return SendError(
        message,
        status=status,
        code=code if isinstance(code, int) else None,
        retry_after=_retry_after(headers.get("Retry-After")) if status == 429 else None,
        permanent=400 <= status < 500 and not transient,
        maybe_sent=status >= 500,
    )


def _json_object(text: str) -> dict[str, Any]:
    """``text`` as a JSON object, or empty when it is not one (e.g. a proxy's HTML page)."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
