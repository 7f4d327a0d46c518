"""The journal events of the bot's decisions: answered, asked (unsure), escalated and why.

An escalation's free-text reason (the core's, or an intent's own ``escalate``) is filed under
one of a few kinds the report counts by; the customer's words travel only with an unsure
decision, and only redacted (:func:`bot.redaction.redact`, every kind).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.contracts import Answer, Prediction
from bot.insight.journal import EventType, JournalEvent, journal_event
from bot.models import Conversation, Message, Role
from bot.redaction import redact

ASKED_FOR_PERSON = "asked_for_person"
UNSURE = "unsure"
PROBLEM = "problem"
FRUSTRATION = "frustration"
ACTION_FAILED = "action_failed"
OTHER = "other"
# words of the reasons the core and the intent engine give, first match wins; any other reason
# is an intent's own (a complaint, a double charge): a problem the bot leaves to people
REASON_WORDS: tuple[tuple[str, str], ...] = (
    ("asked for a person", ASKED_FOR_PERSON),
    ("did not understand", UNSURE),
    ("part of the message had no automated answer", UNSURE),
    ("waiting for an answer", FRUSTRATION),
    ("custom action", ACTION_FAILED),
    ("order number was not found", ACTION_FAILED),
    ("reported a problem", PROBLEM),
    ("no automated answer available", OTHER),
    ("could not process", OTHER),
    ("another language", OTHER),
)
BY_INTENT, BY_ARTICLE, BY_ACTION = "intent", "article", "action"
CONFIDENCE_DIGITS = 4

Patterns = Sequence[re.Pattern[str]]


def escalation_reason(reason: str) -> str:
    """The kind of an escalation's reason (one of this module's reason constants)."""
    text = reason.lower()
    return next((kind for words, kind in REASON_WORDS if words in text), PROBLEM)


def channel_of(conversation: Conversation) -> str:
    """The customer channel a conversation's events concern: where they last wrote from."""
    return conversation.last_address.channel if conversation.last_address else ""


def answered(
    conversation: Conversation, prediction: Prediction, answer: Answer, patterns: Patterns = ()
) -> JournalEvent:
    """The bot answered: by a help-centre article, an action (it set slots) or an intent. An
    answer that only asks the customer to put it another way (``Answer.repair``: "that's not
    what I asked") is recorded as :func:`asked`: the bot did not settle anything."""
    if answer.repair:
        return asked(conversation, prediction, patterns)
    by = BY_ARTICLE if answer.article else BY_ACTION if answer.slots is not None else BY_INTENT
    return journal_event(
        EventType.ANSWERED,
        conversation.id,
        channel_of(conversation),
        by=by,
        article=answer.article.key if answer.article else None,
        **_decision(conversation, prediction),
    )


def asked(
    conversation: Conversation, prediction: Prediction | None, patterns: Patterns = ()
) -> JournalEvent:
    """The bot was unsure: it asked to put it another way (a person offered), with its best
    guess and the customer's words redacted."""
    return journal_event(
        EventType.ASKED,
        conversation.id,
        channel_of(conversation),
        text=_redacted(conversation, patterns),
        **_decision(conversation, prediction),
    )


def escalated(
    conversation: Conversation,
    reason: str,
    prediction: Prediction | None,
    patterns: Patterns = (),
) -> JournalEvent:
    """Handed to people: the reason's kind, the bot's last guess, and the customer's words
    redacted when the bot was unsure."""
    kind = escalation_reason(reason)
    return journal_event(
        EventType.ESCALATED,
        conversation.id,
        channel_of(conversation),
        reason=kind,
        text=_redacted(conversation, patterns) if kind == UNSURE else None,
        **_decision(conversation, prediction),
    )


def _decision(conversation: Conversation, prediction: Prediction | None) -> dict[str, Any]:
    """The fields every decision carries: the message decided on, the intent and confidence."""
    fields: dict[str, Any] = {}
    last = _last_said(conversation)
    if last is not None:
        fields["message"] = last.id
    if prediction is not None:
        fields["intent"] = prediction.intent
        fields["confidence"] = round(prediction.confidence, CONFIDENCE_DIGITS)
    return fields


def _last_said(conversation: Conversation) -> Message | None:
    return next((m for m in reversed(conversation.messages) if m.role is Role.CUSTOMER), None)


def _redacted(conversation: Conversation, patterns: Patterns) -> str:
    last = _last_said(conversation)
    return "" if last is None else redact(last.text, patterns)
