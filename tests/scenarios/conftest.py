"""Fixtures of the end-to-end scenarios: a real headless Chromium (Debian's, never a download),
and data directories for `omnibot serve` processes."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.serve_process import REDIS_PORTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium, closed after the test."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory for `omnibot serve`; no redis-server of it may outlive the test."""
    yield tmp_path
    for port in REDIS_PORTS.pop(tmp_path, []):
        with socket.socket() as probe:  # nothing may listen there once omnibot stopped
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "redis-server outlived omnibot"
