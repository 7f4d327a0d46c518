"""The ticket's parent message on the Slack agent desk: who, where, why, its status and buttons.

Pure functions only: no vendor SDK and no I/O, so the Slack connector and the tests share them.
Every text is escaped for Slack's mrkdwn (see :mod:`connectors.slack.text`), and times are
shown in the zone given (UTC unless told otherwise) with the zone named next to them. Personal
data is masked (:func:`bot.redaction.redact`) before it leaves for Slack: the customer's phone
number and e-mail address show their kind and a hint only, as does anything the customer's
words bring into the reason or the details. The transcript in the ticket's thread is
:mod:`connectors.slack.transcript`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo

from bot.contracts import TicketStatus
from bot.models import Conversation, Message, Role
from bot.redaction import redact
from connectors.slack.text import (
    MAX_FIELD_CHARS,
    Block,
    SlackMessage,
    channel_label,
    clip,
    clock,
    context,
    emoji_text,
    escape,
    fallback,
    literal,
    mrkdwn,
    mrkdwn_link,
    plain,
)

CLAIM_ACTION = "omnibot_claim"
RESOLVE_ACTION = "omnibot_resolve"
BACK_TO_BOT_ACTION = "omnibot_back_to_bot"

SHORT_ID_CHARS = 8

HEADERS = {
    TicketStatus.WAITING: ":raising_hand: Waiting for an agent",
    TicketStatus.CLAIMED: ":technologist: Claimed",
    TicketStatus.RESOLVED: ":white_check_mark: Resolved",
    TicketStatus.BACK_TO_BOT: ":robot_face: Back with the bot",
}
STATUS_VERBS = {
    TicketStatus.CLAIMED: "Claimed",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.BACK_TO_BOT: "Handed back to the bot",
}


@dataclass(frozen=True)
class TicketView:
    """What the ticket's parent message shows.

    ``customer`` is a ready label (see :func:`customer_label`); ``channel`` and ``address`` are
    the customer's last :class:`~bot.models.Address`; times are unix seconds; ``agent`` and
    ``status_at`` say who changed ``status`` and when.
    """

    conversation_id: str
    customer: str
    channel: str
    address: str
    reason: str
    escalated_at: float
    intent: str | None = None
    confidence: float | None = None
    detail: str | None = None  # what else the bot tells the agents (parts left, facts looked up)
    previous_thread: str | None = None
    status: TicketStatus = TicketStatus.WAITING
    agent: str | None = None
    status_at: float | None = None
    reaches: tuple[str, ...] = ()  # every address of the customer, as labels
    email: str | None = None


def customer_label(customer_id: str, name: str | None = None) -> str:
    """``"Ana Lima (1a2b3c4d)"``, or ``"Customer 1a2b3c4d"`` without a name."""
    short = customer_id[:SHORT_ID_CHARS]
    return f"{name} ({short})" if name else f"Customer {short}"


def ticket_view(
    conversation: Conversation,
    reason: str,
    *,
    escalated_at: float,
    customer_name: str | None = None,
    intent: str | None = None,
    confidence: float | None = None,
    previous_thread: str | None = None,
    detail: str | None = None,
    patterns: Sequence[re.Pattern[str]] = (),
) -> TicketView:
    """The view of a conversation that has just been escalated (status waiting), its personal
    data masked (``patterns``: the shop's own, see :func:`bot.redaction.redact`)."""
    address = conversation.last_address
    known = conversation.customer
    if known is not None and known.name:
        customer_name = known.name

    def hide(text: str) -> str:
        return redact(text, patterns)

    reaches = tuple(channel_label(a.channel, hide(a.id)) for a in known.addresses) if known else ()
    return TicketView(
        conversation_id=conversation.id,
        customer=customer_label(conversation.customer_id, customer_name and hide(customer_name)),
        reaches=reaches,
        email=hide(known.email) if known and known.email else None,
        channel=address.channel if address else _last_channel(conversation.messages),
        address=hide(address.id) if address else "",
        reason=hide(reason),
        escalated_at=escalated_at,
        intent=intent,
        confidence=confidence,
        previous_thread=previous_thread,
        detail=hide(detail) if detail else detail,
    )


def ticket_blocks(ticket: TicketView, tz: tzinfo = UTC) -> SlackMessage:
    """The ticket's parent message for its current status (post it, then ``chat.update`` it)."""
    header = HEADERS[ticket.status]
    blocks: list[Block] = [
        {"type": "header", "text": plain(header)},
        {
            "type": "section",
            "fields": [
                mrkdwn(clip(field, MAX_FIELD_CHARS)) for field in _ticket_fields(ticket, tz)
            ],
        },
    ]
    if ticket.previous_thread:
        link = mrkdwn_link(ticket.previous_thread, "the previous thread")
        blocks.append(context(f":link: Escalated before, see {link}"))
    blocks.append(context(_status_line(ticket, tz)))
    buttons = _buttons(ticket)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return fallback(f"{emoji_text(header)}: {_ticket_summary(ticket)}"), blocks


# ---- the ticket ---------------------------------------------------------------------------


def _ticket_fields(ticket: TicketView, tz: tzinfo) -> list[str]:
    # a name or an e-mail address the customer gave is shown as typed, formatting nothing
    fields = [
        f"*Customer*\n{literal(ticket.customer)}",
        f"*Channel*\n{escape(channel_label(ticket.channel, ticket.address))}",
        f"*Reason*\n{literal(ticket.reason) or '-'}",
    ]
    if len(ticket.reaches) > 1:  # one customer on several channels
        fields.append(f"*Reaches*\n{escape(', '.join(ticket.reaches))}")
    if ticket.email:
        fields.append(f"*E-mail*\n{literal(ticket.email)}")
    if ticket.intent is not None:
        fields.append(f"*Last intent*\n{_intent(ticket.intent, ticket.confidence)}")
    if ticket.detail:
        fields.append(f"*Details*\n{literal(ticket.detail)}")
    fields.append(f"*Escalated*\n{clock(ticket.escalated_at, tz, '%a %d %b, %H:%M')}")
    return fields


def _intent(intent: str, confidence: float | None) -> str:
    """``order_status · 42%``; the percentage is left out when there is no confidence."""
    if confidence is None:
        return escape(intent)
    return f"{escape(intent)} · {format_confidence(confidence)}"


def format_confidence(confidence: float) -> str:
    """A classifier score in [0, 1] as a whole percentage: ``0.4234`` -> ``"42%"``."""
    return f"{round(min(max(confidence, 0.0), 1.0) * 100)}%"


def _status_line(ticket: TicketView, tz: tzinfo) -> str:
    """``Waiting since 14:05 UTC``, ``Claimed by Dana at 14:05 UTC``, ``Resolved at ...``."""
    if ticket.status is TicketStatus.WAITING:
        return f"Waiting since {clock(ticket.escalated_at, tz)}"
    when = ticket.status_at if ticket.status_at is not None else ticket.escalated_at
    who = f" by {literal(ticket.agent)}" if ticket.agent else ""
    return f"{STATUS_VERBS[ticket.status]}{who} at {clock(when, tz)}"


def _buttons(ticket: TicketView) -> list[Block]:
    """Claim while waiting; Resolve and Back to bot until the ticket is closed."""
    value = ticket.conversation_id
    if ticket.status in (TicketStatus.RESOLVED, TicketStatus.BACK_TO_BOT):
        return []
    buttons = [
        _button("Resolve", RESOLVE_ACTION, value, style="primary"),
        _button("Back to bot", BACK_TO_BOT_ACTION, value),
    ]
    if ticket.status is TicketStatus.WAITING:
        buttons.insert(0, _button("Claim", CLAIM_ACTION, value))
    return buttons


def _button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label),
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button


def _ticket_summary(ticket: TicketView) -> str:
    channel = channel_label(ticket.channel, ticket.address)
    return escape(f"{ticket.customer} on {channel}, {ticket.reason}")


def _last_channel(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if message.role is Role.CUSTOMER and message.channel:
            return message.channel
    return "unknown"
