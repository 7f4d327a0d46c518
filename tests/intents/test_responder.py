"""Answers from the catalogue: templates, escalations and custom actions."""

from __future__ import annotations

from typing import Any

import pytest

from bot.contracts import Prediction
from bot.models import Conversation, Customer
from bot.pipeline.reading import NO_ANSWER_REASON
from intents.action_runner import ActionError, ActionFailure, ActionResult, InProcessActions
from intents.actions.order_status import ASK_TEXT
from intents.catalogue import Catalogue, Intent, load_catalogue
from intents.responder import (
    ACTION_FAILED_REASONS,
    NO_RUNNER_REASON,
    CatalogueResponder,
    render,
)
from omnibot.settings import DEFAULT_INTENTS_PATH

CONVERSATION = Conversation(id="c", customer_id="c")
CATALOGUE = load_catalogue(DEFAULT_INTENTS_PATH)


def confident(intent: str) -> Prediction:
    return Prediction(intent, 0.9, True)


class FailingActions:
    def __init__(self, kind: ActionFailure) -> None:
        self.kind = kind

    async def run(
        self,
        action: str,
        conversation: Conversation,
        prediction: Prediction,
        text: str,
        slots: dict[str, Any],
    ) -> ActionResult:
        raise ActionError(action, self.kind, f"customer {conversation.id} said {text!r}")


async def test_answers_and_escalations_come_from_the_catalogue() -> None:
    responder = CatalogueResponder(CATALOGUE)
    hours = await responder.respond(confident("store_hours"), CONVERSATION, "hours?")
    assert hours.text == CATALOGUE.intents["store_hours"].answer
    assert hours.escalate is None
    human = await responder.respond(confident("talk_to_human"), CONVERSATION, "h")
    assert human.escalate == CATALOGUE.intents["talk_to_human"].escalate
    unknown = await responder.respond(confident("nope"), CONVERSATION, "x")
    assert unknown.text is None
    assert unknown.escalate == NO_ANSWER_REASON  # one reason for every unknown intent


async def test_a_plain_answer_carries_its_intents_buttons() -> None:
    offer = Intent(
        "off_topic", ("a", "b"), answer="Only shop things.", options=("Talk to a person",)
    )
    plain = Intent("hours", ("c", "d"), answer="9 to 5.")
    responder = CatalogueResponder(Catalogue({"off_topic": offer, "hours": plain}))
    offered = await responder.respond(confident("off_topic"), CONVERSATION, "weather?")
    assert (offered.text, offered.options) == ("Only shop things.", ("Talk to a person",))
    assert offered.escalate is None
    assert (await responder.respond(confident("hours"), CONVERSATION, "open?")).options == ()


async def test_a_repair_intents_answer_says_it_is_one() -> None:
    repair = Intent("missed", ("a", "b"), answer="Sorry, say it another way?", repair=True)
    plain = Intent("hours", ("c", "d"), answer="9 to 5.")
    responder = CatalogueResponder(Catalogue({"missed": repair, "hours": plain}))
    assert (await responder.respond(confident("missed"), CONVERSATION, "no!")).repair
    assert not (await responder.respond(confident("hours"), CONVERSATION, "open?")).repair


async def test_an_action_asks_and_pins_the_next_message() -> None:
    responder = CatalogueResponder(CATALOGUE, InProcessActions())
    asked = await responder.respond(confident("order_status"), CONVERSATION, "where's my order")
    assert (asked.text, asked.expect) == (ASK_TEXT, "order_status")
    assert asked.slots == {"requested_slot": "order_number"}
    waiting = Conversation(id="c", customer_id="c", expect="order_status", slots=asked.slots)
    found = await responder.respond(confident("order_status"), waiting, "100412")
    assert found.text is not None
    assert "being packed" in found.text
    assert found.expect is None
    assert found.slots == {"order_number": "100412"}
    declined = await responder.respond(confident("order_status"), waiting, "are you open?")
    assert (declined.text, declined.escalate, declined.expect) == (None, None, None)


@pytest.mark.parametrize("kind", list(ActionFailure))
async def test_a_failing_action_escalates_with_its_kind_of_failure(
    kind: ActionFailure, caplog: pytest.LogCaptureFixture
) -> None:
    responder = CatalogueResponder(CATALOGUE, FailingActions(kind))
    answer = await responder.respond(confident("order_status"), CONVERSATION, "where is it")
    assert answer.text is None
    assert answer.escalate == ACTION_FAILED_REASONS[kind]
    assert "action_order_status" in caplog.text  # the action and detail are logged instead


def test_escalation_reasons_are_a_small_fixed_set() -> None:
    # they label omnibot_escalations_total: one per kind, naming no action, intent or detail
    assert set(ACTION_FAILED_REASONS) == set(ActionFailure)
    assert len(set(ACTION_FAILED_REASONS.values())) == len(ActionFailure)
    assert not any("action_" in reason for reason in ACTION_FAILED_REASONS.values())


async def test_without_an_action_runner_an_action_intent_escalates() -> None:
    without = await CatalogueResponder(CATALOGUE).respond(
        confident("order_status"), CONVERSATION, "x"
    )
    assert (without.text, without.escalate) == (None, NO_RUNNER_REASON)


async def test_an_action_greets_a_customer_it_knows_and_keeps_the_profile_out_of_slots() -> None:
    responder = CatalogueResponder(CATALOGUE, InProcessActions())
    known = Conversation(
        id="c",
        customer_id="c",
        expect="order_status",
        slots={"requested_slot": "order_number"},
        customer=Customer(id="c", name="Ana", attributes={"tier": "gold"}),
    )
    found = await responder.respond(confident("order_status"), known, "100234")
    assert found.text is not None
    assert found.text.startswith("Hi Ana, order 100234 is ")
    assert found.slots == {"order_number": "100234"}


@pytest.mark.parametrize(
    ("template", "facts", "expected"),
    [
        ("Hi {name}, we're open until 8.", {"name": "Ana"}, "Hi Ana, we're open until 8."),
        ("Hi {name}, we're open until 8.", {}, "Hi, we're open until 8."),
        (
            "Order {order_number} ships today.",
            {"order_number": "100234"},
            "Order 100234 ships today.",
        ),
        (
            'JSON like {"a": 1} and {Name} stay as written.',
            {},
            'JSON like {"a": 1} and {Name} stay as written.',
        ),
        ("Thanks {name}!", {}, "Thanks!"),
    ],
)
def test_answer_templates_fill_in_what_the_profile_knows(
    template: str, facts: dict[str, str], expected: str
) -> None:
    assert render(template, facts) == expected
