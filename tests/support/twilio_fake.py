"""A local fake of Twilio's REST API (Messages create and list), for pointing the real client at.

Serves ``POST`` and ``GET /2010-04-01/Accounts/{AccountSid}/Messages.json`` on 127.0.0.1 with
the real API's form fields, query filters (``To``, ``From``, ``PageSize``, ``Page``), basic
auth, JSON bodies, page shape and error shape; records every create call and answers scripted
failures and late answers on demand.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from types import TracebackType
from typing import Any

from aiohttp import BasicAuth, web
from aiohttp.test_utils import TestServer
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from connectors.sms.text import MAX_BODY_CHARS, segments

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-" + "f" * 16
API_VERSION = "2010-04-01"
MORE_INFO = "https://www.twilio.com/docs/errors/{code}"
DEFAULT_MESSAGES = {
    401: "Authenticate",
    404: "The requested resource was not found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Failure:
    """A scripted error answer: HTTP status, Twilio error code and message, Retry-After."""

    status: int
    code: int | None = None
    message: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Call:
    """One create call the fake received: its form fields, when (monotonic seconds), and the
    status it was answered with."""

    form: dict[str, str]
    at: float
    status: int
    sid: str | None = None  # the created message's SID (201 answers only)

    def __getitem__(self, name: str) -> str:
        return self.form[name]


class FakeTwilio:
    """Twilio's Messages API on a free local port; ``url`` is the API root once started.

    Use as ``async with FakeTwilio() as fake:``. ``fail_next(...)`` queues one failure per
    create call; while ``failing`` is true every call gets ``failure`` (a 500 unless
    replaced); ``answer_late(s)`` creates the next message but answers only ``s`` seconds
    later (what a client that timed out, or died, never hears). ``created`` holds the Message
    resources, ``lookups`` the query of each list call.
    """

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.failing = False
        self.failure = Failure(500)
        self.calls: list[Call] = []
        self.created: list[dict[str, Any]] = []
        self.lookups: list[dict[str, str]] = []  # the query of every list call
        self._scripted: deque[Failure] = deque()
        self._late: deque[float] = deque()
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:54321`` (what ``TWILIO_API_URL`` takes)."""
        if self._server is None or self._server.port is None:
            raise RuntimeError("the fake is not started")
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def sent(self) -> list[Call]:
        """The calls that created a message (answered 201)."""
        return [call for call in self.calls if call.status == 201]

    def fail_next(
        self,
        status: int,
        code: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next not-yet-scripted create call with this error."""
        self._scripted.append(Failure(status, code, message, retry_after))

    def answer_late(self, seconds: float) -> None:
        """Create the next message as asked, but answer the call ``seconds`` later."""
        self._late.append(seconds)

    async def start(self) -> None:
        """Serve on 127.0.0.1, on a free port."""
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account_sid}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{account_sid}/Messages.json", self._list)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        """Stop serving."""
        if self._server is not None:
            await self._server.close()

    async def __aenter__(self) -> FakeTwilio:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _create(self, request: web.Request) -> web.Response:
        posted = await request.post()
        form = {name: str(value) for name, value in posted.items()}
        response, sid = self._answer(request, form)
        self.calls.append(Call(form, time.monotonic(), response.status, sid))
        if sid is not None and self._late:
            await asyncio.sleep(self._late.popleft())
        return response

    async def _list(self, request: web.Request) -> web.Response:
        """A page of the created messages, newest first, filtered as Twilio filters."""
        if not self._authorized(request):
            return _error(Failure(401, 20003))
        if request.match_info["account_sid"] != self.account_sid:
            return _error(Failure(404, 20404))
        query = request.query
        self.lookups.append(dict(query))
        if self.failing:
            return _error(self.failure)
        size = min(int(query.get("PageSize", "50")), 1000)
        found = [
            m
            for m in reversed(self.created)
            if query.get("To", m["to"]) == m["to"] and query.get("From", m["from"]) == m["from"]
        ]
        page = int(query.get("Page", "0"))
        shown = found[page * size : (page + 1) * size]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json?PageSize={size}&Page="
        more = len(found) > (page + 1) * size
        return web.json_response(
            {
                "messages": shown,
                "start": page * size,
                "end": page * size + max(0, len(shown) - 1),
                "page": page,
                "page_size": size,
                "uri": f"{uri}{page}",
                "first_page_uri": f"{uri}0",
                "previous_page_uri": f"{uri}{page - 1}" if page else None,
                "next_page_uri": f"{uri}{page + 1}" if more else None,
            }
        )

    def _answer(
        self, request: web.Request, form: dict[str, str]
    ) -> tuple[web.Response, str | None]:
        failure = self._failure(request, form)
        if failure is not None:
            return _error(failure), None
        message = self._message(form)
        self.created.append(message)
        return web.json_response(message, status=201), str(message["sid"])

    def _failure(self, request: web.Request, form: dict[str, str]) -> Failure | None:
        if not self._authorized(request):
            return Failure(401, 20003)
        if request.match_info["account_sid"] != self.account_sid:
            return Failure(404, 20404)
        if self._scripted:
            return self._scripted.popleft()
        if self.failing:
            return self.failure
        return _validate(form)

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            return False
        return (auth.login, auth.password) == (self.account_sid, self.auth_token)

    def _message(self, form: dict[str, str]) -> dict[str, Any]:
        """The Message resource as Twilio answers a create."""
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        service = form.get("MessagingServiceSid")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            # a messaging service picks the sender later, so the answer has none yet
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(segments(form["Body"])),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and "From" not in form else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }


def _validate(form: dict[str, str]) -> Failure | None:
    """The checks Twilio makes on the fields omnibot sends."""
    if not form.get("To"):
        return Failure(400, 21604, "A 'To' phone number is required.")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return Failure(400, 21603, "A 'From' phone number is required.")
    if not form.get("Body"):
        return Failure(400, 21602, "Message body is required.")
    if len(form["Body"]) > MAX_BODY_CHARS:
        return Failure(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    return None


def _error(failure: Failure) -> web.Response:
    """Twilio's error body: ``{"code", "message", "more_info", "status"}``."""
    code = failure.code if failure.code is not None else failure.status
    body = {
        "code": code,
        "message": failure.message or DEFAULT_MESSAGES.get(failure.status, "Error"),
        "more_info": MORE_INFO.format(code=code),
        "status": failure.status,
    }
    headers = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = f"{failure.retry_after:g}"
    return web.json_response(body, status=failure.status, headers=headers)


def inbound_form(
    sid: str,
    sender: str,
    body: str,
    to: str = "+15550000100",
    media: tuple[tuple[str, str], ...] = (),
) -> dict[str, str]:
    """The form Twilio posts to an "a message comes in" webhook (the fields that matter)."""
    form = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": str(len(media)),
        "NumSegments": "1",
        "ApiVersion": API_VERSION,
        "SmsStatus": "received",
    }
    for i, (url, content_type) in enumerate(media):
        form[f"MediaUrl{i}"], form[f"MediaContentType{i}"] = url, content_type
    return form


def status_form(
    sid: str,
    status: str,
    to: str,
    error_code: str | None = None,
    sender: str = "+15550000100",
) -> dict[str, str]:
    """The form Twilio posts to a message's status callback."""
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": to,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": API_VERSION,
    }
    if error_code is not None:
        form["ErrorCode"] = error_code
    return form


def signature(
    url: str, form: Mapping[str, str] | MultiDict[str], auth_token: str = AUTH_TOKEN
) -> dict[str, str]:
    """The ``X-Twilio-Signature`` header Twilio would send, computed by twilio's own code
    (a :class:`MultiDict` signs repeated fields as twilio does)."""
    return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, form)}
