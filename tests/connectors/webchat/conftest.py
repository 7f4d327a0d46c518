"""The web chat app through aiohttp's test client, on a real Redis with the real engine."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AppFactory

ClientFactory = Any  # pytest-aiohttp's aiohttp_client fixture


@pytest.fixture
async def client(aiohttp_client: ClientFactory, make_app: AppFactory) -> TestClient[Any, Any]:
    """A test client of an app that allows one other origin, ``https://shop.example``."""
    result: TestClient[Any, Any] = await aiohttp_client(
        make_app(webchat_allowed_origins=("https://shop.example",))
    )
    return result
