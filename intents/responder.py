"""Automated answers: the catalogue's template, or a rasa-sdk custom action, per intent."""

from __future__ import annotations

import logging

from bot.contracts import Answer, Prediction
from bot.models import Conversation
from intents.action_runner import ActionError, ActionRunner
from intents.catalogue import Catalogue, Intent

NO_ANSWER_REASON = "no automated answer for intent {intent}"
ACTION_FAILED_REASON = "custom action {action} failed ({error})"
NO_RUNNER_REASON = "custom action {action} is not available"

log = logging.getLogger(__name__)


class CatalogueResponder:
    """Answers with the catalogue's text or action and passes on its escalation reason."""

    def __init__(self, catalogue: Catalogue, actions: ActionRunner | None = None) -> None:
        self._catalogue = catalogue
        self._actions = actions

    async def respond(self, prediction: Prediction, conversation: Conversation,
                      text: str) -> Answer:
        """The answer for ``prediction.intent``; an unknown intent or failed action escalates."""
        intent = self._catalogue.intents.get(prediction.intent)
        if intent is None:
            return Answer(text=None, escalate=NO_ANSWER_REASON.format(intent=prediction.intent))
        if intent.action is None:
            return Answer(text=intent.answer, escalate=intent.escalate)
        return await self._run_action(intent, prediction, conversation, text)

    async def _run_action(self, intent: Intent, prediction: Prediction,
                          conversation: Conversation, text: str) -> Answer:
        assert intent.action is not None
        if self._actions is None:
            return Answer(text=None, escalate=NO_RUNNER_REASON.format(action=intent.action))
        try:
            result = await self._actions.run(intent.action, conversation, prediction, text,
                                             dict(conversation.slots))
        except ActionError as error:
            log.warning("custom action failed: %s", error)
            return Answer(text=None, escalate=ACTION_FAILED_REASON.format(
                action=intent.action, error=error))
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
        return Answer(text=texts, escalate=intent.escalate if texts else None,
                      expect=expect, slots=slots)
