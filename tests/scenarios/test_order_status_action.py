"""A web chat customer asks about an order: the rasa-sdk action asks for the number, looks it
up, and lets go when the customer changes the subject."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.contracts import Prediction
from bot.models import Address, Conversation
from intents.actions.order_status import ASK_TEXT
from omnibot.engine import Intents, build_intents
from omnibot.services import SERVICES
from omnibot.settings import Settings
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
    app = make_app()
    client = await aiohttp_client(app)
    async with client.ws_connect("/webchat/ws") as ws:
        token = (await ws.receive_json())["token"]
        for _ in range(2):
            await ws.receive_json()
        assert await exchange(ws, "where is my order?") == ASK_TEXT
        assert "out for delivery" in await exchange(ws, "100234")
        # what the action learnt stays on the customer's profile (a form's progress does not)
        store = app[SERVICES].store
        cid = await store.customer_for(Address("webchat", token))
        assert cid is not None
        assert (await store.customer(cid)).attributes == {"order_number": "100234"}
        assert await exchange(ws, "where is my order?") == ASK_TEXT
        hours = await exchange(ws, "what are your opening hours?")
        assert "Monday to Saturday" in hours
        assert "delivered" in await exchange(ws, "where is my order 100598?")


async def test_orders_path_in_dot_env_takes_effect(
    intents: Intents, intents_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = tmp_path / "orders.json"
    orders.write_text(json.dumps({"777777": {"status": "held at customs", "detail": "Sorry!"}}))
    (tmp_path / ".env").write_text(f"ORDERS_PATH={orders}\nOMNIBOT_DATA_DIR={intents_data_dir}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDERS_PATH", raising=False)
    monkeypatch.delenv("OMNIBOT_DATA_DIR", raising=False)
    configured = build_intents(Settings.from_env())  # the trained model comes from the cache
    try:
        prediction = Prediction("order_status", 1.0, True)
        conversation = Conversation(id="c", customer_id="c")
        answer = await configured.responder.respond(prediction, conversation, "order 777777")
    finally:
        configured.classifier.close()
    assert answer.text is not None
    assert "held at customs" in answer.text


async def test_asking_again_in_other_words_is_answered_not_escalated(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    client = await aiohttp_client(make_app())
    async with client.ws_connect("/webchat/ws") as ws:
        for _ in range(3):
            await ws.receive_json()
        assert await exchange(ws, "where is my order?") == ASK_TEXT
        assert await exchange(ws, "where is my package") == ASK_TEXT
        assert "out for delivery" in await exchange(ws, "100234")
