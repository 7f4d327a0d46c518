"""Survey rules: what a score is, when a survey is pending and answered, when one is due."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest

from bot.insight.csat_rules import (
    ANSWER_WINDOW_S,
    EPISODE_S,
    QUIET_S,
    SCORES,
    After,
    answers_survey,
    due_after_bot,
    may_ask,
    pending,
    score_of,
)
from bot.insight.journal import JournalEvent
from bot.models import Address, Conversation, Message, Role, State, Survey
from bot.models.conversation import LinkStep

NOW = 1_700_000_000.0
SMS = Address("sms", "+15550001111")


def event(kind: str, at: float, **fields: Any) -> JournalEvent:
    """An event ``at`` seconds from ``NOW`` (negative: before)."""
    return cast(
        JournalEvent, {"type": kind, "at": NOW + at, "cid": "c", "channel": "sms", **fields}
    )


def asked(text: str = "4", ago: float = 60.0, **changes: Any) -> tuple[Conversation, Message]:
    """A conversation surveyed ``ago`` seconds before ``NOW``, and the customer's reply."""
    survey = Message(Role.BOT, "How did we do?", ts=NOW - ago, options=SCORES)
    reply = Message(Role.CUSTOMER, text, ts=NOW, seq=3)
    fields: dict[str, Any] = {
        "id": "c",
        "customer_id": "c",
        "last_address": SMS,
        "messages": (survey, reply),
        "survey": Survey(NOW - ago, "resolve"),
        **changes,
    }
    return Conversation(**fields), reply


@pytest.mark.parametrize(
    ("text", "score"),
    [("4", 4), (" 5 ", 5), ("1.", 1), ("3!", 3), ("2)", 2), ("0", None), ("6", None)],
)
def test_a_score_is_a_bare_digit_1_to_5(text: str, score: int | None) -> None:
    assert score_of(text) == score


@pytest.mark.parametrize("text", ["45", "4 stars", "4/5", "four", "", "4\n5", "²"])
def test_anything_else_is_no_score(text: str) -> None:
    assert score_of(text) is None


def test_a_survey_is_pending_for_24_hours() -> None:
    survey = Survey(NOW, "resolve")
    assert pending(survey, NOW + ANSWER_WINDOW_S - 1) == survey
    assert pending(survey, NOW + ANSWER_WINDOW_S) is None
    assert pending(None, NOW) is None


def test_a_bare_digit_answers_the_pending_survey() -> None:
    conversation, reply = asked("4")
    assert answers_survey(conversation, reply, NOW) == 4


def test_words_or_a_late_digit_do_not_answer_it() -> None:
    assert answers_survey(*asked("4 because it took long"), NOW) is None
    assert answers_survey(*asked("4", ago=ANSWER_WINDOW_S + 1), NOW) is None


def test_a_digit_with_no_survey_pending_answers_nothing() -> None:
    conversation, reply = asked("4", survey=None)
    assert answers_survey(conversation, reply, NOW) is None


def test_a_question_waiting_since_takes_the_digit() -> None:
    assert answers_survey(*asked("2", expect="order_status"), NOW) is None
    assert answers_survey(*asked("2", linking=LinkStep.PHONE), NOW) is None
    assert answers_survey(*asked("2", state=State.WAITING), NOW) is None


def test_other_options_offered_after_the_survey_take_the_digit() -> None:
    conversation, reply = asked("2")
    choice = Message(Role.BOT, "Which order?", ts=NOW - 10, options=("A-1", "B-2"))
    with_choice = replace(conversation, messages=(*conversation.messages[:-1], choice, reply))
    assert answers_survey(with_choice, reply, NOW) is None


def test_a_survey_is_asked_only_with_the_bot_and_none_pending() -> None:
    conversation, _ = asked(survey=None)
    assert may_ask(conversation, NOW)
    assert not may_ask(asked()[0], NOW)  # pending
    assert may_ask(asked(ago=ANSWER_WINDOW_S)[0], NOW)  # expired: asked again
    assert not may_ask(asked(survey=None, state=State.AGENT)[0], NOW)
    assert not may_ask(asked(survey=None, last_address=None)[0], NOW)


def test_after_the_bot_no_survey_while_a_question_of_the_bots_waits() -> None:
    waiting, _ = asked(survey=None, expect="order_status")
    assert may_ask(waiting, NOW)  # a resolve ends the question
    assert not may_ask(waiting, NOW, After.BOT)
    assert not may_ask(asked(survey=None, linking=LinkStep.CODE)[0], NOW, After.BOT)
    assert may_ask(asked(survey=None)[0], NOW, After.BOT)


def test_the_after_bot_survey_is_due_a_quiet_time_after_the_last_answer() -> None:
    events = [event("message", -100), event("answered", -99, by="intent")]
    assert due_after_bot(events, NOW) == NOW - 99 + QUIET_S
    assert due_after_bot(events, NOW, quiet_s=5) == NOW - 94


@pytest.mark.parametrize(
    "tail",
    [
        [event("asked", -50)],  # unsure last
        [event("escalated", -50, reason="unsure")],
        [event("message", -50)],  # wrote again, not answered (yet)
        [event("csat_asked", -50, after="resolve")],
    ],
)
def test_no_after_bot_survey_after_doubt_a_person_or_a_recent_survey(
    tail: list[JournalEvent],
) -> None:
    events = [event("message", -100), event("answered", -99), *tail]
    assert due_after_bot(events, NOW) is None


def test_a_survey_older_than_a_conversation_allows_another() -> None:
    events = [event("csat_asked", -EPISODE_S - 1), event("message", -100), event("answered", -99)]
    assert due_after_bot(events, NOW) == NOW - 99 + QUIET_S
    assert due_after_bot([], NOW) is None
