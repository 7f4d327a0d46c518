"""Text that is not valid Unicode: a web chat frame with a lone UTF-16 surrogate (the JSON escape
``\\ud800``, which no UTF-8 encoder or tokenizer takes) is stored clean and answered, and so is
everything after it; an agent's reply with one reaches the customer clean."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.models import Address
from omnibot.services import SERVICES
from tests.conftest import AppFactory
from tests.support.webchat_client import frames, opening

ClientFactory = Any
LONE_SURROGATE = "\\ud800"  # as the JSON text carries it: one backslash escape
REPLACEMENT = "\ufffd"


def text_frame(text: str) -> str:
    """A client message frame written by hand, so the escape reaches the server as it is."""
    return '{"type": "message", "text": "' + text + '"}'


async def test_a_lone_surrogate_is_stored_clean_and_the_conversation_goes_on(
    aiohttp_client: ClientFactory, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = await aiohttp_client(make_app())
    services = client.app[SERVICES]
    with caplog.at_level(logging.INFO):
        async with client.ws_connect("/webchat/ws") as ws:
            token, _, _ = await opening(ws)
            await ws.send_str(text_frame(f"where is my order? {LONE_SURROGATE}"))
            echo, answer = await frames(ws, 2)
            assert (echo["role"], echo["text"]) == ("customer", f"where is my order? {REPLACEMENT}")
            assert answer["role"] == "bot"
            assert "order" in answer["text"].lower()

            await ws.send_str(text_frame(LONE_SURROGATE))  # nothing but the surrogate
            echo, answer = await frames(ws, 2)
            assert (echo["text"], answer["role"]) == (REPLACEMENT, "bot")

            await ws.send_json({"type": "message", "text": "is shipping free?"})
            echo, answer = await frames(ws, 2)
            assert (echo["text"], answer["role"]) == ("is shipping free?", "bot")

            cid = await services.store.customer_for(Address("webchat", token))
            assert cid is not None
            await ws.send_json({"type": "message", "text": "I want to talk to a human"})
            await frames(ws, 3)  # echo, the notice, state waiting
            await services.handoff.agent_reply(cid, "Da\ud800na", "On it\ud800\x00!")
            _, _, reply = await frames(ws, 3)  # joined, state agent, the reply
            assert (reply["role"], reply["author"], reply["text"]) == (
                "agent",
                f"Da{REPLACEMENT}na",
                f"On it{REPLACEMENT}!",
            )
    history = (await services.store.load(cid)).messages
    assert all(m.text.encode("utf-8") for m in history)  # raises on any surrogate left
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
