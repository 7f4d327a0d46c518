"""The service's logging: its level, vendors kept out of DEBUG, phone numbers masked.

At ``LOG_LEVEL=DEBUG`` the vendors' libraries log whole payloads (slack_sdk every Web API call
with the customer's words, twilio every request): they stay at INFO (twilio at WARNING, its
INFO has every request's headers) unless ``LOG_VENDOR_DEBUG`` asks for them. Whatever is
logged, by omnibot or a library, passes :class:`PhoneMask`: a phone number in E.164 form
shows its country code and last digits only.
"""

from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Their DEBUG logs carry payloads (customer text, phone numbers, tokens in headers).
VENDOR_LOGGERS = ("slack_sdk", "slack_bolt", "aiohttp.access", "aiohttp.client", "urllib3")
QUIET_VENDOR_LOGGERS = ("twilio",)  # INFO already logs every request's headers
# "+447700900123" or, in a URL or form, "%2B447700900123"; not inside a longer number or word.
PHONE_RE = re.compile(r"(?<![\w+%])(\+|%2B)(\d{7,15})(?!\d)")
SHOWN_FIRST = 4  # digits kept at the start (the country and area codes) ...
SHOWN_LAST = 3  # ... and at the end, so two numbers in one log can still be told apart
MASK = "\u2022"  # •


def mask_phones(text: str) -> str:
    """``text`` with every E.164-like number masked: ``+447700900123`` -> ``+4477•••••123``."""
    return PHONE_RE.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    plus, digits = match.group(1), match.group(2)
    hidden = len(digits) - SHOWN_FIRST - SHOWN_LAST
    return f"{plus}{digits[:SHOWN_FIRST]}{MASK * hidden}{digits[-SHOWN_LAST:]}"


class PhoneMask(logging.Filter):
    """Masks phone numbers in a record's formatted message and traceback."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        return True


def configure_logging(level: str, vendor_debug: bool = False) -> None:
    """Log to stderr at ``level``, vendors at INFO or above unless ``vendor_debug``, and
    every line through :class:`PhoneMask`."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PhoneMask) for f in handler.filters):
            handler.addFilter(PhoneMask())
    floor = logging.getLevelName(level)
    for name in VENDOR_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.NOTSET if vendor_debug else max(floor, logging.INFO)
        )
    for name in QUIET_VENDOR_LOGGERS:
        quiet = max(floor, logging.WARNING)
        logging.getLogger(name).setLevel(logging.NOTSET if vendor_debug else quiet)
