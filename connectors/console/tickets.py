"""A conversation as the agent console's list and header show it (:class:`TicketDict`)."""

from __future__ import annotations

from bot.models import Channel, Conversation, Role
from bot.models.channels import channel_info
from connectors.console.frames import TicketDict

SHORT_ID_CHARS = 8  # as the Slack desk shows customers


def customer_label(conversation: Conversation) -> str:
    """What the desk calls the customer: ``Ana (1a2b3c4d)``, or ``Customer 1a2b3c4d``."""
    short = conversation.customer_id[:SHORT_ID_CHARS]
    name = conversation.customer.name if conversation.customer else None
    return f"{name} ({short})" if name else f"Customer {short}"


def reaches(conversation: Conversation) -> list[str]:
    """Every address of the customer an agent may see: ``sms +1555…``, ``webchat``."""
    addresses = conversation.customer.addresses if conversation.customer else ()
    return sorted({f"sms {a.id}" if a.channel == Channel.SMS else a.channel for a in addresses})


def ticket(conversation: Conversation, escalated_at: float | None = None) -> TicketDict:
    """The summary of a conversation for the list and the header."""
    escalation, address = conversation.escalation, conversation.last_address
    info = channel_info(address.channel) if address else None
    last = next(
        (m.text for m in reversed(conversation.messages) if m.role is Role.CUSTOMER and m.text),
        None,
    )
    return {
        "conversation": conversation.id,
        "customer": customer_label(conversation),
        "channel": address.channel if address else None,
        "max_chars": info.max_chars if info else None,
        "address": address.id if address and address.channel == Channel.SMS else None,
        "reaches": reaches(conversation),
        "state": conversation.state.value,
        "agent": conversation.agent,
        "reason": escalation.reason if escalation else None,
        "intent": escalation.intent if escalation else None,
        "confidence": escalation.confidence if escalation else None,
        "detail": escalation.detail if escalation else None,
        "escalated_at": escalated_at or (escalation.at if escalation else None),
        "last_message": last,
    }
