"""``INTENTS_PATH`` naming a Rasa 3 project folder: the service answers with the project's own
responses, as its rules say, and escalates what no rule answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.models import Address
from connectors.console.log_desk import LogDesk
from intents.catalogue import Reply
from intents.rasa_project import load_project
from omnibot.app import create_app
from omnibot.engine import Intents, build_intents
from omnibot.services import SERVICES
from omnibot.settings import Settings
from tests.support.action_server import action_server
from tests.support.webchat_client import Frame, frame, opening

ClientFactory = Any
PROJECT = Path(__file__).resolve().parent.parent / "data" / "rasa_project"


@pytest.fixture(scope="module")
def rasa_intents(intents_data_dir: Path) -> Intents:
    """The engine trained on the test project's NLU (the exported encoder is shared)."""
    return build_intents(Settings(data_dir=intents_data_dir, intents_path=PROJECT))


def variants(intent: str) -> list[tuple[str, ...]]:
    catalogue, _ = load_project(PROJECT)
    return [step.variants for step in catalogue.intents[intent].steps if isinstance(step, Reply)]


async def answers(ws: Any, text: str, count: int) -> list[Frame]:
    """Send ``text``; the next ``count`` bot message frames."""
    await ws.send_json({"type": "message", "text": text})
    said: list[Frame] = []
    while len(said) < count:
        got = await frame(ws)
        if got["type"] == "message" and got["role"] == "bot":
            said.append(got)
    return said


async def test_the_projects_own_responses_answer_as_its_rules_say(
    aiohttp_client: ClientFactory, settings: Settings, rasa_intents: Intents
) -> None:
    app: web.Application = create_app(
        replace(settings, intents_path=PROJECT), intents=rasa_intents, desk=LogDesk()
    )
    client = await aiohttp_client(app)
    async with client.ws_connect("/webchat/ws") as ws:
        await opening(ws)
        for text, intent in [
            ("are you a bot?", "bot_challenge"),
            ("thanks a lot", "thankyou"),
            ("goodbye", "goodbye"),
            ("hello there", "greet"),
        ]:
            [said] = await answers(ws, text, 1)
            [choices] = variants(intent)
            assert said["text"] in choices, (text, said)
        helped = await answers(ws, "what can you help me with?", 2)
        assert [m["text"] for m in helped] == [
            "I can check your balance and help with transfers.",
            "Anything else I can do?",  # {amount} unknown: that sentence is left out
        ]
        assert helped[-1]["options"] == ["Yes", "No"]  # quick replies
        [chosen] = await answers(ws, "1", 1)  # a bare number picks an option, as by SMS
        assert chosen["text"] == "Great, let's go on."
        await ws.send_json({"type": "message", "text": "I want to transfer money"})
        while (got := await asyncio.wait_for(ws.receive_json(), 10))["type"] != "state":
            pass
        assert got["state"] == "waiting"  # no importable rule: an agent takes it


@pytest.fixture(scope="module")
def project_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The project's own actions (``actions/``) on a real rasa-sdk server."""
    log = tmp_path_factory.mktemp("project-actions") / "server.log"
    with action_server("actions", log, cwd=PROJECT) as url:
        yield url


async def test_a_rule_runs_the_projects_custom_action_on_its_action_server(
    aiohttp_client: ClientFactory,
    settings: Settings,
    intents_data_dir: Path,
    rasa_intents: Intents,
    project_actions: str,
) -> None:
    engine = Settings(data_dir=intents_data_dir, intents_path=PROJECT)
    intents = build_intents(replace(engine, action_endpoint=project_actions))  # cached model
    configured = replace(settings, intents_path=PROJECT, action_endpoint=project_actions)
    client = await aiohttp_client(create_app(configured, intents=intents, desk=LogDesk()))
    try:
        async with client.ws_connect("/webchat/ws") as ws:
            token, _, _ = await opening(ws)
            [said] = await answers(ws, "what is my balance?", 1)
            assert said["text"] == "Your balance is $1,234.56."
            cid = await client.app[SERVICES].store.customer_for(Address("webchat", token))
            assert cid is not None
            await client.app[SERVICES].store.remember(cid, {"name": "Ana"})
            [said] = await answers(ws, "show my account balance", 1)
            assert said["text"] == "Hi Ana, your balance is $1,234.56."  # the profile, too
    finally:
        intents.classifier.close()
