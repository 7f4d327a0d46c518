"""Answers from the catalogue: templates, escalations and custom actions."""

from __future__ import annotations

from typing import Any

from bot.contracts import Prediction
from bot.models import Conversation
from bot.settings import DEFAULT_INTENTS_PATH
from intents.action_runner import ActionError, ActionResult, InProcessActions
from intents.actions.order_status import ASK_TEXT
from intents.catalogue import load_catalogue
from intents.responder import CatalogueResponder

CONVERSATION = Conversation(id="c", customer_id="c")
CATALOGUE = load_catalogue(DEFAULT_INTENTS_PATH)


def confident(intent: str) -> Prediction:
    return Prediction(intent, 0.9, True)


class FailingActions:
    async def run(self, action: str, conversation: Conversation, prediction: Prediction,
                  text: str, slots: dict[str, Any]) -> ActionResult:
        raise ActionError(f"{action} timed out after 5.0 s")


async def test_answers_and_escalations_come_from_the_catalogue() -> None:
    responder = CatalogueResponder(CATALOGUE)
    hours = await responder.respond(confident("store_hours"), CONVERSATION, "hours?")
    assert hours.text == CATALOGUE.intents["store_hours"].answer
    assert hours.escalate is None
    human = await responder.respond(confident("talk_to_human"), CONVERSATION, "h")
    assert human.escalate == CATALOGUE.intents["talk_to_human"].escalate
    unknown = await responder.respond(confident("nope"), CONVERSATION, "x")
    assert unknown.text is None
    assert unknown.escalate is not None


async def test_an_action_asks_and_pins_the_next_message() -> None:
    responder = CatalogueResponder(CATALOGUE, InProcessActions())
    asked = await responder.respond(confident("order_status"), CONVERSATION, "where's my order")
    assert (asked.text, asked.expect) == (ASK_TEXT, "order_status")
    assert asked.slots == {"requested_slot": "order_number"}
    waiting = Conversation(id="c", customer_id="c", expect="order_status",
                           slots=asked.slots)
    found = await responder.respond(confident("order_status"), waiting, "100412")
    assert found.text is not None
    assert "being packed" in found.text
    assert found.expect is None
    assert found.slots == {"order_number": "100412"}
    declined = await responder.respond(confident("order_status"), waiting, "are you open?")
    assert (declined.text, declined.escalate, declined.expect) == (None, None, None)


async def test_a_failing_action_escalates_with_a_clear_note() -> None:
    responder = CatalogueResponder(CATALOGUE, FailingActions())
    answer = await responder.respond(confident("order_status"), CONVERSATION, "where is it")
    assert answer.text is None
    assert answer.escalate == ("custom action action_order_status failed "
                               "(action_order_status timed out after 5.0 s)")
    without = await CatalogueResponder(CATALOGUE).respond(confident("order_status"),
                                                          CONVERSATION, "x")
    assert without.escalate == "custom action action_order_status is not available"
