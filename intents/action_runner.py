"""Running rasa-sdk custom actions: in-process through rasa-sdk's own executor, or on a remote
Rasa action server through its ``POST /webhook`` protocol. Both get the same request, and both
report a failure as an :class:`ActionError` of one :class:`ActionFailure` kind."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, cast

import aiohttp
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionNotFoundException

from bot.contracts import Prediction
from bot.models import Conversation
from intents.action_call import VERIFIED_PHONE_SLOT, ActionResponse, action_call
from intents.actions.order_status import DEFAULT_ORDERS_PATH, ActionOrderStatus

ACTION_TIMEOUT_S = 5.0
ACTIONS_PACKAGE = "intents.actions"
HTTP_OK = 200
HTTP_NOT_FOUND = 404  # rasa-sdk's answer to an action it has not registered
# Only omnibot's own verification sets these: a slot an action sets lands on the customer's
# profile, and a "phone" there is what order details are matched against.
VERIFIED_SLOTS = frozenset({"phone", VERIFIED_PHONE_SLOT})

log = logging.getLogger(__name__)


class ActionFailure(StrEnum):
    """Why an action gave no result."""

    NOT_FOUND = "not_found"  # no action of that name is registered
    TIMEOUT = "timeout"
    FAILED = "failed"  # the action raised, or its server answered with an error
    UNREACHABLE = "unreachable"  # the server could not be reached or gave no valid answer


class ActionError(Exception):
    """Action ``action`` failed in the way ``kind`` says; ``detail`` is for the log."""

    def __init__(self, action: str, kind: ActionFailure, detail: str) -> None:
        super().__init__(f"{action}: {kind}: {detail}")
        self.action = action
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class ActionResult:
    """What an action said (texts) and did (Rasa events)."""

    texts: tuple[str, ...]
    events: tuple[dict[str, Any], ...]

    def slot(self, name: str) -> tuple[bool, Any]:
        """Whether the action set slot ``name``, and the last value it set."""
        values = [
            e.get("value")
            for e in self.events
            if e.get("event") == "slot" and e.get("name") == name
        ]
        return (bool(values), values[-1] if values else None)


class ActionRunner(Protocol):
    """Runs a named action for a conversation."""

    async def run(
        self,
        action: str,
        conversation: Conversation,
        prediction: Prediction,
        text: str,
        slots: dict[str, Any],
    ) -> ActionResult: ...


def _result(action: str, body: ActionResponse) -> ActionResult:
    """What ``action`` answered, without the events that would set a verified slot."""
    texts = tuple(str(r["text"]) for r in body.get("responses", []) if r.get("text"))
    events = tuple(e for e in body.get("events", []) if not _sets_verified_slot(action, e))
    return ActionResult(texts=texts, events=events)


def _sets_verified_slot(action: str, event: dict[str, Any]) -> bool:
    """Whether ``event`` sets a verified slot (logged: the action's author should rename it)."""
    if event.get("event") != "slot" or event.get("name") not in VERIFIED_SLOTS:
        return False
    log.warning(
        "action %s may not set slot %r (only a verification does): ignored", action, event["name"]
    )
    return True


class InProcessActions:
    """Runs the actions of a Python package with rasa-sdk's ``ActionExecutor``.

    ``action_order_status`` reads ``orders_path`` (default: the bundled sample), never the
    process environment.
    """

    def __init__(
        self,
        package: str = ACTIONS_PACKAGE,
        timeout_s: float = ACTION_TIMEOUT_S,
        orders_path: Path | None = None,
    ) -> None:
        self.executor = ActionExecutor()
        self.executor.register_package(package)
        # rasa-sdk registers every Action subclass it has seen, built without arguments (which
        # for this one means "read ORDERS_PATH from the environment"): replace it by one built
        # from our configuration.
        self.executor.register_action(ActionOrderStatus(orders_path or DEFAULT_ORDERS_PATH))
        self._timeout_s = timeout_s

    async def run(
        self,
        action: str,
        conversation: Conversation,
        prediction: Prediction,
        text: str,
        slots: dict[str, Any],
    ) -> ActionResult:
        """Run ``action`` here, within the timeout."""
        call = action_call(action, conversation, prediction, text, slots)
        try:
            result = await asyncio.wait_for(self.executor.run(call), self._timeout_s)
        except TimeoutError:
            raise ActionError(
                action, ActionFailure.TIMEOUT, f"no result after {self._timeout_s} s"
            ) from None
        except ActionNotFoundException as exc:
            raise ActionError(action, ActionFailure.NOT_FOUND, str(exc)) from exc
        except Exception as exc:
            raise ActionError(action, ActionFailure.FAILED, f"{type(exc).__name__}: {exc}") from exc
        if result is None:
            raise ActionError(action, ActionFailure.FAILED, "the executor returned nothing")
        return _result(action, result.model_dump())


class RemoteActions:
    """Runs actions on a Rasa action server (its ``/webhook`` URL)."""

    def __init__(self, endpoint: str, timeout_s: float = ACTION_TIMEOUT_S) -> None:
        self._endpoint = endpoint
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def run(
        self,
        action: str,
        conversation: Conversation,
        prediction: Prediction,
        text: str,
        slots: dict[str, Any],
    ) -> ActionResult:
        """POST the action call; any error, non-200 answer or timeout is an ActionError."""
        call = action_call(action, conversation, prediction, text, slots)
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(self._endpoint, json=call) as response,
            ):
                status = response.status
                body = await response.json(content_type=None)
        except TimeoutError:
            raise ActionError(
                action, ActionFailure.TIMEOUT, f"no answer from {self._endpoint} in time"
            ) from None
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: the body is not JSON
            raise ActionError(
                action, ActionFailure.UNREACHABLE, f"{self._endpoint}: {type(exc).__name__}: {exc}"
            ) from exc
        if status != HTTP_OK:
            raise _server_error(action, status, body)
        if not isinstance(body, dict):
            raise ActionError(
                action,
                ActionFailure.UNREACHABLE,
                f"{self._endpoint} answered {status} without a result object",
            )
        return _result(action, cast("ActionResponse", body))


def _server_error(action: str, status: int, body: Any) -> ActionError:
    """The error for an action server's non-200 answer ``body``."""
    error = body.get("error", body) if isinstance(body, dict) else body
    detail = f"action server answered {status}: {error}"
    # Only rasa-sdk's own "not registered" answer names the action; a bare 404 is a wrong URL.
    if status == HTTP_NOT_FOUND and isinstance(body, dict) and body.get("action_name") == action:
        return ActionError(action, ActionFailure.NOT_FOUND, detail)
    return ActionError(action, ActionFailure.FAILED, detail)
