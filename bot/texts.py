"""Every text the core writes into a conversation, in one replaceable catalogue.

The composition root builds one :class:`Texts` (the SMS help text comes from the settings) and
hands it to the parts that speak; another wording or language is another ``Texts(...)``, with
the cross-channel flow's texts in ``linking``. Placeholders in braces are filled with
``str.format``; keep them when translating. What agents read on a desk about their own actions
is :mod:`bot.desk.actions`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.identity.texts import LinkingTexts
from bot.models import Channel

WHERE: Mapping[str, str] = MappingProxyType(
    {Channel.SMS: "by text message", Channel.WEBCHAT: "here in the chat"}
)


@dataclass(frozen=True)
class Texts:
    """What the customer is told (and the notices the core posts on agents' tickets)."""

    # answering (bot.pipeline.dispatcher)
    help: str = "Text us your question and we'll answer. Reply STOP to opt out."
    rephrase: str = (
        "Sorry, I didn't quite get that. Could you say it another way, or shall I get you a person?"
    )
    person_option: str = "Talk to a person"  # the suggested reply that asks for one
    sorry: str = "I'm sorry about that."  # before handing a problem or a frustrated customer over
    media_only: str = (
        "Thanks, I got your attachment, but I can only read text. Could you tell me "
        "in a few words what you need? Ask for a person if it needs a human eye."
    )
    opt_in: str = "You're subscribed again and will get our replies. Reply STOP to opt out."
    processing_failed: str = "Sorry, something went wrong with your last message."
    no_words: str = "How can I help? Tell me in a few words what you need."  # emoji only, blank
    other_language: str = "Sorry, I can only answer in English for now. Shall I get a person?"

    # the hand-off (bot.desk.handoff); {where} is where[channel], else where_else
    waiting: str = "I'm passing you to a member of our team. An agent will join shortly."
    joined: str = "{agent} joined the conversation."
    back_to_bot: str = "You're back with the assistant. Ask me anything, or ask for a person again."
    resolved: str = "{agent} marked the conversation as resolved. You're back with the assistant."
    away: str = (
        "I'm passing you to our team. They're away right now: a person will reply {where} "
        "from {when}."
    )
    queued: str = (
        "Thanks — your message is with the team; you're number {place} in the queue{wait}."
    )
    queued_away: str = (
        "Thanks — your message is with the team. They're away until {when}; a "
        "person will reply {where} then."
    )
    typical_wait: str = "; the typical wait is about {minutes} minute{s}"
    where: Mapping[str, str] = field(default_factory=lambda: WHERE)
    where_else: str = "here"

    # notices on the agents' ticket (bot.identity.merge, bot.delivery.outbox)
    moved: str = (
        "This customer linked another address; the conversation continues in ticket {ticket}."
    )
    undelivered: str = (
        "Not delivered to the customer ({result}): {reason}. They will not see this reply."
    )

    # carrying the conversation across channels (bot.identity.linking)
    linking: LinkingTexts = field(default_factory=LinkingTexts)

    def where_on(self, channel: str | None) -> str:
        """Where a person will reply to a customer last seen on ``channel``."""
        return self.where.get(channel or "", self.where_else)
