"""Logging: vendors out of DEBUG unless asked, phone numbers masked in every line."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.models import Address, Channel
from connectors.request_id import HEADER
from omnibot import cli, logs
from omnibot.logs import (
    FORMAT,
    JSON,
    TEXT,
    JsonFormatter,
    PhoneMask,
    Scrub,
    log_format,
    log_scrub,
    mask_phones,
    mask_query_tokens,
    prepare_handler,
)
from omnibot.services import SERVICES
from omnibot.settings import Settings
from tests.conftest import AppFactory
from tests.support.phone import CUSTOMER, WEBHOOK
from tests.support.polling import work_done
from tests.support.twilio_fake import inbound_form, signature
from tests.support.webchat_client import frames, opening

SCRIPT = """
import logging, sys
from omnibot.logs import configure_logging
configure_logging("DEBUG", vendor_debug=sys.argv[1] == "1")
logging.getLogger("omnibot").debug("text from +447700900123")
logging.getLogger("slack_sdk.web.async_base_client").debug("payload of +15557654321")
logging.getLogger("slack_bolt.AsyncApp").debug("bolt payload")
logging.getLogger("twilio.http_client").info("-- BEGIN Twilio API Request --")
logging.getLogger("slack_sdk.socket_mode").info("connected")
try:
    raise ValueError("no route to +15557654321")
except ValueError:
    logging.getLogger("omnibot").exception("failed")
"""


def logged(vendor_debug: bool) -> str:
    """What ``configure_logging("DEBUG")`` lets through to stderr, in a fresh interpreter."""
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", SCRIPT, "1" if vendor_debug else "0"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stderr


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+447700900123", "+4477•••••123"),
        ("from +15557654321.", "from +1555••••321."),
        ("To=%2B15557654321&Body=hi", "To=%2B1555••••321&Body=hi"),
        ("two: +15557654321, +15550000100", "two: +1555••••321, +1555••••100"),
        ("order 100234, 3+4, +123456", "order 100234, 3+4, +123456"),  # not phone numbers
        ("id x+15557654321", "id x+15557654321"),
    ],
)
def test_phone_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            '"GET /webchat/ws?token=abc_DEF-12 HTTP/1.1" 101',
            '"GET /webchat/ws?token=••• HTTP/1.1" 101',
        ),
        ("/webchat/ws?continue=x%2Fy&confirm=1", "/webchat/ws?continue=•••&confirm=1"),
        ("/webchat/ws?lang=en&token=abc", "/webchat/ws?lang=en&token=•••"),
        (
            "sign in at https://shop.example/agent#token=abc",
            "sign in at https://shop.example/agent#token=abc",
        ),
        ("?mytoken=abc", "?mytoken=abc"),
    ],
)
def test_web_chat_tokens_in_urls_are_masked(text: str, masked: str) -> None:
    assert mask_query_tokens(text) == masked
    record = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1, "%s", (text,), None)
    assert PhoneMask().filter(record)
    assert record.getMessage() == masked


def test_the_filter_masks_a_records_arguments() -> None:
    record = logging.LogRecord(
        "omnibot", logging.INFO, __file__, 1, "sms to %s", ("+15557654321",), None
    )
    assert PhoneMask().filter(record)
    assert record.getMessage() == "sms to +1555••••321"


def test_debug_keeps_vendor_payloads_out_and_masks_phones() -> None:
    out = logged(vendor_debug=False)
    assert "text from +4477•••••123" in out
    assert "payload of" not in out  # slack_sdk's DEBUG
    assert "bolt payload" not in out
    assert "BEGIN Twilio API Request" not in out  # twilio's INFO
    assert "connected" in out  # vendors' INFO still shows
    assert "ValueError: no route to +1555••••321" in out  # tracebacks are masked too
    assert "7700900123" not in out
    assert "5557654321" not in out


def test_log_vendor_debug_lets_vendor_payloads_through_still_masked() -> None:
    out = logged(vendor_debug=True)
    assert "payload of +1555••••321" in out
    assert "bolt payload" in out
    assert "BEGIN Twilio API Request" in out


def test_log_vendor_debug_setting() -> None:
    assert Settings.from_env({"LOG_VENDOR_DEBUG": "1"}, env_file=None).log_vendor_debug
    assert not Settings.from_env({}, env_file=None).log_vendor_debug


JSON_SCRIPT = """
import logging
from bot.pipeline.log_context import conversation, request
from omnibot.logs import configure_logging
configure_logging("INFO", fmt="json")
log = logging.getLogger("omnibot")
log.info("started")
with request("req-1"), conversation("c-1"):
    log.warning("sms to %s refused", "+15557654321")
    try:
        raise ValueError("no route to +15557654321")
    except ValueError:
        log.exception("line one\\nline two")
