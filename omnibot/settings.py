"""Service settings, read once from the environment (and a ``.env`` file when present).

Every part of omnibot reads its configuration from one :class:`Settings`; nothing else looks at
the environment, so a value in ``.env`` always takes effect. A value that does not parse stops
start-up with a :class:`SettingsError` naming the setting and the value.

Each setting is declared once, as a field of :class:`Settings` made by :func:`setting`: its
environment variable, parser, default and what a valid value looks like (how a declaration is
read: :mod:`omnibot.setting_spec`). :meth:`Settings.from_env`
is a loop over those declarations, and a test checks that the README's table and
``.env.example`` list exactly them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

from dotenv import dotenv_values

from bot.desk.hours import AgentHours
from omnibot import logs
from omnibot import setting_parsers as parse
from omnibot.proxies import ForwardedHeader, Network
from omnibot.roles import Role, role_setting
from omnibot.setting_parsers import ENCODERS, LOG_LEVELS
from omnibot.setting_parsers import MIN_SECRET_CHARS as MIN_SECRET_CHARS  # the console's rule too
from omnibot.setting_spec import SPEC, Declared, declared_by_setting, setting
from omnibot.setting_spec import RefusedValueError as RefusedValueError
from omnibot.setting_spec import Setting as Setting
from omnibot.setting_spec import SettingsError as SettingsError
from omnibot.setting_values import (
    FINE_TUNE_MODES,
    PATTERNS,
    fine_tune_mode,
    knowledge_setting,
    patterns_setting,
)
from omnibot.setting_values import KNOWLEDGE_OFF as KNOWLEDGE_OFF

DEFAULT_INTENTS_PATH = Path(__file__).resolve().parent.parent / "intents" / "retail.yml"
# the demo shop's help-centre articles, answered from when the demo catalogue serves
DEFAULT_KNOWLEDGE_PATH = DEFAULT_INTENTS_PATH.parent / "help_centre"
DEFAULT_SMS_HELP_TEXT = (
    "This is the shop's support line: text your question and we'll answer. Reply STOP to opt out."
)
ANY_TEXT = "any text"  # what a plain text setting expects (it cannot be refused)
URL = "an http(s):// URL"
AT_LEAST_ONE = "a whole number >= 1"
FLAG = "1/true/yes or 0/false/no"
FRACTION = "a number from 0 to 1"


@declared_by_setting
class Settings:
    """Every knob of the service; each one is documented in ``.env.example`` and the README."""

    redis_url: str | None = setting("REDIS_URL", parse.text, ANY_TEXT, default=None)
    redis_cluster: bool = setting("REDIS_CLUSTER", parse.flag, FLAG, default=False)
    data_dir: Path = setting("OMNIBOT_DATA_DIR", Path, "a directory path", default=Path("var"))
    host: str = setting(
        "HOST", parse.host, "an IP address or host name, e.g. 0.0.0.0", default="127.0.0.1"
    )
    port: int = setting("PORT", parse.port, "a port number (0-65535)", default=8080)
    public_url: str | None = setting("PUBLIC_URL", parse.base_url, URL, default=None)
    twilio_account_sid: str | None = setting(
        "TWILIO_ACCOUNT_SID", parse.text, ANY_TEXT, default=None
    )
    twilio_auth_token: str | None = setting("TWILIO_AUTH_TOKEN", parse.text, ANY_TEXT, default=None)
    twilio_from_number: str | None = setting(
        "TWILIO_FROM_NUMBER", parse.text, ANY_TEXT, default=None
    )
    twilio_messaging_service_sid: str | None = setting(
        "TWILIO_MESSAGING_SERVICE_SID", parse.text, ANY_TEXT, default=None
    )
    twilio_api_url: str = setting(
        "TWILIO_API_URL", parse.url, URL, default="https://api.twilio.com"
    )
    sms_help_text: str = setting(
        "SMS_HELP_TEXT", parse.text, ANY_TEXT, default=DEFAULT_SMS_HELP_TEXT
    )
    slack_bot_token: str | None = setting("SLACK_BOT_TOKEN", parse.text, ANY_TEXT, default=None)
    slack_signing_secret: str | None = setting(
        "SLACK_SIGNING_SECRET", parse.text, ANY_TEXT, default=None
    )
    slack_escalation_channel: str | None = setting(
        "SLACK_ESCALATION_CHANNEL", parse.text, ANY_TEXT, default=None
    )
    slack_api_url: str = setting(
        "SLACK_API_URL", parse.api_url, f"{URL} ending in /api/", default="https://slack.com/api/"
    )
    slack_routes: tuple[tuple[str, str], ...] = setting(
        "SLACK_ROUTES", parse.routes, "intent=CHANNEL pairs, comma-separated", default=()
    )
    slack_app_token: str | None = setting("SLACK_APP_TOKEN", parse.text, ANY_TEXT, default=None)
    agent_console_token: str | None = setting(
        "AGENT_CONSOLE_TOKEN",
        parse.secret,
        f"at least {MIN_SECRET_CHARS} characters",
        default=None,
        secret=True,
    )
    agent_hours: AgentHours | None = setting(
        "AGENT_HOURS",
        AgentHours.parse,
        "days and hours with a time zone, e.g. 'Mon-Fri 09:00-18:00 Europe/Berlin'",
        default=None,
    )
    intents_path: Path = setting(
        "INTENTS_PATH",
        parse.existing_path,
        "an existing catalogue file (YAML) or Rasa project folder "
        "(a relative path starts at the current directory)",
        default=DEFAULT_INTENTS_PATH,
    )
    # None (unset): the bundled demo articles when INTENTS_PATH is the bundled catalogue
    knowledge_path: Path | str | None = setting(
        "KNOWLEDGE_PATH",
        knowledge_setting,
        "an existing folder of help-centre articles (.md, .html, Zendesk .json) or off",
        default=None,
    )
    confidence_threshold: float | None = setting(
        "CONFIDENCE_THRESHOLD", parse.fraction, FRACTION, default=None
    )
    target_precision: float = setting("TARGET_PRECISION", parse.fraction, FRACTION, default=0.98)
    unknown_escalation_target: float = setting(
        "UNKNOWN_ESCALATION_TARGET", parse.fraction, FRACTION, default=0.70
    )
    encoder: str = setting(
        "ENCODER", parse.encoder, "one of " + ", ".join(ENCODERS), default="onnx-int8"
    )
    fine_tune: str = setting(
        "FINE_TUNE",
        fine_tune_mode,
        "one of " + ", ".join(FINE_TUNE_MODES),
        # off: on the bundled catalogue and the few-shot files the tuned model answers fewer
        # messages than the frozen one (bench/README.md, "Fine-tuning")
        default="off",
    )
    action_endpoint: str | None = setting("ACTION_ENDPOINT", parse.url, URL, default=None)
    orders_path: Path | None = setting("ORDERS_PATH", Path, "a file path", default=None)
    webchat_allowed_origins: tuple[str, ...] = setting(
        "WEBCHAT_ALLOWED_ORIGINS", parse.split, "origins, comma-separated", default=()
    )
    retention_days: int = setting(
        "RETENTION_DAYS", parse.positive_int, "a whole number of days >= 1", default=30
    )
    # also survey conversations the bot settled alone (after a resolve, always)
    csat_after_bot: bool = setting("CSAT_AFTER_BOT", parse.flag, FLAG, default=False)
    # None: the role's own (omnibot.roles.processing_concurrency)
    processing_concurrency: int | None = setting(
        "PROCESSING_CONCURRENCY", parse.positive_int, AT_LEAST_ONE, default=None
    )
    workers: int = setting("WORKERS", parse.positive_int, AT_LEAST_ONE, default=1)
    # None: 2, or the process's share of the cores when `omnibot serve` starts several
    model_threads: int | None = setting(
        "MODEL_THREADS", parse.positive_int, AT_LEAST_ONE, default=None
    )
    # auto: `omnibot serve` splits into front and answer processes; create_app runs all
    role: Role = setting("ROLE", role_setting, "one of " + ", ".join(Role), default=Role.AUTO)
    # an answer process serves its own /metrics on this port (None: off; for answer
    # processes on other machines than the front, which sums only its own machine's)
    metrics_port: int | None = setting(
        "METRICS_PORT", parse.port, "a port number (0-65535)", default=None
    )
    messages_per_minute: int = setting(
        "MESSAGES_PER_MINUTE", parse.positive_int, AT_LEAST_ONE, default=30
    )
    sessions_per_minute: int = setting(
        "SESSIONS_PER_MINUTE", parse.positive_int, AT_LEAST_ONE, default=60
    )
    sockets_per_address: int = setting(
        "SOCKETS_PER_ADDRESS", parse.positive_int, AT_LEAST_ONE, default=20
    )
    sms_codes_per_hour: int = setting(
        "SMS_CODES_PER_HOUR", parse.positive_int, AT_LEAST_ONE, default=100
    )
    sms_codes_per_country_hour: int = setting(
        "SMS_CODES_PER_COUNTRY_HOUR", parse.positive_int, AT_LEAST_ONE, default=50
    )
    sms_allowed_countries: tuple[str, ...] = setting(
        "SMS_ALLOWED_COUNTRIES",
        parse.countries,
        "ISO country codes, comma-separated (e.g. US,CA,GB; the UK is GB), or * for any",
        default=(),  # none: the country of TWILIO_FROM_NUMBER
    )
    trusted_proxies: tuple[Network, ...] = setting(
        "TRUSTED_PROXIES",
        parse.networks,
        "IP addresses or CIDR networks, comma-separated (e.g. 10.0.0.0/8,::1)",
        default=(),
    )
    trusted_proxy_header: ForwardedHeader = setting(
        "TRUSTED_PROXY_HEADER",
        parse.forwarded_header,
        "X-Forwarded-For or Forwarded",
        default=ForwardedHeader.X_FORWARDED_FOR,
    )
    log_level: str = setting(
        "LOG_LEVEL", parse.log_level, "one of " + ", ".join(LOG_LEVELS), default="INFO"
    )
    log_vendor_debug: bool = setting("LOG_VENDOR_DEBUG", parse.flag, FLAG, default=False)
    log_format: str = setting(
        "LOG_FORMAT", logs.log_format, "one of " + ", ".join(logs.LOG_FORMATS), default=logs.TEXT
    )
    # masked (with e-mails, phone numbers, card numbers, IBANs) wherever text leaves
    redact_patterns: tuple[re.Pattern[str], ...] = setting(
        "REDACT_PATTERNS", patterns_setting, PATTERNS, default=()
    )

    @property
    def cache_dir(self) -> Path:
        """Where trained intent models and the exported encoder are cached."""
        return self.data_dir / "cache"

    @property
    def knowledge_folder(self) -> Path | None:
        """The folder of help-centre articles answered from; None: no article answers."""
        if isinstance(self.knowledge_path, Path):
            return self.knowledge_path
        if self.knowledge_path is None and self.intents_path.resolve() == DEFAULT_INTENTS_PATH:
            return DEFAULT_KNOWLEDGE_PATH
        return None

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
        return cls(**{name: spec.read(values, default) for name, spec, default in declared()})


def declared() -> tuple[Declared, ...]:
    """Every setting of :class:`Settings`, in declaration order."""
    return tuple(Declared(f.name, f.metadata[SPEC], f.default) for f in fields(Settings))
