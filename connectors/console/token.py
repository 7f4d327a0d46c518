"""The agent console's token: ``AGENT_CONSOLE_TOKEN``, or one generated on the first start.

The generated token lives in the data directory (``OMNIBOT_DATA_DIR``), readable by its owner
only, so every worker of ``omnibot serve --workers N`` and every later start use the same one.
It is written to a temporary file and hard-linked into place: linking fails when the file
already exists, so of several processes starting at once exactly one creates it and the others
read that complete file. Only the creator logs the sign-in URL with the token, once.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

TOKEN_FILE = "agent_console_token"  # noqa: S105 - a file name, not a secret
TOKEN_BYTES = 32  # 43 URL-safe characters
MIN_TOKEN_CHARS = 24  # long enough that guessing is hopeless (also for AGENT_CONSOLE_TOKEN)
FILE_MODE = 0o600
SETTING = "AGENT_CONSOLE_TOKEN"

log = logging.getLogger(__name__)


class TokenError(ValueError):
    """A console token that cannot be used: the setting, what was found (never the secret itself)
    and what is expected; the composition root reports it as a setting error."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        super().__init__(f"setting {name}={value!r} is not valid: expected {expected}")
        self.name = name
        self.value = value
        self.expected = expected


def console_token(configured: str | None, data_dir: Path, console_url: str) -> str:
    """The token the console checks: ``configured``, else the data directory's (created now
    when missing). ``console_url`` is where the sign-in link points."""
    if configured is not None:
        check_token(configured)
        return configured
    path = data_dir / TOKEN_FILE
    token = _read(path)
    if token is None:
        token, created = _create(path)
        if created:
            log.warning(
                "agent console: a token was generated and stored in %s; sign in at %s#token=%s",
                path,
                console_url,
                token,
            )
            return token
    log.info("agent console: sign in at %s with the token stored in %s", console_url, path)
    return token


def check_token(token: str) -> None:
    """Refuse a token too short to withstand guessing (:class:`TokenError`)."""
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenError(
            SETTING,
            f"<{len(token)} characters>",  # never echo a secret
            f"at least {MIN_TOKEN_CHARS} characters, e.g. from 'openssl rand -hex 24'",
        )


def _read(path: Path) -> str | None:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if path.stat().st_mode & 0o077:  # readable by others: tighten, the token is a password
        os.chmod(path, FILE_MODE)
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenError(
            SETTING,
            f"<{len(token)} characters in {path}>",
            f"at least {MIN_TOKEN_CHARS} characters (delete the file for a new token)",
        )
    return token


def _create(path: Path) -> tuple[str, bool]:
    """Write a new token unless another process got there first; (token, created here)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    temporary = path.with_name(f".{TOKEN_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(token + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)  # atomic, and fails if the file exists
    except FileExistsError:
        existing = _read(path)
        assert existing is not None  # it exists: the link said so
        return existing, False
    finally:
        temporary.unlink(missing_ok=True)
    return token, True