"""


def test_json_lines_carry_the_ids_and_masked_tracebacks() -> None:
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", JSON_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["message"] for line in lines] == [
        "started",
        "sms to +1555••••321 refused",
        "line one\nline two",
    ]
    started, refused, failed = lines
    assert set(started) == {"ts", "level", "logger", "message"}  # no ids outside a request
    assert datetime.fromisoformat(started["ts"]).tzinfo is not None
    assert (refused["level"], refused["logger"]) == ("WARNING", "omnibot")
    assert (refused["request"], refused["conversation"]) == ("req-1", "c-1")
    assert failed["exc"].startswith("Traceback")
    assert "ValueError: no route to +1555••••321" in failed["exc"]
    assert "5557654321" not in done.stderr


def test_text_format_stays_as_it_was() -> None:
    record = logging.LogRecord("omnibot", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter(FORMAT))
    prepare_handler(handler, TEXT)
    assert isinstance(handler.formatter, logging.Formatter)
    assert not isinstance(handler.formatter, JsonFormatter)
    handler.handle(record)
    assert handler.stream.getvalue().endswith(" INFO omnibot: hello you\n")


def test_preparing_a_handler_twice_keeps_one_mask_and_a_custom_scrub() -> None:
    handler = logging.StreamHandler(io.StringIO())
    prepare_handler(handler, JSON)
    prepare_handler(handler, JSON, scrub=lambda text: text.replace("ORD-1", "[order]"))
    assert sum(isinstance(f, PhoneMask) for f in handler.filters) == 1
    handler.handle(
        logging.LogRecord("omnibot", logging.INFO, __file__, 1, "ORD-1 +15557654321", None, None)
    )
    line = json.loads(handler.stream.getvalue())
    assert line["message"] == "[order] +15557654321"  # the scrub given replaces the phone mask


def test_log_format_parser() -> None:
    assert log_format("Json") == JSON
    with pytest.raises(ValueError, match="xml"):
        log_format("xml")


WEB_WORDS = "where is my parcel?"
WEB_TEXT = f"{WEB_WORDS} write to jane.roe@example.com"
SMS_TEXT = "hello, it's Sam, sam.poe@example.org"
SMS_EDGE_ID = "edge-7f3a"  # the X-Request-ID a proxy in front of the webhook would set
DECIDED = re.compile(r"answered|asked to rephrase|handing over to a person")  # INFO decisions


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every log line (DEBUG up) of the test, as ``LOG_FORMAT=json`` writes it."""
    stream = io.StringIO()
    handler = prepare_handler(logging.StreamHandler(stream), JSON)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


async def chat_once(client: Any, app: web.Application) -> str:
    """One web chat message, answered; its conversation id."""
    async with client.ws_connect("/webchat/ws") as ws:
        token = (await opening(ws)).token
        await ws.send_json({"type": "message", "text": WEB_TEXT})
        await frames(ws, 2)  # the echo and the answer
    cid = await app[SERVICES].store.customer_for(Address(Channel.WEBCHAT, token))
    assert cid is not None
    return cid


async def text_once(client: Any, app: web.Application) -> str:
    """One SMS through Twilio's signed webhook, answered; its conversation id."""
    form = inbound_form("SM" + "7" * 32, CUSTOMER, SMS_TEXT)
    headers = {**signature(WEBHOOK, form), HEADER: SMS_EDGE_ID}
    response = await client.post("/sms/twilio", data=form, headers=headers)
    assert response.headers[HEADER] == SMS_EDGE_ID
    await work_done(app)
    cid = await app[SERVICES].store.customer_for(Address(Channel.SMS, CUSTOMER))
    assert cid is not None
    return cid


async def test_json_logs_of_a_web_chat_and_an_sms_name_them_and_never_their_words(
    aiohttp_client: Any,
    make_app: AppFactory,
    sms_settings: dict[str, object],
    json_lines: io.StringIO,
) -> None:
    app = make_app(**sms_settings)
    client = await aiohttp_client(app)
    web_cid, sms_cid = await chat_once(client, app), await text_once(client, app)
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    of_web = [line for line in lines if line.get("conversation") == web_cid]
    of_sms = [line for line in lines if line.get("conversation") == sms_cid]
    for of, channel in ((of_web, "webchat"), (of_sms, "sms")):
        accepted = [line for line in of if f"{channel} message accepted" in line["message"]]
        assert len(accepted) == 1
        assert accepted[0]["request"]  # the web chat socket's, the webhook's
        assert any(DECIDED.search(line["message"]) for line in of if line["level"] == "INFO")
    assert [line["request"] for line in of_sms if "accepted" in line["message"]] == [SMS_EDGE_ID]
    # DEBUG keeps the words (the e-mail in them is masked once the service's scrub runs)
    assert any(WEB_WORDS in line["message"] for line in of_web if line["level"] == "DEBUG")
    loud = json.dumps([line for line in lines if line["level"] != "DEBUG"])
    for secret in (WEB_TEXT, SMS_TEXT, "parcel", "jane.roe", "sam.poe", "5557654321"):
        assert secret not in loud


def test_the_log_scrub_masks_what_slack_would_not_see_and_keeps_order_numbers() -> None:
    scrub = log_scrub((re.compile(r"\bVIP-\d{4}\b"),))
    line = scrub(
        "customer +447700900123 (ana@example.com, card 4242 4242 4242 4242, VIP-2841) "
        "asked about order 100412"
    )
    assert "+4477•••••123" in line  # E.164 numbers keep the log's own mask
    assert "ana@example.com" not in line
    assert "4242 4242 4242 4242" not in line
    assert "VIP-2841" not in line
    assert "order 100412" in line
    access = '"POST /Messages.json HTTP/1.1" 201 1040 "-"'
    assert scrub(access) == access  # a status and a size, not a phone number


def test_the_command_line_logs_in_the_settings_format_through_their_patterns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, object] = {}

    def configure(level: str, vendor: bool, fmt: str, scrub: Scrub) -> None:
        seen.update(level=level, fmt=fmt, line=scrub("member VIP-2841 wrote"))

    monkeypatch.setattr(logs, "configure_logging", configure)  # what the command line calls
    monkeypatch.setattr(cli, "rasa_check", lambda path: None)
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("REDACT_PATTERNS", '["\\\\bVIP-\\\\d{4}\\\\b"]')
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    cli.main(["rasa-check", str(tmp_path)])
    assert seen["fmt"] == "json"
    assert "VIP-2841" not in str(seen["line"])
