"""Automated answers: the catalogue's template, or a rasa-sdk custom action, per intent.

Escalation reasons are a small fixed set (they label ``omnibot_escalations_total``); which
intent or action, and what went wrong, go to the log.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.contracts import Answer, Prediction
from bot.models import Conversation
from bot.pipeline.reading import NO_ANSWER_REASON
from intents.action_call import HANDOFF_SLOT
from intents.action_runner import ActionError, ActionFailure, ActionResult, ActionRunner
from intents.catalogue import Catalogue, Intent, Reply

ACTION_FAILED_REASONS: dict[ActionFailure, str] = {
    ActionFailure.NOT_FOUND: "custom action failed (not found)",
    ActionFailure.TIMEOUT: "custom action failed (timeout)",
    ActionFailure.FAILED: "custom action failed (error)",
    ActionFailure.UNREACHABLE: "custom action failed (action server unreachable)",
}
NO_RUNNER_REASON = "custom action not available"
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
SENTENCE_END = re.compile(r"(?<=[.!?])(\s+)")
SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}")  # Rasa slot names: "amount-of-money", "PERSON"

log = logging.getLogger(__name__)


class CatalogueResponder:
    """Answers with the catalogue's text or action and passes on its escalation reason."""

    def __init__(
        self,
        catalogue: Catalogue,
        actions: ActionRunner | None = None,
        choose: Callable[[Sequence[str]], str] = random.choice,
    ) -> None:
        """``choose`` picks one of a response's variants (random, as Rasa does)."""
        self._catalogue = catalogue
        self._actions = actions
        self._choose = choose

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        """The answer for ``prediction.intent``; an unknown intent or failed action escalates."""
        intent = self._catalogue.intents.get(prediction.intent)
        if intent is None:
            log.warning("no automated answer: intent %r is not in the catalogue", prediction.intent)
            return Answer(text=None, escalate=NO_ANSWER_REASON)
        if intent.steps:
            return await self._run_steps(intent, prediction, conversation, text)
        if intent.action is None:
            answer = render(intent.answer, _facts(conversation)) if intent.answer else None
            return Answer(
                text=answer, escalate=intent.escalate, options=intent.options, repair=intent.repair
            )
        return await self._run_action(intent, prediction, conversation, text)

    async def _run_action(
        self, intent: Intent, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        assert intent.action is not None
        outcome = await self._call(intent.action, intent, prediction, conversation, text)
        if isinstance(outcome, Answer):
            return outcome
        slots = _with_events(conversation.slots, outcome.events)
        handoff = slots.pop(HANDOFF_SLOT, None)
        expect = intent.name if slots.get("requested_slot") and not handoff else None
        texts = "\n".join(outcome.texts) or None
        escalate = handoff or (intent.escalate if texts else None)
        return Answer(text=texts, escalate=escalate, expect=expect, slots=slots)

    async def _run_steps(
        self, intent: Intent, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        """A Rasa rule's answer: each response a message (one variant chosen, sentences with
        unknown slots left out), each action run in turn with the slots so far."""
        slots = dict(conversation.slots)
        texts: list[str] = []
        options: tuple[str, ...] = ()  # the buttons of the last message
        for step in intent.steps:
            if isinstance(step, Reply):
                variant = self._choose(step.variants)
                said = render_sentences(variant, {**_facts(conversation), **slots})
                if said:
                    texts.append(said)
                    options = step.options_of(variant)
                continue
            now = replace(conversation, slots=slots)
            outcome = await self._call(step, intent, prediction, now, text)
            if isinstance(outcome, Answer):
                return outcome
            texts += outcome.texts
            options = () if outcome.texts else options
            slots = _with_events(slots, outcome.events)
        if not texts:
            return Answer(text=None, escalate=NO_ANSWER_REASON)
        expect = intent.name if slots.get("requested_slot") else None
        changed = slots if slots != conversation.slots else None
        return Answer(
            text=texts[0], more=tuple(texts[1:]), expect=expect, slots=changed, options=options
        )

    async def _call(
        self,
        action: str,
        intent: Intent,
        prediction: Prediction,
        conversation: Conversation,
        text: str,
    ) -> ActionResult | Answer:
        """The action's result, or the escalation its failure calls for."""
        if self._actions is None:
            log.warning(
                "custom action %s of intent %s: no action runner is configured", action, intent.name
            )
            return Answer(text=None, escalate=NO_RUNNER_REASON)
        try:
            return await self._actions.run(
                action, conversation, prediction, text, _facts(conversation)
            )
        except ActionError as error:
            log.warning("custom action %s failed (%s): %s", error.action, error.kind, error.detail)
            return Answer(text=None, escalate=ACTION_FAILED_REASONS[error.kind])


def _with_events(slots: Mapping[str, str], events: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``slots`` after an action's ``slot`` events (a None value clears one)."""
    result = dict(slots)
    for event in events:
        if event.get("event") == "slot":
            name, value = str(event.get("name")), event.get("value")
            if value is None:
                result.pop(name, None)
            else:
                result[name] = str(value)
    return result


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


def render_sentences(template: str, facts: Mapping[str, str]) -> str:
    """``template`` with its ``{slot}`` placeholders filled; a sentence naming a slot that is
    not known is left out (Rasa responses: "Your balance is {amount}. Anything else?"). The
    text's own line breaks and spacing are kept."""
    if not SLOT.search(template):
        return template
    parts = SENTENCE_END.split(template.strip())  # sentence, gap, sentence, gap, ...
    kept: list[str] = []
    for sentence, gap in itertools.zip_longest(parts[::2], parts[1::2], fillvalue=""):
        if all(name in facts for name in SLOT.findall(sentence)):
            kept += [SLOT.sub(lambda m: facts[m.group(1)], sentence), gap]
    return "".join(kept).strip()
