"""Service settings, read once from the environment (and a ``.env`` file when present)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_INTENTS_PATH = Path(__file__).resolve().parent.parent / "intents" / "retail.yml"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())


def _float(value: str | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Settings:
    """Every knob of the service; each one is documented in ``.env.example``."""

    redis_url: str | None = None
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_escalation_channel: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    intents_path: Path = DEFAULT_INTENTS_PATH
    confidence_threshold: float | None = None
    target_precision: float = 0.98
    encoder: str = "onnx-int8"
    action_endpoint: str | None = None
    webchat_allowed_origins: tuple[str, ...] = ()
    retention_days: int = 30
    log_level: str = "INFO"

    @property
    def cache_dir(self) -> Path:
        """Where trained intent models and the exported encoder are cached."""
        return self.data_dir / "cache"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 env_file: str | Path | None = ".env") -> Settings:
        """Build settings from ``environ`` (default: the process environment) over ``env_file``."""
        source: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            source.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        source.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = source.get(name, "").strip()
            return value or None

        default = cls()
        return cls(
            redis_url=get("REDIS_URL"),
            data_dir=Path(get("OMNIBOT_DATA_DIR") or default.data_dir),
            host=get("HOST") or default.host,
            port=int(get("PORT") or default.port),
            public_url=(get("PUBLIC_URL") or "").rstrip("/") or None,
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_from_number=get("TWILIO_FROM_NUMBER"),
            twilio_api_url=get("TWILIO_API_URL") or default.twilio_api_url,
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_escalation_channel=get("SLACK_ESCALATION_CHANNEL"),
            slack_api_url=get("SLACK_API_URL") or default.slack_api_url,
            intents_path=Path(get("INTENTS_PATH") or default.intents_path),
            confidence_threshold=_float(get("CONFIDENCE_THRESHOLD")),
            target_precision=float(get("TARGET_PRECISION") or default.target_precision),
            encoder=get("ENCODER") or default.encoder,
            action_endpoint=get("ACTION_ENDPOINT"),
            webchat_allowed_origins=_split(get("WEBCHAT_ALLOWED_ORIGINS") or ""),
            retention_days=int(get("RETENTION_DAYS") or default.retention_days),
            log_level=(get("LOG_LEVEL") or default.log_level).upper(),
        )
