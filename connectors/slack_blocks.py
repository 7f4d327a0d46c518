"""Block Kit messages for the Slack agent desk: the ticket, its transcript, later lines.

Pure functions only: no vendor SDK and no I/O, so the Slack connector and the tests share them.
Every text that comes from a customer, an agent or the bot is escaped for Slack's mrkdwn (``&``,
``<``, ``>``), so nobody can ping ``@channel`` or slip a link into the desk. Times are shown in
the zone given (UTC unless told otherwise) and the zone is named next to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from bot.contracts import TicketStatus
from bot.models import Conversation, Message, Role

Block = dict[str, Any]
"""One Block Kit block, as sent to ``chat.postMessage`` / ``chat.update``."""

SlackMessage = tuple[str, list[Block]]
"""A message to post: the fallback ``text`` (notifications, screen readers) and its blocks."""

# Slack's limits (Block Kit reference, chat.postMessage).
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_FIELD_CHARS = 2000
MAX_MESSAGE_CHARS = 40_000  # documented: a longer ``text`` is cut
# chat.postMessage refuses (msg_blocks_too_long) a message whose blocks carry about 12,000
# characters of text in all, well below the documented 40,000: undocumented, see
# slackapi/bolt-js#2509 (Slack: "12,000 text characters with a buffer for block containers")
# and #2867 (refused at 11,341). Transcript messages stay clear of it.
BLOCKS_TEXT_BUDGET = 10_000
HEADER_CHARS = 200  # kept free in every transcript message for its header line
FALLBACK_CHARS = 300
# A split prefers to end at a space or newline within this many characters of the limit.
BREAK_WINDOW = 200
MIN_PIECE = 500  # a long line starts a new message rather than leave a scrap
ENTITY_CHARS = len("&amp;")  # the longest entity escape() writes
ELLIPSIS = "…"

CLAIM_ACTION = "omnibot_claim"
RESOLVE_ACTION = "omnibot_resolve"
BACK_TO_BOT_ACTION = "omnibot_back_to_bot"

SHORT_ID_CHARS = 8
CHANNEL_NAMES = {"sms": "SMS", "webchat": "Web chat"}
SPEAKERS = {
    Role.CUSTOMER: "Customer",
    Role.BOT: "Assistant",
    Role.AGENT: "Agent",
    Role.SYSTEM: "System",
}
LINK_SCHEMES = ("https://", "http://")
# Characters that would end a <url|label> link early; percent-encoded inside URLs.
URL_ESCAPES = str.maketrans({"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20"})


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
    previous_thread: str | None = None
    status: TicketStatus = TicketStatus.WAITING
    agent: str | None = None
    status_at: float | None = None


def escape(text: str) -> str:
    """``text`` made literal in Slack mrkdwn: ``&``, ``<`` and ``>`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The inverse of :func:`escape`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def customer_label(customer_id: str, name: str | None = None) -> str:
    """``"Ana Lima (1a2b3c4d)"``, or ``"Customer 1a2b3c4d"`` without a name."""
    short = customer_id[:SHORT_ID_CHARS]
    return f"{name} ({short})" if name else f"Customer {short}"


def channel_label(channel: str, address: str = "") -> str:
    """``"SMS +15557654321"``, ``"Web chat"``: a session id means nothing to an agent."""
    name = CHANNEL_NAMES.get(channel, channel)
    return f"{name} {address}" if channel == "sms" and address else name


def ticket_view(
    conversation: Conversation,
    reason: str,
    *,
    escalated_at: float,
    customer_name: str | None = None,
    intent: str | None = None,
    confidence: float | None = None,
    previous_thread: str | None = None,
) -> TicketView:
    """The view of a conversation that has just been escalated (status waiting)."""
    address = conversation.last_address
    return TicketView(
        conversation_id=conversation.id,
        customer=customer_label(conversation.customer_id, customer_name),
        channel=address.channel if address else _last_channel(conversation.messages),
        address=address.id if address else "",
        reason=reason,
        escalated_at=escalated_at,
        intent=intent,
        confidence=confidence,
        previous_thread=previous_thread,
    )


def ticket_blocks(ticket: TicketView, tz: tzinfo = UTC) -> SlackMessage:
    """The ticket's parent message for its current status (post it, then ``chat.update`` it)."""
    header = HEADERS[ticket.status]
    blocks: list[Block] = [
        {"type": "header", "text": _plain(header)},
        {
            "type": "section",
            "fields": [
                _mrkdwn(_clip(field, MAX_FIELD_CHARS)) for field in _ticket_fields(ticket, tz)
            ],
        },
    ]
    if ticket.previous_thread:
        link = _link(ticket.previous_thread, "the previous thread")
        blocks.append(_context(f":link: Escalated before, see {link}"))
    blocks.append(_context(_status_line(ticket, tz)))
    buttons = _buttons(ticket)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return _fallback(f"{_emoji_text(header)}: {_ticket_summary(ticket)}"), blocks


def transcript_messages(messages: Sequence[Message], tz: tzinfo = UTC) -> list[SlackMessage]:
    """The whole conversation, in order, packed into as few Slack messages as the limits allow.

    Lines are joined into sections of up to 3,000 characters, sections into messages of up to
    50 blocks and ``BLOCKS_TEXT_BUDGET`` characters (Slack takes about one message per second
    per channel, so fewer posts means the agent sees the history sooner). A longer line spans
    sections.
    """
    if not messages:
        return []
    parts = _pack(_transcript_lines(messages, tz))
    return [
        _transcript_part(sections, number, len(parts), len(messages), tz)
        for number, sections in enumerate(parts, start=1)
    ]


def message_line(message: Message, tz: tzinfo = UTC) -> SlackMessage:
    """One later message for the ticket's thread, formatted as in the transcript.

    A line too long for one Slack message is cut, saying how much was left out.
    """
    line = _line(message, tz)
    parts = _pack([line])
    kept = parts[0]
    if len(parts) > 1:
        kept[-1] = _clip(kept[-1], MAX_SECTION_CHARS - BREAK_WINDOW)
        omitted = len(unescape(line)) - len(unescape("".join(kept))) + len(ELLIPSIS)
        kept.append(f"_{ELLIPSIS} about {omitted:,} more characters not shown_")
    blocks = [_section(text) for text in kept]
    said = message.text or ", ".join(m.content_type for m in message.media)
    return _fallback(escape(f"{_speaker(message)}: {said}")), blocks


# ---- the ticket ---------------------------------------------------------------------------


def _ticket_fields(ticket: TicketView, tz: tzinfo) -> list[str]:
    fields = [
        f"*Customer*\n{escape(ticket.customer)}",
        f"*Channel*\n{escape(channel_label(ticket.channel, ticket.address))}",
        f"*Reason*\n{escape(ticket.reason) or '-'}",
    ]
    if ticket.intent is not None:
        fields.append(f"*Last intent*\n{_intent(ticket.intent, ticket.confidence)}")
    fields.append(f"*Escalated*\n{_clock(ticket.escalated_at, tz, '%a %d %b, %H:%M')}")
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
        return f"Waiting since {_clock(ticket.escalated_at, tz)}"
    when = ticket.status_at if ticket.status_at is not None else ticket.escalated_at
    who = f" by {escape(ticket.agent)}" if ticket.agent else ""
    return f"{STATUS_VERBS[ticket.status]}{who} at {_clock(when, tz)}"


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
        "text": _plain(label),
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button


def _ticket_summary(ticket: TicketView) -> str:
    channel = channel_label(ticket.channel, ticket.address)
    return escape(f"{ticket.customer} on {channel}, {ticket.reason}")


# ---- the transcript -------------------------------------------------------------------------


def _transcript_lines(messages: Iterable[Message], tz: tzinfo) -> list[str]:
    """One line per message, with a date line first and wherever the day changes."""
    lines: list[str] = []
    day: date | None = None
    for message in messages:
        when = datetime.fromtimestamp(message.ts, tz)
        if when.date() != day:
            day = when.date()
            lines.append(f"*{when:%A %d %B %Y}*")
        lines.append(_line(message, tz))
    return lines


def _line(message: Message, tz: tzinfo) -> str:
    """The time, who wrote (a customer's channel too), the text and attachments as links."""
    who = f"*{escape(_speaker(message))}*"
    if message.role is Role.CUSTOMER and message.channel:
        who += f" ({escape(channel_label(message.channel))})"
    links = [f":paperclip: {_link(m.url, m.content_type)}" for m in message.media]
    text = " ".join(part for part in (escape(message.text), *links) if part) or "_(no text)_"
    return f"`{_clock(message.ts, tz, '%H:%M', zone=False)}` {who}: {text}"


def _speaker(message: Message) -> str:
    if message.role is Role.AGENT and message.author:
        return message.author
    return SPEAKERS[message.role]


def _pack(lines: Iterable[str]) -> list[list[str]]:
    """Lines, in order, as the section texts of as few messages as the limits allow."""
    packing = _Packing()
    for line in lines:
        packing.add(line)
    return packing.parts


@dataclass
class _Packing:
    """Messages being filled: each a list of section texts, ``size`` units in the last one.

    Each message is filled before the next is started, which gives the fewest messages for
    lines kept in order. A line that fits in a section is never split (an agent reads it
    whole); a longer one is cut into pieces that fill what room is left.
    """

    budget: int = BLOCKS_TEXT_BUDGET - HEADER_CHARS
    parts: list[list[str]] = field(default_factory=lambda: [[]])
    size: int = 0

    def add(self, line: str) -> None:
        """Append ``line`` to the last section, or as new sections, or in a new message."""
        if self._join(line):
            return
        rest = line
        while rest:
            rest = self._piece(rest)

    def _join(self, line: str) -> bool:
        sections = self.parts[-1]
        units = _units(line) + 1  # with the newline before it
        if (
            not sections
            or _units(sections[-1]) + units > MAX_SECTION_CHARS
            or self.size + units > self.budget
        ):
            return False
        sections[-1] = f"{sections[-1]}\n{line}"
        self.size += units
        return True

    def _piece(self, rest: str) -> str:
        """Put as much of ``rest`` as fits into a new section; what is left over."""
        room = min(MAX_SECTION_CHARS, self.budget - self.size)
        units = _units(rest)
        whole = units <= MAX_SECTION_CHARS
        if len(self.parts[-1]) >= MAX_BLOCKS - 1 or (units > room if whole else room < MIN_PIECE):
            self.parts.append([])
            self.size = 0
            return rest
        cut = len(rest) if units <= room else _cut(rest, room)
        self.parts[-1].append(rest[:cut])
        self.size += _units(rest[:cut])
        return rest[cut:]


def _transcript_part(
    sections: list[str], number: int, total: int, count: int, tz: tzinfo
) -> SlackMessage:
    """One transcript message: a header line, then its sections."""
    part = f" · part {number} of {total}" if total > 1 else ""
    plural = "" if count == 1 else "s"
    header = f":scroll: Transcript · {count} message{plural}{part} · times in {_zone(tz)}"
    blocks = [_context(header), *(_section(text) for text in sections)]
    text = (
        f"Transcript of the conversation{part}"
        if total > 1
        else (f"Transcript of the conversation ({count} message{plural})")
    )
    return text, blocks


# ---- text -----------------------------------------------------------------------------------


def _units(text: str) -> int:
    """Length as Slack may count it.

    Slack does not say whether it counts code points or UTF-16 units; UTF-16 units are never
    fewer, so measuring them keeps us inside the limit either way (an emoji counts as two).
    """
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` units."""
    cut = min(len(text), limit)
    while (excess := _units(text[:cut]) - limit) > 0:
        cut -= (excess + 1) // 2  # a character is at most two units
    return cut


def _cut(text: str, limit: int) -> int:
    """Where to end the first piece of an escaped ``text`` longer than ``limit``.

    Never inside an entity (``&amp;``), and at a space or newline when there is one close by.
    """
    cut = _fit(text, limit)
    amp = text.rfind("&", max(0, cut - ENTITY_CHARS + 1), cut)
    if amp > 0 and ";" not in text[amp:cut]:
        cut = amp
    space = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut))
    if space >= cut - BREAK_WINDOW and space > 0:
        cut = space + 1
    return cut


def _clip(text: str, limit: int) -> str:
    """An escaped ``text`` cut to ``limit`` units, with an ellipsis when cut."""
    if _units(text) <= limit:
        return text
    cut = _cut(text, limit - len(ELLIPSIS))
    return text[:cut].rstrip() + ELLIPSIS


def _fallback(text: str) -> str:
    """The top-level ``text`` (already escaped): one short line for notifications."""
    return _clip(" ".join(text.split()), FALLBACK_CHARS)


def _emoji_text(text: str) -> str:
    """The header without its leading ``:emoji:`` code (for fallback texts)."""
    if text.startswith(":") and " " in text:
        return text.split(" ", 1)[1]
    return text


def _link(url: str, label: str) -> str:
    """A mrkdwn link ``<url|label>``; anything but an http(s) URL stays plain text."""
    if not url.startswith(LINK_SCHEMES):
        return escape(f"{label} ({url})")
    return f"<{escape(url.translate(URL_ESCAPES))}|{escape(label)}>"


def _clock(ts: float, tz: tzinfo, pattern: str = "%H:%M", zone: bool = True) -> str:
    """``14:05 UTC``: the time in ``tz``, with the zone's name unless told otherwise."""
    text = datetime.fromtimestamp(ts, tz).strftime(pattern)
    return f"{text} {_zone(tz)}" if zone else text


def _zone(tz: tzinfo) -> str:
    """``UTC``, ``Europe/Berlin``: the zone's key when it has one, else its abbreviation."""
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) else datetime.now(tz).strftime("%Z") or "UTC"


def _last_channel(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if message.role is Role.CUSTOMER and message.channel:
            return message.channel
    return "unknown"


# ---- Block Kit ------------------------------------------------------------------------------


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str) -> Block:
    # verbatim: Slack must not turn a customer's bare URLs, #channels or @names into links
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text)]}
