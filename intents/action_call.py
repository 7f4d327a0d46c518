"""The rasa-sdk action-server protocol's wire shapes, and the request omnibot sends.

``POST /webhook`` takes an :class:`ActionCall` (the next action and a tracker built from the
conversation) and answers an :class:`ActionResponse` (events and responses). The same body goes
to rasa-sdk's in-process executor.

The tracker's slots are the ones given, plus ``verified_phone``: the phone omnibot itself
verified for the customer (the number their SMS comes from, else the one linked to their profile
by a texted code). It is always computed here, never taken from the slots, so neither a message
nor an action can claim one.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

import rasa_sdk

from bot.contracts import Prediction
from bot.models import Conversation, Role

VERIFIED_PHONE_SLOT = "verified_phone"
HANDOFF_SLOT = "handoff"  # an action sets it to hand the conversation to a person, for that reason
SMS_CHANNEL = "sms"  # an SMS address's id is the phone Twilio delivered the message from


class UtteranceEvent(TypedDict):
    """A past message as a Rasa tracker event."""

    event: Literal["user", "bot"]
    text: str
    timestamp: float


class IntentGuess(TypedDict):
    """An intent with its confidence."""

    name: str
    confidence: float


class LatestMessage(TypedDict):
    """The message the action answers, with the classifier's verdict."""

    text: str
    entities: list[Any]
    intent: IntentGuess
    intent_ranking: list[IntentGuess]


class Tracker(TypedDict):
    """The conversation as rasa-sdk's ``Tracker`` reads it."""

    sender_id: str
    slots: dict[str, Any]
    latest_message: LatestMessage
    events: list[UtteranceEvent]
    paused: bool
    followup_action: str | None
    active_loop: dict[str, Any]
    latest_action_name: str


class Domain(TypedDict):
    """The little of a Rasa domain the actions need."""

    intents: list[str]
    slots: dict[str, Any]


class ActionCall(TypedDict):
    """The request body: which action to run, on which tracker."""

    next_action: str
    sender_id: str
    tracker: Tracker
    domain: Domain
    version: str


class ActionResponse(TypedDict):
    """What an action server answers: the events the action emitted and its messages."""

    events: NotRequired[list[dict[str, Any]]]
    responses: NotRequired[list[dict[str, Any]]]


def action_call(
    action: str,
    conversation: Conversation,
    prediction: Prediction,
    text: str,
    slots: dict[str, Any],
) -> ActionCall:
    """The Rasa action-server request body for running ``action``."""
    events: list[UtteranceEvent] = [
        {
            "event": "user" if message.role is Role.CUSTOMER else "bot",
            "text": message.text,
            "timestamp": message.ts,
        }
        for message in conversation.messages
    ]
    latest: LatestMessage = {
        "text": text,
        "entities": [],
        "intent": {"name": prediction.intent, "confidence": prediction.confidence},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in prediction.ranking],
    }
    tracker: Tracker = {
        "sender_id": conversation.id,
        "slots": with_verified_phone(slots, conversation),
        "latest_message": latest,
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {
        "next_action": action,
        "sender_id": conversation.id,
        "tracker": tracker,
        "domain": {"intents": [prediction.intent], "slots": {}},
        "version": rasa_sdk.__version__,
    }


def verified_phone(conversation: Conversation) -> str | None:
    """The phone verified for the conversation's customer: the one they are texting from,
    else the profile's (written only when a texted code links it), else None."""
    last = conversation.last_address
    if last is not None and last.channel == SMS_CHANNEL:
        return last.id
    return conversation.customer.phone if conversation.customer else None


def with_verified_phone(slots: dict[str, Any], conversation: Conversation) -> dict[str, Any]:
    """``slots`` with ``verified_phone`` set from the conversation, whatever they held."""
    result = {k: v for k, v in slots.items() if k != VERIFIED_PHONE_SLOT}
    phone = verified_phone(conversation)
    if phone is not None:
        result[VERIFIED_PHONE_SLOT] = phone
    return result
