"""Automated answers: the catalogue's template, or a rasa-sdk custom action, per intent.

Escalation reasons are a small fixed set (they label ``omnibot_escalations_total``); which
intent or action, and what went wrong, go to the log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from bot.contracts import Answer, Prediction
from bot.dispatcher import NO_ANSWER_REASON
from bot.models import Conversation
from intents.action_runner import ActionError, ActionFailure, ActionRunner
from intents.catalogue import Catalogue, Intent

ACTION_FAILED_REASONS: dict[ActionFailure, str] = {
    ActionFailure.NOT_FOUND: "custom action failed (not found)",
    ActionFailure.TIMEOUT: "custom action failed (timeout)",
    ActionFailure.FAILED: "custom action failed (error)",
    ActionFailure.UNREACHABLE: "custom action failed (action server unreachable)",
}
NO_RUNNER_REASON = "custom action not available"
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

log = logging.getLogger(__name__)


class CatalogueResponder:
    """Answers with the catalogue's text or action and passes on its escalation reason."""

    def __init__(self, catalogue: Catalogue, actions: ActionRunner | None = None) -> None:
        self._catalogue = catalogue
        self._actions = actions

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        """The answer for ``prediction.intent``; an unknown intent or failed action escalates."""
        intent = self._catalogue.intents.get(prediction.intent)
        if intent is None:
            log.warning("no automated answer: intent %r is not in the catalogue", prediction.intent)
            return Answer(text=None, escalate=NO_ANSWER_REASON)
        if intent.action is None:
            answer = render(intent.answer, _facts(conversation)) if intent.answer else None
            return Answer(text=answer, escalate=intent.escalate)
        return await self._run_action(intent, prediction, conversation, text)

    async def _run_action(
        self, intent: Intent, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        assert intent.action is not None
        if self._actions is None:
            log.warning(
                "custom action %s of intent %s: no action runner is configured",
                intent.action,
                intent.name,
            )
            return Answer(text=None, escalate=NO_RUNNER_REASON)
        try:
            result = await self._actions.run(
                intent.action, conversation, prediction, text, _facts(conversation)
            )
        except ActionError as error:
            log.warning("custom action %s failed (%s): %s", error.action, error.kind, error.detail)
            return Answer(text=None, escalate=ACTION_FAILED_REASONS[error.kind])
        slots = dict(conversation.slots)
        for event in result.events:
            if event.get("event") == "slot":
                name, value = str(event.get("name")), event.get("value")
                if value is None:
                    slots.pop(name, None)
                else:
                    slots[name] = str(value)
        expect = intent.name if slots.get("requested_slot") else None
        texts = "\n".join(result.texts) or None
        return Answer(
            text=texts, escalate=intent.escalate if texts else None, expect=expect, slots=slots
        )


def _facts(conversation: Conversation) -> dict[str, str]:
    """The customer's profile with the conversation's slots over it (what actions see)."""
    known = conversation.customer.facts() if conversation.customer else {}
    return {**known, **conversation.slots}


def render(template: str, facts: Mapping[str, str]) -> str:
    """``template`` with ``{name}``-style placeholders filled from ``facts``; one that is not
    known is left out with the space before it ("Hi {name}, ..." becomes "Hi, ...")."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        value = facts.get(match.group(1))
        if value is None:
            missing.append(match.group(1))
        return value or ""

    text = PLACEHOLDER.sub(fill, template)
    if not missing:
        return text
    text = re.sub(r" +([,.!?;:])", r"\1", text)
    return re.sub(r" {2,}", " ", text).strip()
