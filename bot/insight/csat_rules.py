"""When a satisfaction survey is asked and what answers it: pure rules, no I/O.

A survey is asked on the customer's own channel with the scores 1-5 as its options (buttons
in the web chat; by SMS the connector words them "Reply 1-5"). A message that is a bare score
(:func:`score_of`) answers it while it is pending (:func:`answers_survey`): within
``ANSWER_WINDOW_S`` of the question, the conversation with the bot, and no later question of
the bot's waiting for the customer's reply (an intent's question, a linking step, other
options offered since). Anything else goes on as a normal message, and the survey stays
pending until the window ends.

After a conversation the bot settled on its own (``CSAT_AFTER_BOT``), the survey is due
``QUIET_S`` after the bot's last answer (:func:`due_after_bot`): the last decision about the
customer's messages was an answer, the customer has written nothing since, no question of the
bot's waits for their reply (:func:`may_ask`), and no survey was asked in the last
``EPISODE_S`` (a customer asking again and again within a conversation is surveyed once).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.insight.journal import EventType, JournalEvent
from bot.models import Conversation, Message, Role, State, Survey

ANSWER_WINDOW_S = 24 * 3600.0  # a bare score this long after the question still answers it
QUIET_S = 30 * 60.0  # after-bot survey: this long after the bot's last answer, the customer quiet
EPISODE_S = 72 * 3600.0  # a conversation's window (the report's): one after-bot survey in it
SCORES = ("1", "2", "3", "4", "5")
# a score as people type it: "4", " 4 ", "4.", "4!" (no other words, no other digits)
SCORE_RE = re.compile(r"\s*([1-5])\s*[.!)]?\s*\Z")
# what the bot decided about a customer's message (the journal's decision events)
DECISIONS = frozenset({EventType.ANSWERED, EventType.ASKED, EventType.ESCALATED})


class After(StrEnum):
    """What a survey follows: an agent's resolve, or a conversation the bot settled alone."""

    RESOLVE = "resolve"
    BOT = "bot"


@dataclass(frozen=True)
class SurveyTexts:
    """What the customer is told: the question (the scores are its options) and the thanks."""

    question: str = "How did we do? 5 = great, 1 = poor."
    thanks: str = "Thank you for your feedback!"


def score_of(text: str) -> int | None:
    """The score ``text`` is when it is a bare digit 1-5 (with at most a final "." "!" or ")"),
    else None."""
    match = SCORE_RE.match(text)
    return int(match.group(1)) if match else None


def pending(survey: Survey | None, now: float) -> Survey | None:
    """``survey`` while it may still be answered (None once its window has passed)."""
    if survey is None or now - survey.asked_at >= ANSWER_WINDOW_S:
        return None
    return survey


def may_ask(conversation: Conversation, now: float, after: After = After.RESOLVE) -> bool:
    """Whether a survey may be asked now: the customer has a channel, the conversation is
    with the bot and no survey is pending; after the bot, also no question of the bot's
    waiting for the customer's reply (an intent's, a linking step): the customer left the
    conversation unfinished, not settled. The opt-out is checked apart: it is kept by
    address, outside the conversation."""
    waiting = after is After.BOT and (conversation.expect or conversation.linking)
    return (
        conversation.last_address is not None
        and conversation.state is State.BOT
        and pending(conversation.survey, now) is None
        and not waiting
    )


def answers_survey(conversation: Conversation, message: Message, now: float) -> int | None:
    """The score ``message`` gives the pending survey, or None when it is not an answer to it
    (not a bare score, no survey pending, or the bot has asked something else since)."""
    survey = pending(conversation.survey, now)
    score = score_of(message.text)
    if survey is None or score is None or message.control is not None:
        return None
    if conversation.state is not State.BOT or conversation.expect or conversation.linking:
        return None  # the digit answers the intent or the linking step waiting for a reply
    if _other_options_since(conversation, message, survey.asked_at):
        return None  # "2" chooses the second of the options offered after the survey
    return score


def _other_options_since(conversation: Conversation, message: Message, since: float) -> bool:
    """Whether a bot message after ``since`` and before ``message`` offered other options."""
    earlier = conversation.messages[: conversation.messages.index(message)]
    return any(
        m.role is Role.BOT and m.options and m.options != SCORES and m.ts >= since for m in earlier
    )


def due_after_bot(
    events: Sequence[JournalEvent], now: float, quiet_s: float = QUIET_S
) -> float | None:
    """When the after-bot survey of a customer whose recent journal is ``events`` (time
    order) is due, or None when none is: the last decision must be an answer with no customer
    message after it, and no survey asked within ``EPISODE_S``."""
    if any(e["type"] == EventType.CSAT_ASKED and now - e["at"] < EPISODE_S for e in events):
        return None
    last = next((e for e in reversed(events) if e["type"] in DECISIONS), None)
    if last is None or last["type"] != EventType.ANSWERED:
        return None
    if any(e["type"] == EventType.MESSAGE and e["at"] > last["at"] for e in events):
        return None  # written since and not answered (yet): not a settled conversation
    return last["at"] + quiet_s
