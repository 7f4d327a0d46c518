"""The start-up log names the agent desk so a newcomer knows where tickets go."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import AppFactory

ClientFactory = Any


async def test_the_log_names_the_local_console_and_its_address(
    aiohttp_client: ClientFactory, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnibot")
    await aiohttp_client(make_app(port=8123))
    assert "agent desk: the local agent console at http://127.0.0.1:8123/agent" in caplog.text


async def test_behind_a_public_url_the_console_address_is_the_public_one(
    aiohttp_client: ClientFactory, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnibot")
    await aiohttp_client(make_app(public_url="https://support.shop.example"))
    assert "local agent console at https://support.shop.example/agent" in caplog.text
