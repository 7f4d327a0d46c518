"""A web chat customer asks about an order: the rasa-sdk action asks for the number, looks it
up, and lets go when the customer changes the subject."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from intents.actions.order_status import ASK_TEXT
from tests.conftest import AppFactory

ClientFactory = Any


async def exchange(ws: aiohttp.ClientWebSocketResponse, text: str) -> str:
    """Send ``text``; return the bot's answer."""
    await ws.send_json({"type": "message", "text": text})
    while True:
        frame = await asyncio.wait_for(ws.receive_json(), 10)
        if frame["type"] == "message" and frame["role"] == "bot":
            return str(frame["text"])


async def test_order_number_is_asked_for_then_looked_up(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app())
    async with client.ws_connect("/webchat/ws") as ws:
        for _ in range(3):
            await ws.receive_json()
        assert await exchange(ws, "where is my order?") == ASK_TEXT
        assert "out for delivery" in await exchange(ws, "100234")
        assert await exchange(ws, "where is my order?") == ASK_TEXT
        hours = await exchange(ws, "what are your opening hours?")
        assert "Monday to Saturday" in hours
        assert "delivered" in await exchange(ws, "where is my order 100598?")
