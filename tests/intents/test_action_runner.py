"""rasa-sdk custom actions: in-process through rasa-sdk's executor and on a real action server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.contracts import Prediction
from bot.embedded_redis import free_port
from bot.models import Conversation, Message, Role
from intents.action_call import action_call
from intents.action_runner import (
    ActionError,
    ActionFailure,
    ActionRunner,
    InProcessActions,
    RemoteActions,
)
from intents.actions.order_status import ASK_TEXT, ActionOrderStatus
from tests.action_server import action_server as serve_actions

PREDICTION = Prediction("order_status", 0.9, True, (("order_status", 0.9),))
CONVERSATION = Conversation(
    id="c1",
    customer_id="c1",
    messages=(Message(role=Role.CUSTOMER, text="hi"), Message(role=Role.BOT, text="Hello!")),
)

ServerFactory = Any


class SlowAction(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_slow"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await asyncio.sleep(5)
        return []


class BrokenAction(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_broken"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raise RuntimeError("database down")


@pytest.fixture(scope="session")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real rasa-sdk action server serving ``intents.actions``."""
    log = tmp_path_factory.mktemp("actions") / "server.log"
    with serve_actions("intents.actions", log) as url:
        yield url


def runners(action_server: str) -> list[ActionRunner]:
    return [InProcessActions(), RemoteActions(action_server)]


def test_the_action_call_follows_rasa_s_webhook_format() -> None:
    call = action_call(
        "action_order_status",
        CONVERSATION,
        PREDICTION,
        "where is 100234",
        {"requested_slot": "order_number"},
    )
    assert call["next_action"] == "action_order_status"
    tracker = call["tracker"]
    assert tracker["sender_id"] == "c1"
    assert tracker["latest_message"]["text"] == "where is 100234"
    assert tracker["latest_message"]["intent"] == {"name": "order_status", "confidence": 0.9}
    assert [e["event"] for e in tracker["events"]] == ["user", "bot"]
    assert tracker["slots"] == {"requested_slot": "order_number"}
    json.dumps(call)


@pytest.mark.parametrize("where", ["in-process", "remote"])
async def test_order_status_asks_then_answers(action_server: str, where: str) -> None:
    runner = runners(action_server)[where == "remote"]
    asked = await runner.run(
        "action_order_status", CONVERSATION, PREDICTION, "where is my order?", {}
    )
    assert asked.texts == (ASK_TEXT,)
    assert asked.slot("requested_slot") == (True, "order_number")
    found = await runner.run(
        "action_order_status",
        CONVERSATION,
        PREDICTION,
        "it's #100234",
        {"requested_slot": "order_number"},
    )
    assert found.texts == ("Order 100234 is out for delivery. It should reach you by 8pm today.",)
    assert found.slot("requested_slot") == (True, None)
    unknown = await runner.run("action_order_status", CONVERSATION, PREDICTION, "order 999999", {})
    assert "couldn't find order 999999" in unknown.texts[0]


def orders_file(path: Path, number: str, status: str) -> Path:
    path.write_text(json.dumps({number: {"status": status, "detail": "Sorry!"}}))
    return path


async def test_in_process_the_orders_file_comes_from_the_runner_s_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = orders_file(tmp_path / "orders.json", "55555", "lost")
    monkeypatch.setenv("ORDERS_PATH", str(orders_file(tmp_path / "env.json", "55555", "env")))
    result = await InProcessActions(orders_path=configured).run(
        "action_order_status", CONVERSATION, PREDICTION, "55555", {}
    )
    assert result.texts == ("Order 55555 is lost. Sorry!",)
    sample = await InProcessActions().run(
        "action_order_status", CONVERSATION, PREDICTION, "55555", {}
    )
    assert "couldn't find order 55555" in sample.texts[0]  # the bundled sample, not the env


async def test_an_action_server_s_instance_reads_its_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_PATH", str(orders_file(tmp_path / "env.json", "55555", "env")))
    runner = InProcessActions()
    runner.executor.register_action(ActionOrderStatus())  # built as rasa-sdk's server does
    result = await runner.run("action_order_status", CONVERSATION, PREDICTION, "55555", {})
    assert result.texts == ("Order 55555 is env. Sorry!",)


async def kind_of(runner: ActionRunner, action: str) -> tuple[ActionFailure, str]:
    """The kind and action of the ActionError that running ``action`` raises."""
    with pytest.raises(ActionError) as caught:
        await runner.run(action, CONVERSATION, PREDICTION, "x", {})
    assert caught.value.detail
    return caught.value.kind, caught.value.action


async def test_in_process_failures_are_told_apart_by_kind() -> None:
    runner = InProcessActions(timeout_s=0.2)
    runner.executor.register_action(SlowAction)
    runner.executor.register_action(BrokenAction)
    assert await kind_of(runner, "action_slow") == (ActionFailure.TIMEOUT, "action_slow")
    assert await kind_of(runner, "action_broken") == (ActionFailure.FAILED, "action_broken")
    assert await kind_of(runner, "action_missing") == (ActionFailure.NOT_FOUND, "action_missing")


async def test_remote_failures_are_told_apart_by_kind(
    action_server: str, aiohttp_server: ServerFactory
) -> None:
    assert await kind_of(RemoteActions(action_server), "action_missing") == (
        ActionFailure.NOT_FOUND,
        "action_missing",
    )
    nowhere = RemoteActions(f"http://127.0.0.1:{free_port()}/webhook")
    assert await kind_of(nowhere, "action_order_status") == (
        ActionFailure.UNREACHABLE,
        "action_order_status",
    )

    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    async def error(request: web.Request) -> web.Response:
        return web.json_response({"error": "database down"}, status=500)

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    async def wrong_url(request: web.Request) -> web.Response:
        return web.json_response({"error": "no such route"}, status=404)

    app = web.Application()
    for path, handler in [
        ("/stall", stall),
        ("/error", error),
        ("/html", not_json),
        ("/other", wrong_url),
    ]:
        app.router.add_post(path, handler)
    server = await aiohttp_server(app)
    base = f"http://127.0.0.1:{server.port}"
    for path, kind in [
        ("/stall", ActionFailure.TIMEOUT),
        ("/error", ActionFailure.FAILED),
        ("/html", ActionFailure.UNREACHABLE),
        ("/other", ActionFailure.FAILED),
    ]:
        runner = RemoteActions(base + path, timeout_s=0.2)
        assert await kind_of(runner, "action_order_status") == (kind, "action_order_status")
