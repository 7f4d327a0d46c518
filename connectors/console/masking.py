"""Personal data masked in what the console's page receives, as in Slack.

Card numbers, IBANs, e-mail addresses, phone numbers and the shop's ``REDACT_PATTERNS`` are
masked (:func:`bot.redaction.redact`, the call the Slack desk makes) in every message and note
of a transcript and in a ticket's texts (the last customer message, the escalation's reason and
detail). The stored history keeps the original; an agent who needs it asks for one message's
original through :mod:`connectors.console.reveal_api`, which is recorded. The customer's
address stays as it is: it is who the ticket is about, not something they wrote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from bot.models import MessageDict
from bot.redaction import redact
from connectors.console.frames import ShownMessage, TicketDict


class Masker:
    """Masks the texts the console sends with the built-in kinds and ``patterns``."""

    def __init__(self, patterns: Sequence[re.Pattern[str]] = ()) -> None:
        self._patterns = tuple(patterns)

    def text(self, text: str) -> str:
        """``text`` with its personal data masked."""
        return redact(text, self._patterns)

    def message(self, message: MessageDict) -> ShownMessage:
        """The message as the page shows it; ``masked`` when its text was."""
        shown = self.text(message["text"])
        if shown == message["text"]:
            return cast(ShownMessage, message)
        return cast(ShownMessage, {**message, "text": shown, "masked": True})

    def ticket(self, ticket: TicketDict) -> TicketDict:
        """The ticket with its texts masked."""
        return {
            **ticket,
            "last_message": self._maybe(ticket["last_message"]),
            "reason": self._maybe(ticket["reason"]),
            "detail": self._maybe(ticket["detail"]),
        }

    def _maybe(self, text: str | None) -> str | None:
        return None if text is None else self.text(text)
