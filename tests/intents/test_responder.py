"""Template answers from the catalogue."""

from __future__ import annotations

from bot.contracts import Prediction
from bot.models import Conversation
from bot.settings import DEFAULT_INTENTS_PATH
from intents.catalogue import load_catalogue
from intents.responder import TemplateResponder

CONVERSATION = Conversation(id="c", customer_id="c")


async def test_answers_and_escalations_come_from_the_catalogue() -> None:
    catalogue = load_catalogue(DEFAULT_INTENTS_PATH)
    responder = TemplateResponder(catalogue)
    hours = await responder.respond(Prediction("store_hours", 0.9, True), CONVERSATION, "hours?")
    assert hours.text == catalogue.intents["store_hours"].answer
    assert hours.escalate is None
    human = await responder.respond(Prediction("talk_to_human", 0.9, True), CONVERSATION, "h")
    assert human.escalate == catalogue.intents["talk_to_human"].escalate
    unknown = await responder.respond(Prediction("nope", 0.9, True), CONVERSATION, "x")
    assert unknown.text is None
    assert unknown.escalate is not None
