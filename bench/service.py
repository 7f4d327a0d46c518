"""Running ``omnibot serve`` for the benches: its environment, start, health, stop.

The bench scripts run as ``python bench/<script>.py`` from the repository root, with this
directory importable; each starts the checkout it belongs to (``PYTHONPATH``), from a work
directory (so no ``.env`` of the caller's changes the settings).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import aiohttp

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402

PUBLIC_URL = "https://bench.example.com"
SHOP_NUMBER = "+15550000100"
STARTUP_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0


def prepare_data_dir(workdir: Path, cache: Path | None) -> Path:
    """A fresh data directory in ``workdir``, its ``cache`` linked to ``cache`` if given."""
    data = workdir / "data"
    data.mkdir()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (data / "cache").symlink_to(cache.resolve(), target_is_directory=True)
    return data


def serve_env(
    data: Path, port: int, concurrency: int | None, log_level: str | None = "WARNING"
) -> dict[str, str]:
    """The service's environment: no REDIS_URL (the embedded server starts), no vendors, the
    rate limits out of the way; ``log_level`` None keeps the caller's."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("REDIS_", "OMNIBOT_", "TWILIO_", "SLACK_"))
        and name not in {"PROCESSING_CONCURRENCY", "INTENTS_PATH", "PUBLIC_URL"}
    }
    env.update(
        OMNIBOT_DATA_DIR=str(data),
        HOST="127.0.0.1",
        PORT=str(port),
        HF_HUB_OFFLINE="1",
        # one load generator on one address, each customer faster than any person types
        MESSAGES_PER_MINUTE="100000",
        SESSIONS_PER_MINUTE="100000",
    )
    if log_level is not None:
        env["LOG_LEVEL"] = log_level
    if concurrency is not None:
        env["PROCESSING_CONCURRENCY"] = str(concurrency)
    # serve the checkout this script belongs to, whatever the installed omnibot points at
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    return env


def sms_env(api_url: str) -> dict[str, str]:
    """Settings that switch SMS on against a fake Twilio API at ``api_url``."""
    return {
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": SHOP_NUMBER,
        "TWILIO_API_URL": api_url,
    }


async def launch(
    workdir: Path,
    env: dict[str, str],
    log: IO[bytes],
    session: aiohttp.ClientSession,
    options: Sequence[str] = (),
) -> tuple[asyncio.subprocess.Process, str]:
    """``omnibot serve`` with ``env`` (its ``PORT``), healthy; its process and root URL.
    RuntimeError (the process stopped) when it exits or is not healthy in time."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "omnibot", "serve", *options),
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=log,
        stdin=asyncio.subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{env['PORT']}"
    try:
        await wait_healthy(process, root, session)
    except RuntimeError:
        await stop_service(process)
        raise
    return process, root


async def wait_healthy(
    process: asyncio.subprocess.Process, root: str, session: aiohttp.ClientSession
) -> None:
    """Until ``/healthz`` answers 200; RuntimeError when the service exits or takes too long."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"omnibot serve exited with status {process.returncode}")
        try:
            async with session.get(f"{root}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError(f"omnibot serve was not healthy within {STARTUP_TIMEOUT_S:.0f} s")


async def stop_service(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (the service drains its work), then SIGKILL if it takes too long."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
