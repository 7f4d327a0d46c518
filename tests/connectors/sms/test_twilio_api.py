"""The Twilio REST client against the local fake of Twilio's API."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.sms.twilio_api import RECENT_LIMIT, Created, SendError, TwilioMessages
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

FROM = "+15550000001"
TO = "+15557654321"
SERVICE_SID = "MG" + "a" * 32
CALLBACK = "https://bot.example.com/sms/twilio/status"


@pytest.fixture
async def messages(twilio_api: FakeTwilio) -> AsyncIterator[TwilioMessages]:
    """A client sending from ``FROM`` through the fake."""
    client = TwilioMessages(
        ACCOUNT_SID, AUTH_TOKEN, twilio_api.url, from_number=FROM, messaging_service_sid=None
    )
    yield client
    await client.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port nothing listens on (bound but never listening, so no one takes it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def send(messages: TwilioMessages) -> SendError:
    with pytest.raises(SendError) as caught:
        await messages.create(TO, "Hello", None)
    return caught.value


async def test_a_message_is_created(twilio_api: FakeTwilio, messages: TwilioMessages) -> None:
    sid = await messages.create(TO, "Your order has shipped.", CALLBACK)
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)
    [call] = twilio_api.calls
    assert call.status == 201
    assert call.form == {
        "To": TO,
        "From": FROM,
        "Body": "Your order has shipped.",
        "StatusCallback": CALLBACK,
    }


async def test_requests_carry_the_account_credentials() -> None:
    app = web.Application()
    seen: list[web.Request] = []

    async def create(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"sid": "SM" + "0" * 32}, status=201)

    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", create)
    async with TestServer(app, host="127.0.0.1") as server:
        client = TwilioMessages(
            ACCOUNT_SID,
            AUTH_TOKEN,
            f"http://127.0.0.1:{server.port}/",
            from_number=FROM,
            messaging_service_sid=None,
        )
        await client.create(TO, "Hi", None)
        await client.close()
    [request] = seen
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.content_type == "application/x-www-form-urlencoded"


async def test_no_status_callback_sends_none(
    twilio_api: FakeTwilio, messages: TwilioMessages
) -> None:
    await messages.create(TO, "Hi", None)
    assert "StatusCallback" not in twilio_api.calls[0].form


async def test_a_messaging_service_replaces_the_from_number(twilio_api: FakeTwilio) -> None:
    client = TwilioMessages(
        ACCOUNT_SID, AUTH_TOKEN, twilio_api.url, from_number=FROM, messaging_service_sid=SERVICE_SID
    )
    await client.create(TO, "Hi", None)
    await client.close()
    assert twilio_api.calls[0].form == {"To": TO, "MessagingServiceSid": SERVICE_SID, "Body": "Hi"}


def test_a_sender_is_required() -> None:
    with pytest.raises(ValueError, match="from number"):
        TwilioMessages(
            ACCOUNT_SID,
            AUTH_TOKEN,
            "http://127.0.0.1:9",
            from_number=None,
            messaging_service_sid=None,
        )


async def test_too_many_requests_is_transient_with_retry_after(
    twilio_api: FakeTwilio, messages: TwilioMessages
) -> None:
    twilio_api.fail_next(status=429, code=20429, retry_after=1.5)
    error = await send(messages)
    assert (error.status, error.code, error.retry_after, error.permanent) == (
        429,
        20429,
        1.5,
        False,
    )
    assert len(twilio_api.calls) == 1  # no retry of its own


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    twilio_api: FakeTwilio, messages: TwilioMessages, status: int
) -> None:
    twilio_api.fail_next(status=status)
    error = await send(messages)
    assert (error.status, error.retry_after, error.permanent) == (status, None, False)
    assert error.maybe_sent  # a server error does not prove nothing was created
    assert len(twilio_api.calls) == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21610, "Attempt to send to unsubscribed recipient"),
        (21211, "The 'To' number +1555 is not a valid phone number."),
        (21408, "Permission to send an SMS has not been enabled for the region indicated"),
        (21614, "'To' number is not a valid mobile number"),
    ],
)
async def test_client_errors_are_permanent(
    twilio_api: FakeTwilio, messages: TwilioMessages, code: int, message: str
) -> None:
    twilio_api.fail_next(status=400, code=code, message=message)
    error = await send(messages)
    assert (error.status, error.code, error.permanent) == (400, code, True)
    assert message in str(error)


async def test_wrong_credentials_are_permanent_and_never_echoed(twilio_api: FakeTwilio) -> None:
    token = "wrong-token-" + "9" * 20
    client = TwilioMessages(
        ACCOUNT_SID, token, twilio_api.url, from_number=FROM, messaging_service_sid=None
    )
    error = await send(client)
    await client.close()
    assert (error.status, error.code, error.permanent) == (401, 20003, True)
    assert token not in str(error)
    assert token not in repr(error.args)


async def test_the_token_stays_out_of_logs(
    twilio_api: FakeTwilio, messages: TwilioMessages, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await messages.create(TO, "Hi", None)
    twilio_api.fail_next(status=400, code=21610)
    await send(messages)
    assert caplog.records  # twilio logs each request at INFO
    assert AUTH_TOKEN not in caplog.text
    assert base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode() not in caplog.text


async def test_failing_for_a_while(twilio_api: FakeTwilio, messages: TwilioMessages) -> None:
    twilio_api.failing = True
    assert (await send(messages)).permanent is False
    twilio_api.failing = False
    assert await messages.create(TO, "Hi", None)
    assert [call.status for call in twilio_api.calls] == [500, 201]


async def test_a_closed_port_is_transient(closed_port: int) -> None:
    client = TwilioMessages(
        ACCOUNT_SID,
        AUTH_TOKEN,
        f"http://127.0.0.1:{closed_port}",
        from_number=FROM,
        messaging_service_sid=None,
    )
    error = await send(client)
    await client.close()
    assert (error.status, error.code, error.permanent, error.maybe_sent) == (
        None,
        None,
        False,
        False,  # no connection, nothing sent
    )
    assert AUTH_TOKEN not in str(error)
    assert AUTH_TOKEN not in str(error.__cause__)


async def test_a_hung_api_times_out_as_transient() -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=201)

    async with api_answering(hang, timeout_s=0.2) as client:
        error = await send(client)
        release.set()
    assert (error.status, error.permanent, error.maybe_sent) == (None, False, True)


async def error_from(answer: web.Response) -> SendError:
    """The SendError a create call raises when the API answers ``answer``."""

    async def create(request: web.Request) -> web.Response:
        return answer

    async with api_answering(create) as client:
        return await send(client)


@contextlib.asynccontextmanager
async def api_answering(
    create: Callable[[web.Request], Awaitable[web.Response]], **options: float
) -> AsyncIterator[TwilioMessages]:
    """A client of a local API whose Messages create call is ``create``."""
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", create)
    async with TestServer(app, host="127.0.0.1") as server:
        client = TwilioMessages(
            ACCOUNT_SID,
            AUTH_TOKEN,
            f"http://127.0.0.1:{server.port}",
            from_number=FROM,
            messaging_service_sid=None,
            **options,
        )
        try:
            yield client
        finally:
            await client.close()


async def test_an_html_error_page_still_classifies() -> None:
    page = web.Response(status=502, text="<html>Bad gateway</html>", content_type="text/html")
    error = await error_from(page)
    assert (error.status, error.code, error.permanent) == (502, None, False)


@pytest.mark.parametrize("text", ["", "not json", '{"status": "queued"}'])
async def test_an_accepted_answer_without_a_sid_is_permanent(text: str) -> None:
    error = await error_from(web.Response(status=201, text=text, content_type="application/json"))
    assert (error.status, error.permanent) == (None, True)  # a retry might send it twice


async def test_recent_lists_a_numbers_messages_since_a_time(
    twilio_api: FakeTwilio, messages: TwilioMessages
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    first = await messages.create(TO, "one", None)
    await messages.create("+15550009999", "elsewhere", None)
    second = await messages.create(TO, "two", None)
    assert await messages.recent(TO, before) == [Created(second, "two"), Created(first, "one")]
    assert await messages.recent(TO, datetime.now(UTC) + timedelta(seconds=60)) == []


async def test_recent_looks_at_the_newest_messages_only(
    twilio_api: FakeTwilio, messages: TwilioMessages
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    for n in range(RECENT_LIMIT + 5):
        await messages.create(TO, f"m{n}", None)
    found = await messages.recent(TO, before)
    assert [m.body for m in found] == [f"m{n}" for n in range(RECENT_LIMIT + 4, 4, -1)]


async def test_recent_fails_as_transient_while_twilio_fails(
    twilio_api: FakeTwilio, messages: TwilioMessages
) -> None:
    twilio_api.failing = True
    with pytest.raises(SendError) as caught:
        await messages.recent(TO, datetime.now(UTC))
    assert (caught.value.status, caught.value.permanent) == (500, False)
