"""A web chat customer from first question to an agent and back, across two processes."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.models import Address
from bot.texts import Texts
from omnibot.services import SERVICES
from tests.conftest import AppFactory
from tests.support.webchat_client import frame, frames

ClientFactory = Any

TEXTS = Texts()


async def test_question_escalation_agent_and_back(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    # Two omnibot processes share one Redis; the customer is connected to the first, the agent's
    # actions arrive at the second (as Slack's webhooks may).
    customer_side = await aiohttp_client(make_app())
    agent_side = await aiohttp_client(make_app())
    handoff = agent_side.app[SERVICES].handoff
    async with customer_side.ws_connect("/webchat/ws") as ws:
        token = (await frames(ws, 3))[0]["token"]

        await ws.send_json({"type": "message", "text": "where is my order?"})
        echo, answer = await frames(ws, 2)
        assert (echo["role"], answer["role"]) == ("customer", "bot")

        await ws.send_json({"type": "message", "text": "I want to talk to a human"})
        echo, notice, state = await frames(ws, 3)
        assert (notice["role"], state) == ("bot", {"type": "state", "state": "waiting"})
        assert "agent will join" in notice["text"]

        store = customer_side.app[SERVICES].store
        cid = await store.customer_for(Address("webchat", token))
        assert cid is not None
        await handoff.claim(cid, "Dana")
        joined, state = await frames(ws, 2)
        assert (joined["role"], joined["text"]) == ("system", TEXTS.joined.format(agent="Dana"))
        assert state["state"] == "agent"

        await handoff.agent_reply(cid, "Dana", "Hi, I'm looking at your order now.")
        reply = await frame(ws)
        assert (reply["role"], reply["author"]) == ("agent", "Dana")

        await ws.send_json({"type": "message", "text": "thanks!"})
        assert (await frame(ws))["role"] == "customer"  # no bot answer while with an agent

        await handoff.back_to_bot(cid, "Dana", resolved=True)
        back, state = await frames(ws, 2)
        assert back["role"] == "system"
        assert state["state"] == "bot"

    async with agent_side.ws_connect(f"/webchat/ws?token={token}") as ws:
        _, history, state = await frames(ws, 3)
    assert [m["role"] for m in history["messages"]] == [
        "customer",
        "bot",
        "customer",
        "bot",
        "system",
        "agent",
        "customer",
        "system",
    ]
    assert state["state"] == "bot"


ANSWER_OPENINGS = {"hello": "Hi!", "thanks": "You're"}


async def test_one_customer_two_processes_one_ordered_history(
    aiohttp_client: ClientFactory, make_app: AppFactory
) -> None:
    first, second = await aiohttp_client(make_app()), await aiohttp_client(make_app())
    async with first.ws_connect("/webchat/ws") as a:
        token = (await frames(a, 3))[0]["token"]
        async with second.ws_connect(f"/webchat/ws?token={token}") as b:
            await frames(b, 3)
            await asyncio.gather(
                a.send_json({"type": "message", "text": "hello"}),
                b.send_json({"type": "message", "text": "thanks"}),
            )
            seen_a, seen_b = await frames(a, 4), await frames(b, 4)
    assert [f["id"] for f in seen_a] == [f["id"] for f in seen_b]
    # Both are stored as they arrive; the answers then follow in the same order.
    asked = [f["text"] for f in seen_a if f["role"] == "customer"]
    answers = [f["text"] for f in seen_a if f["role"] == "bot"]
    assert sorted(asked) == ["hello", "thanks"]
    assert seen_a[0]["role"] == "customer"
    assert [ANSWER_OPENINGS[text] for text in asked] == [a.split()[0] for a in answers]
