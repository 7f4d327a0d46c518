"""Logging: vendors out of DEBUG unless asked, phone numbers masked in every line."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import datetime

import pytest

from omnibot.logs import (
    FORMAT,
    JSON,
    TEXT,
    JsonFormatter,
    PhoneMask,
    log_format,
    mask_phones,
    prepare_handler,
)
from omnibot.settings import Settings

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
