"""Running rasa-sdk custom actions: in-process through rasa-sdk's own executor, or on a remote
Rasa action server through its ``POST /webhook`` protocol. Both get the same request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import rasa_sdk
from rasa_sdk.executor import ActionExecutor

from bot.contracts import Prediction
from bot.models import Conversation, Role

ACTION_TIMEOUT_S = 5.0
ACTIONS_PACKAGE = "intents.actions"


class ActionError(Exception):
    """The action raised, timed out, or its server answered with an error."""


@dataclass(frozen=True)
class ActionResult:
    """What an action said (texts) and did (Rasa events)."""

    texts: tuple[str, ...]
    events: tuple[dict[str, Any], ...]

    def slot(self, name: str) -> tuple[bool, Any]:
        """Whether the action set slot ``name``, and the last value it set."""
        values = [e.get("value") for e in self.events
                  if e.get("event") == "slot" and e.get("name") == name]
        return (bool(values), values[-1] if values else None)


class ActionRunner(Protocol):
    """Runs a named action for a conversation."""

    async def run(self, action: str, conversation: Conversation, prediction: Prediction,
                  text: str, slots: dict[str, Any]) -> ActionResult: ...


def action_call(action: str, conversation: Conversation, prediction: Prediction, text: str,
                slots: dict[str, Any]) -> dict[str, Any]:
    """The Rasa action-server request body for running ``action``."""
    events: list[dict[str, Any]] = []
    for message in conversation.messages:
        if message.role is Role.CUSTOMER:
            events.append({"event": "user", "text": message.text, "timestamp": message.ts})
        else:
            events.append({"event": "bot", "text": message.text, "timestamp": message.ts})
    latest = {"text": text, "entities": [],
              "intent": {"name": prediction.intent, "confidence": prediction.confidence},
              "intent_ranking": [{"name": n, "confidence": c} for n, c in prediction.ranking]}
    tracker = {"sender_id": conversation.id, "slots": slots, "latest_message": latest,
               "events": events, "paused": False, "followup_action": None, "active_loop": {},
               "latest_action_name": "action_listen"}
    return {"next_action": action, "sender_id": conversation.id, "tracker": tracker,
            "domain": {"intents": [prediction.intent], "slots": {}}, "version":
            rasa_sdk.__version__}


def _result(body: dict[str, Any]) -> ActionResult:
    texts = tuple(str(r["text"]) for r in body.get("responses", []) if r.get("text"))
    return ActionResult(texts=texts, events=tuple(body.get("events", [])))


class InProcessActions:
    """Runs the actions of a Python package with rasa-sdk's ``ActionExecutor``."""

    def __init__(self, package: str = ACTIONS_PACKAGE,
                 timeout_s: float = ACTION_TIMEOUT_S) -> None:
        self.executor = ActionExecutor()
        self.executor.register_package(package)
        self._timeout_s = timeout_s

    async def run(self, action: str, conversation: Conversation, prediction: Prediction,
                  text: str, slots: dict[str, Any]) -> ActionResult:
        """Run ``action`` here, within the timeout."""
        call = action_call(action, conversation, prediction, text, slots)
        try:
            result = await asyncio.wait_for(self.executor.run(call), self._timeout_s)
        except TimeoutError:
            raise ActionError(f"{action} timed out after {self._timeout_s} s") from None
        except Exception as exc:
            raise ActionError(f"{action} failed: {exc}") from exc
        if result is None:
            raise ActionError(f"{action} returned nothing")
        return _result(result.model_dump())


class RemoteActions:
    """Runs actions on a Rasa action server (its ``/webhook`` URL)."""

    def __init__(self, endpoint: str, timeout_s: float = ACTION_TIMEOUT_S) -> None:
        self._endpoint = endpoint
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def run(self, action: str, conversation: Conversation, prediction: Prediction,
                  text: str, slots: dict[str, Any]) -> ActionResult:
        """POST the action call; any error, non-200 answer or timeout is an ActionError."""
        call = action_call(action, conversation, prediction, text, slots)
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session, \
                    session.post(self._endpoint, json=call) as response:
                body = await response.json(content_type=None)
                if response.status != 200:
                    detail = body.get("error", body) if isinstance(body, dict) else body
                    raise ActionError(f"{action}: action server answered {response.status}: "
                                      f"{detail}")
        except TimeoutError:
            raise ActionError(f"{action} timed out on the action server") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise ActionError(f"{action}: action server unreachable: {exc}") from exc
        return _result(body)
