"""Automated answers: the catalogue's template for the predicted intent."""

from __future__ import annotations

from bot.contracts import Answer, Prediction
from bot.models import Conversation
from intents.catalogue import Catalogue

NO_ANSWER_REASON = "no automated answer for intent {intent}"


class TemplateResponder:
    """Answers with the catalogue's text and passes on its escalation reason."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    async def respond(self, prediction: Prediction, conversation: Conversation,
                      text: str) -> Answer:
        """The answer for ``prediction.intent``; an unknown intent escalates."""
        intent = self._catalogue.intents.get(prediction.intent)
        if intent is None:
            return Answer(text=None, escalate=NO_ANSWER_REASON.format(intent=prediction.intent))
        return Answer(text=intent.answer, escalate=intent.escalate)
