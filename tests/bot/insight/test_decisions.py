"""The journal events of the bot's decisions (bot/insight/decisions.py)."""

from __future__ import annotations

from bot.contracts import Answer, Prediction
from bot.insight import decisions
from bot.insight.journal import EventType
from bot.models import Address, Conversation, Message, Role

CARD = "4111 1111 1111 1111"


def conversation(text: str) -> Conversation:
    said = Message(role=Role.CUSTOMER, text=text, id="m1")
    return Conversation("c1", "c1", messages=(said,), last_address=Address("sms", "+447700900123"))


def test_an_answer_is_recorded_with_its_intent_and_confidence() -> None:
    prediction = Prediction("store_hours", 0.91234, True)
    event = decisions.answered(conversation("u open sun?"), prediction, Answer(text="9-5"))
    assert event["type"] == EventType.ANSWERED
    assert (event["by"], event["intent"], event["confidence"]) == ("intent", "store_hours", 0.9123)
    assert (event["channel"], event["message"]) == ("sms", "m1")
    assert "text" not in event  # a settled answer carries no words


def test_a_repair_answer_is_recorded_as_unsure_with_the_words_redacted() -> None:
    prediction = Prediction("not_what_i_asked", 0.8, True)
    answer = Answer(text="Sorry, I got that wrong.", repair=True)
    event = decisions.answered(conversation(f"no!! my card {CARD}"), prediction, answer)
    assert event["type"] == EventType.ASKED
    assert event["intent"] == "not_what_i_asked"
    assert CARD not in event["text"]
    assert event["text"].startswith("no!! my card")


def test_an_escalation_reason_is_filed_under_its_kind() -> None:
    assert decisions.escalation_reason("the customer asked for a person") == "asked_for_person"
    assert decisions.escalation_reason("customer charged twice") == "problem"
