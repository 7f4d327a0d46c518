"""The SMS connector's edge: signatures, the form, TwiML, status callbacks, bad input."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from multidict import MultiDict

from bot.delivery.records import DeliveryRecord
from bot.models import Address
from bot.pipeline.lanes import queued_work
from bot.storage.keys import ANSWER_STATUS_PREFIX, ANSWERING_KEY, WORK_STREAMS
from omnibot.services import SERVICES
from tests.conftest import PUBLIC_URL, AppFactory
from tests.support.polling import work_done
from tests.support.twilio_fake import FakeTwilio, inbound_form, signature, status_form

ClientFactory = Any
WEBHOOK = f"{PUBLIC_URL}/sms/twilio"
STATUS = f"{PUBLIC_URL}/sms/twilio/status"
CUSTOMER = "+15557654321"
VICTIM = "+15559990000"


@pytest.fixture
def app(make_app: AppFactory, sms_settings: dict[str, object]) -> web.Application:
    return make_app(**sms_settings)


async def post(
    client: Any, form: dict[str, str], headers: dict[str, str], path: str = "/sms/twilio"
) -> Any:
    return await client.post(path, data=form, headers=headers)


async def settle(app: web.Application) -> None:
    await work_done(app)


async def test_a_signed_message_gets_empty_twiml_and_one_reply(
    aiohttp_client: ClientFactory, app: web.Application, twilio_api: FakeTwilio
) -> None:
    client = await aiohttp_client(app)
    form = inbound_form("SM" + "1" * 32, CUSTOMER, "where is my order?")
    response = await post(client, form, signature(WEBHOOK, form))
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert (await response.text()).endswith("<Response/>")
    await settle(app)
    [call] = twilio_api.sent
    assert (call["To"], call["From"]) == (CUSTOMER, "+15550000100")
    assert "order number" in call["Body"]
    assert call["StatusCallback"] == STATUS


@pytest.mark.parametrize("forgery", ["unsigned", "wrong token", "other url", "changed body"])
async def test_forged_requests_are_refused_and_store_nothing(
    aiohttp_client: ClientFactory,
    app: web.Application,
    twilio_api: FakeTwilio,
    redis_client: aioredis.Redis,
    forgery: str,
) -> None:
    client = await aiohttp_client(app)
    form = inbound_form("SM" + "2" * 32, CUSTOMER, "where is my order?")
    headers = {
        "unsigned": {},
        "wrong token": signature(WEBHOOK, form, auth_token="not-the-token"),
        "other url": signature(f"{client.make_url('/sms/twilio')}", form),
        "changed body": signature(WEBHOOK, {**form, "Body": "something else"}),
    }[forgery]
    response = await post(client, form, headers)
    assert response.status == 403
    await settle(app)
    # the work streams, created empty at start-up, and the answer role's liveness beat and status
    keys = {str(key) for key in await redis_client.keys("*")}
    statuses = {key for key in keys if key.startswith(ANSWER_STATUS_PREFIX)}
    assert keys - statuses == {ANSWERING_KEY, *WORK_STREAMS}
    assert await queued_work(redis_client) == 0
    assert twilio_api.calls == []


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"From": ""}, 400),
        ({"MessageSid": ""}, 400),
        ({"From": "not a number!"}, 400),
        ({"Body": "x" * 1601}, 400),
        ({"Body": "   "}, 400),
        ({"NumMedia": "many"}, 400),
        ({"NumMedia": "1"}, 400),
    ],
)
async def test_a_signed_form_that_is_not_a_message_gets_a_clear_4xx(
    aiohttp_client: ClientFactory,
    app: web.Application,
    redis_client: aioredis.Redis,
    change: dict[str, str],
    status: int,
) -> None:
    client = await aiohttp_client(app)
    form = {**inbound_form("SM" + "3" * 32, CUSTOMER, "hello"), **change}
    response = await post(client, form, signature(WEBHOOK, form))
    assert response.status == status
    assert await redis_client.keys("conv:*") == []


async def test_a_body_that_is_not_a_form_is_refused(
    aiohttp_client: ClientFactory, app: web.Application
) -> None:
    client = await aiohttp_client(app)
    response = await client.post("/sms/twilio", json={"From": CUSTOMER, "Body": "hi"})
    assert response.status == 415


@pytest.mark.parametrize("sender", ["72345", "ShopAlerts"])
async def test_short_codes_and_sender_ids_are_stored_as_they_are(
    aiohttp_client: ClientFactory, app: web.Application, sender: str
) -> None:
    client = await aiohttp_client(app)
    form = inbound_form("SM" + "4" * 32, sender, "hello")
    assert (await post(client, form, signature(WEBHOOK, form))).status == 200
    store = app[SERVICES].store
    assert await store.customer_for(Address("sms", sender)) is not None


async def test_without_an_auth_token_there_is_no_sms_route(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app())
    form = inbound_form("SM" + "5" * 32, CUSTOMER, "hello")
    assert (await post(client, form, {})).status == 404


async def test_status_callbacks_are_recorded_and_counted(
    aiohttp_client: ClientFactory, app: web.Application, twilio_api: FakeTwilio
) -> None:
    client = await aiohttp_client(app)
    form = inbound_form("SM" + "6" * 32, CUSTOMER, "hello")
    await post(client, form, signature(WEBHOOK, form))
    await settle(app)
    sid = twilio_api.sent[0].sid
    assert sid is not None
    report = status_form(sid, "undelivered", CUSTOMER, error_code="30003")
    assert (await post(client, report, {}, "/sms/twilio/status")).status == 403
    response = await post(client, report, signature(STATUS, report), "/sms/twilio/status")
    assert response.status == 204
    services = app[SERVICES]
    cid = await services.store.customer_for(Address("sms", CUSTOMER))
    assert cid is not None
    reply = (await services.store.load(cid)).messages[-1]
    record = await services.deliveries.get(cid, reply.id)
    assert record is not None
    assert (record["status"], record.get("error_code"), record["vendor_id"]) == (
        "undelivered",
        30003,
        sid,
    )
    metrics = await (await client.get("/metrics")).text()
    assert 'omnibot_delivery_status_total{channel="sms",status="undelivered"} 1.0' in metrics


async def test_a_number_over_its_rate_limit_gets_429_with_retry_after(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    sms_settings: dict[str, object],
    twilio_api: FakeTwilio,
) -> None:
    app = make_app(**sms_settings, messages_per_minute=2)
    client = await aiohttp_client(app)
    statuses = []
    for n in range(3):
        form = inbound_form(f"SM{n:032d}", CUSTOMER, "hello")
        response = await post(client, form, signature(WEBHOOK, form))
        statuses.append(response.status)
    assert statuses == [200, 200, 429]
    assert 0 < int(response.headers["Retry-After"]) <= 60
    await settle(app)
    assert len(twilio_api.sent) == 2


@pytest.mark.parametrize("field", ["From", "Body", "MessageSid", "To", "AccountSid"])
async def test_a_signed_form_with_a_repeated_field_is_refused(
    aiohttp_client: ClientFactory,
    app: web.Application,
    redis_client: aioredis.Redis,
    twilio_api: FakeTwilio,
    field: str,
) -> None:
    client = await aiohttp_client(app)
    form = MultiDict(inbound_form("SM" + "7" * 32, CUSTOMER, "STOP"))
    form.add(field, {"From": VICTIM, "Body": "START"}.get(field, form[field]))
    # twilio's signature sorts the values: it holds whichever order they come in
    assert signature(WEBHOOK, form) == signature(WEBHOOK, MultiDict(reversed(list(form.items()))))
    response = await client.post(
        "/sms/twilio", data=list(form.items()), headers=signature(WEBHOOK, form)
    )
    assert response.status == 400
    assert field in await response.text()
    assert await redis_client.keys("conv:*") == []
    assert await redis_client.keys("optout:*") == []


async def test_a_status_report_with_a_repeated_field_is_refused(
    aiohttp_client: ClientFactory, app: web.Application, twilio_api: FakeTwilio
) -> None:
    client = await aiohttp_client(app)
    sid = await _answered_sid(client, app, twilio_api)
    report = MultiDict(status_form(sid, "failed", CUSTOMER, error_code="30003"))
    report.add("MessageStatus", "delivered")
    signed = signature(STATUS, report)
    response = await client.post("/sms/twilio/status", data=list(report.items()), headers=signed)
    assert response.status == 400
    assert (await _reply_record(app))["status"] == "sent"


@pytest.mark.parametrize(
    "change",
    [{"AccountSid": "AC" + "9" * 32}, {"AccountSid": ""}, {"To": "+15550000999"}],
)
async def test_a_signed_message_for_another_account_or_number_is_refused(
    aiohttp_client: ClientFactory,
    app: web.Application,
    redis_client: aioredis.Redis,
    change: dict[str, str],
) -> None:
    client = await aiohttp_client(app)
    form = {**inbound_form("SM" + "8" * 32, CUSTOMER, "hello"), **change}
    response = await post(client, form, signature(WEBHOOK, form))
    assert response.status == 403
    assert await redis_client.keys("conv:*") == []


@pytest.mark.parametrize("change", [{"AccountSid": "AC" + "9" * 32}, {"From": "+15550000999"}])
async def test_a_signed_status_report_for_another_account_or_number_is_refused(
    aiohttp_client: ClientFactory,
    app: web.Application,
    twilio_api: FakeTwilio,
    change: dict[str, str],
) -> None:
    client = await aiohttp_client(app)
    sid = await _answered_sid(client, app, twilio_api)
    report = {**status_form(sid, "failed", CUSTOMER), **change}
    response = await post(client, report, signature(STATUS, report), "/sms/twilio/status")
    assert response.status == 403
    assert (await _reply_record(app))["status"] == "sent"


async def test_with_a_messaging_service_any_pool_number_but_only_that_service_is_taken(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    sms_settings: dict[str, object],
) -> None:
    service = "MG" + "1" * 32
    settings = {**sms_settings, "twilio_from_number": None}
    app = make_app(**settings, twilio_messaging_service_sid=service)
    client = await aiohttp_client(app)
    form = {**inbound_form("SM" + "a" * 32, CUSTOMER, "hello", to="+15550000999")}
    form["MessagingServiceSid"] = service
    assert (await post(client, form, signature(WEBHOOK, form))).status == 200
    other = {**form, "MessageSid": "SM" + "b" * 32, "MessagingServiceSid": "MG" + "2" * 32}
    assert (await post(client, other, signature(WEBHOOK, other))).status == 403
    assert await app[SERVICES].store.customer_for(Address("sms", CUSTOMER)) is not None


@pytest.mark.parametrize("path", ["/sms/twilio", "/sms/twilio/status"])
@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/x-www-form-urlencoded; charset=x-no-such-charset", 415),
        ("application/x-www-form-urlencoded; charset=rot13", 415),  # a codec, not a charset
        ("application/x-www-form-urlencoded; charset=utf-8", 400),  # bytes that are not UTF-8
    ],
)
async def test_a_body_in_an_unknown_charset_is_a_clean_4xx(
    aiohttp_client: ClientFactory,
    app: web.Application,
    caplog: pytest.LogCaptureFixture,
    path: str,
    content_type: str,
    status: int,
) -> None:
    client = await aiohttp_client(app)
    body = b"From=%2B15557654321&Body=caf\xe9&MessageSid=SM1"
    response = await client.post(path, data=body, headers={"Content-Type": content_type})
    assert response.status == status
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_superscript_digits_in_num_media_are_a_400_not_a_500(
    aiohttp_client: ClientFactory, app: web.Application, caplog: pytest.LogCaptureFixture
) -> None:
    client = await aiohttp_client(app)
    assert "\u00b2".isdigit()  # what the old check let through to int()
    form = {**inbound_form("SM" + "c" * 32, CUSTOMER, "hello"), "NumMedia": "\u00b2"}
    response = await post(client, form, signature(WEBHOOK, form))
    assert response.status == 400
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("code", ["\u00b2", "\u0663", "30003x"])
async def test_an_error_code_that_is_not_an_ascii_number_is_a_400(
    aiohttp_client: ClientFactory,
    app: web.Application,
    twilio_api: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
    code: str,
) -> None:
    client = await aiohttp_client(app)
    sid = await _answered_sid(client, app, twilio_api)
    report = status_form(sid, "failed", CUSTOMER, error_code=code)
    response = await post(client, report, signature(STATUS, report), "/sms/twilio/status")
    assert response.status == 400
    assert (await _reply_record(app))["status"] == "sent"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def _answered_sid(client: Any, app: web.Application, twilio_api: FakeTwilio) -> str:
    """Text the shop once; the SID of the reply it sent."""
    form = inbound_form("SM" + "f" * 32, CUSTOMER, "hello")
    assert (await post(client, form, signature(WEBHOOK, form))).status == 200
    await settle(app)
    sid = twilio_api.sent[-1].sid
    assert sid is not None
    return sid


async def _reply_record(app: web.Application) -> DeliveryRecord:
    """The delivery record of the last reply to the customer."""
    services = app[SERVICES]
    cid = await services.store.customer_for(Address("sms", CUSTOMER))
    assert cid is not None
    reply = (await services.store.load(cid)).messages[-1]
    record = await services.deliveries.get(cid, reply.id)
    assert record is not None
    return record
