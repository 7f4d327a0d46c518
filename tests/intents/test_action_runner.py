"""rasa-sdk custom actions: in-process through rasa-sdk's executor and on a real action server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.contracts import Prediction
from bot.models import Address, Conversation, Customer, Message, Role
from bot.storage.embedded import free_port
from intents.action_call import HANDOFF_SLOT, VERIFIED_PHONE_SLOT, action_call
from intents.action_runner import (
    ActionError,
    ActionFailure,
    ActionRunner,
    InProcessActions,
    RemoteActions,
)
from intents.actions.order_status import (
    ASK_TEXT,
    NOT_FOUND_REASON,
    NOT_FOUND_SLOT,
    VERIFY_TEXT,
    ActionOrderStatus,
)
from tests.support.action_server import action_server as serve_actions

PREDICTION = Prediction("order_status", 0.9, True, (("order_status", 0.9),))
CONVERSATION = Conversation(
    id="c1",
    customer_id="c1",
    messages=(Message(role=Role.CUSTOMER, text="hi"), Message(role=Role.BOT, text="Hello!")),
)
OWNER = "+15557654321"  # the phone on sample order 100234
DETAILS = "Order 100234 is out for delivery. It should reach you by 8pm today."
NOT_THEIRS = VERIFY_TEXT.format(number="100234", status="out for delivery")

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


@pytest.mark.parametrize(
    ("conversation", "slots", "verified"),
    [
        (CONVERSATION, {VERIFIED_PHONE_SLOT: OWNER, "phone": OWNER}, None),
        (replace(CONVERSATION, last_address=Address("sms", OWNER)), {}, OWNER),
        (
            replace(CONVERSATION, customer=Customer(id="c1", phone=OWNER)),
            {VERIFIED_PHONE_SLOT: "+15550000000"},
            OWNER,
        ),
    ],
)
def test_the_verified_phone_comes_from_the_conversation_never_from_the_slots(
    conversation: Conversation, slots: dict[str, str], verified: str | None
) -> None:
    call = action_call("action_order_status", conversation, PREDICTION, "100234", slots)
    assert call["tracker"]["slots"].get(VERIFIED_PHONE_SLOT) == verified


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
        replace(CONVERSATION, last_address=Address("sms", OWNER)),
        PREDICTION,
        "it's #100234",
        {"requested_slot": "order_number"},
    )
    assert found.texts == (DETAILS,)
    assert found.slot("requested_slot") == (True, None)
    unknown = await runner.run("action_order_status", CONVERSATION, PREDICTION, "order 999999", {})
    assert "couldn't find order 999999" in unknown.texts[0]


OWNERS_VIEW = [
    replace(CONVERSATION, last_address=Address("sms", OWNER)),  # texting from it
    replace(CONVERSATION, customer=Customer(id="c1", phone="+1 (555) 765-4321")),  # linked
]
STRANGERS_VIEW = [
    (CONVERSATION, {}),  # a web chat visitor who verified nothing
    (CONVERSATION, {"phone": OWNER, VERIFIED_PHONE_SLOT: OWNER}),  # slots claiming the phone
    (replace(CONVERSATION, last_address=Address("sms", "+15550100377")), {}),  # another phone
    (replace(CONVERSATION, customer=Customer(id="c1", email="ana@example.com")), {}),
]


@pytest.mark.parametrize("where", ["in-process", "remote"])
async def test_order_details_are_shown_only_to_the_phone_verified_as_the_order_s(
    action_server: str, where: str
) -> None:
    runner = runners(action_server)[where == "remote"]
    for owner in OWNERS_VIEW:
        found = await runner.run("action_order_status", owner, PREDICTION, "100234", {})
        assert found.texts == (DETAILS,)
    for stranger, slots in STRANGERS_VIEW:
        told = await runner.run("action_order_status", stranger, PREDICTION, "100234", slots)
        assert told.texts == (NOT_THEIRS,)
        assert "8pm" not in told.texts[0]
    named = {"name": "Ana"}  # the profile, as the responder passes it
    told = await runner.run("action_order_status", CONVERSATION, PREDICTION, "100234", named)
    assert told.texts == ("Hi Ana, " + NOT_THEIRS[0].lower() + NOT_THEIRS[1:],)


class ClaimingAction(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_claim_phone"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="noted")
        return [SlotSet("phone", OWNER), SlotSet(VERIFIED_PHONE_SLOT, OWNER), SlotSet("size", "M")]


async def test_an_action_cannot_set_the_verified_phone() -> None:
    runner = InProcessActions()
    runner.executor.register_action(ClaimingAction)
    result = await runner.run("action_claim_phone", CONVERSATION, PREDICTION, "x", {})
    assert result.texts == ("noted",)
    assert result.slot("phone") == (False, None)
    assert result.slot(VERIFIED_PHONE_SLOT) == (False, None)
    assert result.slot("size") == (True, "M")


def orders_file(path: Path, number: str, status: str, phone: str = OWNER) -> Path:
    order = {"status": status, "detail": "Sorry!", "phone": phone}
    path.write_text(json.dumps({number: order}))
    return path


async def test_in_process_the_orders_file_comes_from_the_runner_s_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = orders_file(tmp_path / "orders.json", "55555", "lost")
    monkeypatch.setenv("ORDERS_PATH", str(orders_file(tmp_path / "env.json", "55555", "env")))
    result = await InProcessActions(orders_path=configured).run(
        "action_order_status", OWNERS_VIEW[0], PREDICTION, "55555", {}
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
    result = await runner.run("action_order_status", OWNERS_VIEW[0], PREDICTION, "55555", {})
    assert result.texts == ("Order 55555 is env. Sorry!",)


async def test_an_order_without_a_phone_shows_its_details_to_nobody(tmp_path: Path) -> None:
    orders = tmp_path / "orders.json"
    orders.write_text(json.dumps({"55555": {"status": "lost", "detail": "Sorry!"}}))
    result = await InProcessActions(orders_path=orders).run(
        "action_order_status", OWNERS_VIEW[0], PREDICTION, "55555", {}
    )
    assert result.texts == (VERIFY_TEXT.format(number="55555", status="lost"),)


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


async def test_a_second_order_number_not_found_goes_to_a_person() -> None:
    runner = InProcessActions()
    first = await runner.run("action_order_status", CONVERSATION, PREDICTION, "it's 999999", {})
    assert "couldn't find order 999999" in first.texts[0]
    assert first.slot(NOT_FOUND_SLOT) == (True, "999999")
    slots = {"requested_slot": "order_number", NOT_FOUND_SLOT: "999999"}
    second = await runner.run("action_order_status", CONVERSATION, PREDICTION, "998877", slots)
    assert second.texts == ("I can't find order 998877 either.",)
    assert second.slot(HANDOFF_SLOT) == (True, NOT_FOUND_REASON)
    assert second.slot("requested_slot") == (True, None)
    found = await runner.run("action_order_status", CONVERSATION, PREDICTION, "100234", slots)
    assert found.slot(NOT_FOUND_SLOT) == (True, None)  # a number found clears the miss
    assert found.slot(HANDOFF_SLOT) == (False, None)
