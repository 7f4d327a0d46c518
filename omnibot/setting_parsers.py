"""Parsers of setting values: each turns the text of one environment variable into its value.

A parser raises :class:`ValueError` for text it cannot use; :mod:`omnibot.settings` turns that
into a :class:`~omnibot.settings.SettingsError` naming the setting, the value and what it expects.
The text reaches a parser stripped and never empty (an empty value means "not set").
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from pathlib import Path

import phonenumbers

from connectors.console.token import MIN_TOKEN_CHARS
from omnibot.proxies import ForwardedHeader, Network

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ENCODERS = ("onnx-int8", "onnx", "torch")  # what intents.build.make_encoder builds
HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
MIN_SECRET_CHARS = MIN_TOKEN_CHARS  # AGENT_CONSOLE_TOKEN: the console's own rule
FLAG_TRUE = ("1", "true", "yes", "on")
FLAG_FALSE = ("0", "false", "no", "off")


def text(value: str) -> str:
    """Any text, as it is."""
    return value


def split(value: str) -> tuple[str, ...]:
    """Comma-separated items, each without surrounding blanks or a trailing ``/``."""
    return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())


def flag(value: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off``, in any case."""
    lowered = value.lower()
    if lowered in FLAG_TRUE:
        return True
    if lowered in FLAG_FALSE:
        return False
    raise ValueError(value)


def port(value: str) -> int:
    """A TCP port number, 0 (any free port) to 65535."""
    number = int(value)
    if not 0 <= number <= 65535:
        raise ValueError(value)
    return number


def positive_int(value: str) -> int:
    """A whole number of at least 1."""
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def fraction(value: str) -> float:
    """A number from 0 to 1."""
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(value)
    return number


def url(value: str) -> str:
    """An ``http://`` or ``https://`` URL."""
    if not value.startswith(("http://", "https://")):
        raise ValueError(value)
    return value


def base_url(value: str) -> str:
    """A URL that other paths are appended to: without its trailing ``/``."""
    return url(value).rstrip("/")


def api_url(value: str) -> str:
    """A URL ending in ``/``, so a method name can be appended (Slack's ``…/api/``)."""
    if not value.endswith("/"):
        raise ValueError(value)
    return url(value)


def routes(value: str) -> tuple[tuple[str, str], ...]:
    """``intent=CHANNEL`` pairs, comma-separated."""
    pairs = []
    for part in split(value):
        intent, _, channel = (piece.strip() for piece in part.partition("="))
        if not intent or not channel:
            raise ValueError(value)
        pairs.append((intent, channel))
    return tuple(pairs)


def log_level(value: str) -> str:
    """One of :data:`LOG_LEVELS`, in any case."""
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ValueError(value)
    return level


def secret(value: str) -> str:
    """A token that must withstand guessing: at least :data:`MIN_SECRET_CHARS` characters."""
    if len(value) < MIN_SECRET_CHARS:
        raise ValueError(value)
    return value


def encoder(value: str) -> str:
    """One of :data:`ENCODERS`."""
    if value not in ENCODERS:
        raise ValueError(value)
    return value


def host(value: str) -> str:
    """An IP address or a DNS host name (no scheme, no port)."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(value)
        return value
    labels = value.removesuffix(".").split(".")
    if len(value) > 253 or not all(HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(value)
    return value


def existing_path(value: str) -> Path:
    """A path to a file or folder that exists."""
    path = Path(value)
    if not path.exists():
        raise ValueError(value)
    return path


def countries(value: str) -> tuple[str, ...]:
    """ISO 3166 region codes (``UK`` is ``GB``), or ``*`` for any country."""
    codes = tuple(code.upper() for code in split(value))
    if not codes or any(c != "*" and c not in phonenumbers.SUPPORTED_REGIONS for c in codes):
        raise ValueError(value)
    return codes


def networks(value: str) -> tuple[Network, ...]:
    """IP networks in CIDR form; a bare address is a network of one."""
    return tuple(ipaddress.ip_network(part, strict=False) for part in split(value))


def forwarded_header(value: str) -> ForwardedHeader:
    """``X-Forwarded-For`` or ``Forwarded``, in any case."""
    return ForwardedHeader(value.lower())
