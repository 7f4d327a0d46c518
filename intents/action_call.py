"""The rasa-sdk action-server protocol's wire shapes, and the request omnibot sends.

``POST /webhook`` takes an :class:`ActionCall` (the next action and a tracker built from the
conversation) and answers an :class:`ActionResponse` (events and responses). The same body goes
to rasa-sdk's in-process executor.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

import rasa_sdk

from bot.contracts import Prediction
from bot.models import Conversation, Role


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
        "slots": slots,
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
