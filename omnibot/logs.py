"""The service's logging: its level and format, vendors kept out of DEBUG, phone numbers masked.

At ``LOG_LEVEL=DEBUG`` the vendors' libraries log whole payloads (slack_sdk every Web API call
with the customer's words, twilio every request): they stay at INFO (twilio at WARNING, its
INFO has every request's headers) unless ``LOG_VENDOR_DEBUG`` asks for them. Whatever is
logged, by omnibot or a library, passes :class:`PhoneMask`: a phone number in E.164 form
shows its country code and last digits only.

``LOG_FORMAT=json`` writes one JSON object a line (:class:`JsonFormatter`): ``ts``, ``level``,
``logger``, ``message``, the ``request`` and ``conversation`` ids when the line was logged
while one was handled (:mod:`bot.pipeline.log_context`), and ``exc`` for a traceback.
omnibot's own lines at INFO and above never carry a message's text, a phone number or an
e-mail address; DEBUG may.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.pipeline.log_context import ContextFilter
from bot.redaction import KINDS, PHONE, redact

if TYPE_CHECKING:  # settings import this module for LOG_FORMAT's parser
    from omnibot.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TEXT, JSON = "text", "json"
LOG_FORMATS = (TEXT, JSON)  # LOG_FORMAT's values; text is the default
# Their DEBUG logs carry payloads (customer text, phone numbers, tokens in headers).
VENDOR_LOGGERS = ("slack_sdk", "slack_bolt", "aiohttp.access", "aiohttp.client", "urllib3")
QUIET_VENDOR_LOGGERS = ("twilio",)  # INFO already logs every request's headers
# "+447700900123" or, in a URL or form, "%2B447700900123"; not inside a longer number or word.
PHONE_RE = re.compile(r"(?<![\w+%])(\+|%2B)(\d{7,15})(?!\d)")
SHOWN_FIRST = 4  # digits kept at the start (the country and area codes) ...
SHOWN_LAST = 3  # ... and at the end, so two numbers in one log can still be told apart
MASK = "\u2022"  # •
# A web chat session token or a texted link's token in a URL's query (the access log's request
# line): either opens the customer's conversation, so it is never shown.
QUERY_TOKEN_RE = re.compile(r"([?&](?:token|continue)=)[^&\s\"']+")
CONTEXT_FIELDS = ("conversation", "request")  # record attributes set by ContextFilter

# what redaction masks in logs besides E.164 numbers (other phone shapes are mostly not phones
# there: statuses, sizes, ports)
LOGGED_KINDS = frozenset(KINDS) - {PHONE}

Scrub = Callable[[str], str]
"""Rewrites a log line's text before it is written (masks what must not be logged)."""


def mask_phones(text: str) -> str:
    """``text`` with every E.164-like number masked: ``+447700900123`` -> ``+4477•••••123``."""
    return PHONE_RE.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    plus, digits = match.group(1), match.group(2)
    hidden = len(digits) - SHOWN_FIRST - SHOWN_LAST
    return f"{plus}{digits[:SHOWN_FIRST]}{MASK * hidden}{digits[-SHOWN_LAST:]}"


def log_scrub(patterns: Sequence[re.Pattern[str]] = ()) -> Scrub:
    """What every log line passes: phone numbers in E.164 form masked as :func:`mask_phones`
    does, and e-mails, card numbers, IBANs and the shop's own ``REDACT_PATTERNS`` masked as in
    Slack (:mod:`bot.redaction`). Other digit groups stay: in a log they are mostly statuses,
    sizes, ports and times ("201 1040" in an access line), not phone numbers."""

    def scrub(text: str) -> str:
        return redact(mask_phones(text), patterns, regions=(), kinds=LOGGED_KINDS)

    return scrub


def mask_query_tokens(text: str) -> str:
    """``text`` with the values of ``token`` and ``continue`` in URL queries masked."""
    return QUERY_TOKEN_RE.sub(rf"\g<1>{MASK * 3}", text)


def log_format(value: str) -> str:
    """One of :data:`LOG_FORMATS`, in any case (the ``LOG_FORMAT`` setting's parser)."""
    lowered = value.lower()
    if lowered not in LOG_FORMATS:
        raise ValueError(value)
    return lowered


class PhoneMask(logging.Filter):
    """Masks phone numbers (or whatever ``scrub`` masks) and the web chat's tokens in URLs
    (:func:`mask_query_tokens`, whatever ``scrub``) in a record's message and traceback."""

    def __init__(self, scrub: Scrub = mask_phones) -> None:
        super().__init__()
        self._scrub: Scrub = lambda text: scrub(mask_query_tokens(text))
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        message = record.getMessage()
        masked = self._scrub(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self._scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``conversation`` and ``request`` when known, ``exc`` when there is a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (newlines in the message stay escaped in it)."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        trace = "\n".join(t for t in (record.exc_text, record.stack_info) if t)
        if trace:
            entry["exc"] = trace
        return json.dumps(entry, ensure_ascii=False, default=str)


def prepare_handler(
    handler: logging.Handler, fmt: str = TEXT, scrub: Scrub = mask_phones
) -> logging.Handler:
    """Give ``handler`` the service's filters (request and conversation ids, ``scrub``) and,
    for ``json``, the JSON format (a text handler keeps its own format); returns it."""
    for old in [f for f in handler.filters if isinstance(f, PhoneMask | ContextFilter)]:
        handler.removeFilter(old)
    handler.addFilter(ContextFilter())
    handler.addFilter(PhoneMask(scrub))
    if fmt == JSON:
        handler.setFormatter(JsonFormatter())
    return handler


def configure_from(settings: Settings) -> None:
    """:func:`configure_logging` as ``settings`` say (level, vendors, format, redaction)."""
    configure_logging(
        settings.log_level,
        settings.log_vendor_debug,
        settings.log_format,
        scrub=log_scrub(settings.redact_patterns),
    )


def configure_logging(
    level: str, vendor_debug: bool = False, fmt: str = TEXT, scrub: Scrub = mask_phones
) -> None:
    """Log to stderr at ``level`` in format ``fmt`` (:data:`LOG_FORMATS`), vendors at INFO or
    above unless ``vendor_debug``, and every line through ``scrub`` (:class:`PhoneMask`)."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        prepare_handler(handler, fmt, scrub)
    floor = logging.getLevelName(level)
    for name in VENDOR_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.NOTSET if vendor_debug else max(floor, logging.INFO)
        )
    for name in QUIET_VENDOR_LOGGERS:
        quiet = max(floor, logging.WARNING)
        logging.getLogger(name).setLevel(logging.NOTSET if vendor_debug else quiet)
