"""Service settings, read once from the environment (and a ``.env`` file when present).

Every part of omnibot reads its configuration from one :class:`Settings`; nothing else looks at
the environment, so a value in ``.env`` always takes effect. A value that does not parse stops
start-up with a :class:`SettingsError` naming the setting and the value.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import phonenumbers
from dotenv import dotenv_values

from bot.desk.hours import AgentHours
from omnibot.proxies import ForwardedHeader, Network

DEFAULT_INTENTS_PATH = Path(__file__).resolve().parent.parent / "intents" / "retail.yml"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ENCODERS = ("onnx-int8", "onnx", "torch")  # what intents.build.make_encoder builds
HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
MIN_SECRET_CHARS = 24  # AGENT_CONSOLE_TOKEN: long enough that guessing is hopeless
DEFAULT_SMS_HELP_TEXT = (
    "This is the shop's support line: text your question and we'll answer. Reply STOP to opt out."
)

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting whose value cannot be used; carries the setting's name and the value."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"setting {name}={value!r} is not valid: expected {expected}")
        self.name = name
        self.value = value
        self.expected = expected


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError(value)
    return port


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _fraction(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(value)
    return number


def _api_url(value: str) -> str:
    if not value.endswith("/"):
        raise ValueError(value)
    return _url(value)


def _routes(value: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for part in _split(value):
        intent, _, channel = (piece.strip() for piece in part.partition("="))
        if not intent or not channel:
            raise ValueError(value)
        pairs.append((intent, channel))
    return tuple(pairs)


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ValueError(value)
    return level


def _secret(name: str, value: str | None) -> str | None:
    """A token that must withstand guessing; the error never echoes it."""
    if value is not None and len(value) < MIN_SECRET_CHARS:
        raise SettingsError(
            name, f"<{len(value)} characters>", f"at least {MIN_SECRET_CHARS} characters"
        )
    return value


def _encoder(value: str) -> str:
    if value not in ENCODERS:
        raise ValueError(value)
    return value


def _host(value: str) -> str:
    """An IP address or a DNS host name (no scheme, no port)."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(value)
        return value
    labels = value.removesuffix(".").split(".")
    if len(value) > 253 or not all(HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(value)
    return value


def _existing_path(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise ValueError(value)
    return path


def _countries(value: str) -> tuple[str, ...]:
    """ISO 3166 region codes (``UK`` is ``GB``), or ``*`` for any country."""
    codes = tuple(code.upper() for code in _split(value))
    if not codes or any(c != "*" and c not in phonenumbers.SUPPORTED_REGIONS for c in codes):
        raise ValueError(value)
    return codes


def _networks(value: str) -> tuple[Network, ...]:
    """IP networks in CIDR form; a bare address is a network of one."""
    return tuple(ipaddress.ip_network(part, strict=False) for part in _split(value))


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(value)
    return value


class _Source:
    """The raw values, and typed getters that name the setting when a value does not parse."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def get(self, name: str) -> str | None:
        value = self._values.get(name, "").strip()
        return value or None

    def parse(self, name: str, convert: Callable[[str], T], default: T, expected: str) -> T:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            return convert(raw)
        except ValueError:
            raise SettingsError(name, raw, expected) from None


@dataclass(frozen=True)
class Settings:
    """Every knob of the service; each one is documented in ``.env.example``."""

    redis_url: str | None = None
    redis_cluster: bool = False
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    sms_help_text: str = DEFAULT_SMS_HELP_TEXT
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_escalation_channel: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_routes: tuple[tuple[str, str], ...] = ()
    slack_app_token: str | None = None
    agent_console_token: str | None = None
    agent_hours: AgentHours | None = None
    intents_path: Path = DEFAULT_INTENTS_PATH
    confidence_threshold: float | None = None
    target_precision: float = 0.98
    encoder: str = "onnx-int8"
    action_endpoint: str | None = None
    orders_path: Path | None = None
    webchat_allowed_origins: tuple[str, ...] = ()
    retention_days: int = 30
    processing_concurrency: int = 4
    workers: int = 1
    messages_per_minute: int = 30
    sessions_per_minute: int = 60
    sockets_per_address: int = 20
    sms_codes_per_hour: int = 100
    sms_codes_per_country_hour: int = 50
    sms_allowed_countries: tuple[str, ...] = ()  # none: the country of TWILIO_FROM_NUMBER
    trusted_proxies: tuple[Network, ...] = ()
    trusted_proxy_header: ForwardedHeader = ForwardedHeader.X_FORWARDED_FOR
    log_level: str = "INFO"
    log_vendor_debug: bool = False

    @property
    def cache_dir(self) -> Path:
        """Where trained intent models and the exported encoder are cached."""
        return self.data_dir / "cache"

    @property
    def slack_enabled(self) -> bool:
        """Whether the Slack desk is configured: a bot token, and a signing secret (events over
        HTTP) or an app-level token (Socket Mode)."""
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def sms_enabled(self) -> bool:
        """Whether the Twilio SMS channel is configured (its webhook needs the auth token)."""
        return self.twilio_auth_token is not None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        """Build settings from ``environ`` (default: the process environment) over ``env_file``.

        Raises :class:`SettingsError` for a value that does not parse.
        """
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        source, default = _Source(values), cls()
        path = source.get
        return cls(
            redis_url=path("REDIS_URL"),
            redis_cluster=source.parse("REDIS_CLUSTER", _flag, False, "1/true/yes or 0/false/no"),
            data_dir=Path(path("OMNIBOT_DATA_DIR") or default.data_dir),
            host=source.parse(
                "HOST", _host, default.host, "an IP address or host name, e.g. 0.0.0.0"
            ),
            port=source.parse("PORT", _port, default.port, "a port number (0-65535)"),
            public_url=source.parse("PUBLIC_URL", _url, "", "an http(s):// URL").rstrip("/")
            or None,
            twilio_account_sid=path("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=path("TWILIO_AUTH_TOKEN"),
            twilio_from_number=path("TWILIO_FROM_NUMBER"),
            twilio_messaging_service_sid=path("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_url=source.parse(
                "TWILIO_API_URL", _url, default.twilio_api_url, "an http(s):// URL"
            ),
            sms_help_text=path("SMS_HELP_TEXT") or default.sms_help_text,
            slack_bot_token=path("SLACK_BOT_TOKEN"),
            slack_signing_secret=path("SLACK_SIGNING_SECRET"),
            slack_escalation_channel=path("SLACK_ESCALATION_CHANNEL"),
            slack_api_url=source.parse(
                "SLACK_API_URL",
                _api_url,
                default.slack_api_url,
                "an http(s):// URL ending in /api/",
            ),
            slack_app_token=path("SLACK_APP_TOKEN"),
            slack_routes=source.parse(
                "SLACK_ROUTES", _routes, (), "intent=CHANNEL pairs, comma-separated"
            ),
            agent_console_token=_secret("AGENT_CONSOLE_TOKEN", path("AGENT_CONSOLE_TOKEN")),
            agent_hours=source.parse(
                "AGENT_HOURS",
                AgentHours.parse,
                None,
                "days and hours with a time zone, e.g. 'Mon-Fri 09:00-18:00 Europe/Berlin'",
            ),
            intents_path=source.parse(
                "INTENTS_PATH",
                _existing_path,
                default.intents_path,
                "an existing catalogue file (YAML) or Rasa project folder "
                "(a relative path starts at the current directory)",
            ),
            confidence_threshold=source.parse(
                "CONFIDENCE_THRESHOLD", _fraction, None, "a number from 0 to 1"
            ),
            target_precision=source.parse(
                "TARGET_PRECISION", _fraction, default.target_precision, "a number from 0 to 1"
            ),
            encoder=source.parse(
                "ENCODER", _encoder, default.encoder, "one of " + ", ".join(ENCODERS)
            ),
            action_endpoint=source.parse("ACTION_ENDPOINT", _url, None, "an http(s):// URL"),
            orders_path=source.parse("ORDERS_PATH", Path, None, "a file path"),
            webchat_allowed_origins=_split(path("WEBCHAT_ALLOWED_ORIGINS") or ""),
            retention_days=source.parse(
                "RETENTION_DAYS",
                _positive_int,
                default.retention_days,
                "a whole number of days >= 1",
            ),
            processing_concurrency=source.parse(
                "PROCESSING_CONCURRENCY",
                _positive_int,
                default.processing_concurrency,
                "a whole number >= 1",
            ),
            messages_per_minute=source.parse(
                "MESSAGES_PER_MINUTE",
                _positive_int,
                default.messages_per_minute,
                "a whole number >= 1",
            ),
            sessions_per_minute=source.parse(
                "SESSIONS_PER_MINUTE",
                _positive_int,
                default.sessions_per_minute,
                "a whole number >= 1",
            ),
            sockets_per_address=source.parse(
                "SOCKETS_PER_ADDRESS",
                _positive_int,
                default.sockets_per_address,
                "a whole number >= 1",
            ),
            sms_codes_per_hour=source.parse(
                "SMS_CODES_PER_HOUR",
                _positive_int,
                default.sms_codes_per_hour,
                "a whole number >= 1",
            ),
            sms_codes_per_country_hour=source.parse(
                "SMS_CODES_PER_COUNTRY_HOUR",
                _positive_int,
                default.sms_codes_per_country_hour,
                "a whole number >= 1",
            ),
            sms_allowed_countries=source.parse(
                "SMS_ALLOWED_COUNTRIES",
                _countries,
                (),
                "ISO country codes, comma-separated (e.g. US,CA,GB; the UK is GB), or * for any",
            ),
            trusted_proxies=source.parse(
                "TRUSTED_PROXIES",
                _networks,
                (),
                "IP addresses or CIDR networks, comma-separated (e.g. 10.0.0.0/8,::1)",
            ),
            trusted_proxy_header=source.parse(
                "TRUSTED_PROXY_HEADER",
                lambda raw: ForwardedHeader(raw.lower()),
                default.trusted_proxy_header,
                "X-Forwarded-For or Forwarded",
            ),
            workers=source.parse("WORKERS", _positive_int, default.workers, "a whole number >= 1"),
            log_level=source.parse(
                "LOG_LEVEL", _log_level, default.log_level, "one of " + ", ".join(LOG_LEVELS)
            ),
            log_vendor_debug=source.parse(
                "LOG_VENDOR_DEBUG", _flag, False, "1/true/yes or 0/false/no"
            ),
        )
