"""The conversation in a ticket's Slack thread: its latest messages, then each later line.

Pure functions only: no vendor SDK and no I/O, so the Slack connector and the tests share them.
The transcript (the latest messages; the whole history stays in omnibot) is packed into as few
Slack messages as Slack's limits allow, since Slack takes about one message per second per
channel. Every text is shown literally (see :func:`connectors.slack.text.literal`), later lines
of a message quoted, so what a customer writes can never pass for another line; the times are
shown in the zone given. What anyone wrote is masked first (:func:`bot.redaction.redact`: card
numbers, IBANs, e-mail addresses, phone numbers, the shop's own ``patterns``); the stored
history and the customer's channel keep the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from bot.models import Message, Role
from bot.redaction import redact
from connectors.slack.text import (
    BLOCKS_TEXT_BUDGET,
    BREAK_WINDOW,
    ELLIPSIS,
    LINK_SCHEMES,
    MAX_BLOCKS,
    MAX_SECTION_CHARS,
    SlackMessage,
    channel_label,
    clip,
    clock,
    context,
    cut_at,
    escape,
    fallback,
    literal,
    mrkdwn_link,
    section,
    slack_len,
    unescape,
    zone_name,
)

TRANSCRIPT_MESSAGES = 30  # a ticket's thread opens with this many of the latest messages
HEADER_CHARS = 200  # kept free in every transcript message for its header line
MIN_PIECE = 500  # a long line starts a new message rather than leave a scrap
QUOTE = "> "  # a quoted line in mrkdwn: the later lines of a message
SPEAKERS = {
    Role.CUSTOMER: "Customer",
    Role.BOT: "Assistant",
    Role.AGENT: "Agent",
    Role.SYSTEM: "System",
}


def transcript_messages(
    messages: Sequence[Message],
    tz: tzinfo = UTC,
    keep: int = TRANSCRIPT_MESSAGES,
    history_url: str | None = None,
    patterns: Sequence[re.Pattern[str]] = (),
) -> list[SlackMessage]:
    """The conversation's last ``keep`` messages, in order, packed into as few Slack messages
    as the limits allow.

    Earlier messages are counted in a first line that says where the whole conversation is
    (``history_url``, when given): Slack takes about one message per second per channel, so a
    long history would hold up every ticket behind it. Lines are joined into sections of up to
    3,000 characters, sections into messages of up to 50 blocks and ``BLOCKS_TEXT_BUDGET``
    characters; a longer line spans sections. Texts are masked (``patterns``: the shop's own).
    """
    if not messages:
        return []
    shown = messages[-keep:] if keep > 0 else messages
    earlier = len(messages) - len(shown)
    lines = _transcript_lines(shown, tz, patterns)
    if earlier:
        lines.insert(0, _earlier_line(earlier, history_url))
    parts = _pack(lines)
    return [
        _transcript_part(sections, number, len(parts), (len(shown), len(messages)), tz)
        for number, sections in enumerate(parts, start=1)
    ]


def _earlier_line(earlier: int, history_url: str | None) -> str:
    """``_212 earlier messages are not shown here: the whole conversation is in …_``."""
    plural = "message is" if earlier == 1 else "messages are"
    where = f": {mrkdwn_link(history_url, 'the whole conversation')}" if history_url else ""
    return f"_{ELLIPSIS} {earlier:,} earlier {plural} not shown here_{where}"


def message_line(
    message: Message, tz: tzinfo = UTC, patterns: Sequence[re.Pattern[str]] = ()
) -> SlackMessage:
    """One later message for the ticket's thread, formatted and masked as in the transcript.

    A line too long for one Slack message is cut, saying how much was left out.
    """
    line = _line(message, tz, patterns)
    parts = _pack([line])
    kept = parts[0]
    if len(parts) > 1:
        kept[-1] = clip(kept[-1], MAX_SECTION_CHARS - BREAK_WINDOW)
        omitted = len(unescape(line)) - len(unescape("".join(kept))) + len(ELLIPSIS)
        kept.append(f"_{ELLIPSIS} about {omitted:,} more characters not shown_")
    blocks = [section(text) for text in kept]
    said = redact(message.text, patterns) or ", ".join(m.content_type for m in message.media)
    return fallback(literal(f"{_speaker(message)}: {said}")), blocks


# ---- lines --------------------------------------------------------------------------------


def _transcript_lines(
    messages: Iterable[Message], tz: tzinfo, patterns: Sequence[re.Pattern[str]]
) -> list[str]:
    """One line per message, with a date line first and wherever the day changes."""
    lines: list[str] = []
    day: date | None = None
    for message in messages:
        when = datetime.fromtimestamp(message.ts, tz)
        if when.date() != day:
            day = when.date()
            lines.append(f"*{when:%A %d %B %Y}*")
        lines.append(_line(message, tz, patterns))
    return lines


def _line(message: Message, tz: tzinfo, patterns: Sequence[re.Pattern[str]]) -> str:
    """The time, who wrote (a customer's channel too), the masked text and attachments as
    links."""
    who = f"*{literal(_speaker(message))}*"
    if message.role is Role.CUSTOMER and message.channel:
        who += f" ({escape(channel_label(message.channel))})"
    links = [f":paperclip: {mrkdwn_link(m.url, m.content_type)}" for m in message.media]
    said = (_said(redact(message.text, patterns)), _answered_from(message), *links)
    text = " ".join(part for part in said if part) or "_(no text)_"
    return f"`{clock(message.ts, tz, '%H:%M', zone=False)}` {who}: {text}"


def _answered_from(message: Message) -> str:
    """``(answered from: <title> <url>)`` for a bot answer taken from a help-centre article,
    so the agent sees what the customer was told before they asked for a person."""
    article = message.article
    if message.role is not Role.BOT or article is None:
        return ""
    said = ["(answered from:", literal(article.title)]
    if article.url:  # a web address as a link; anything else shown, never followed
        url = article.url
        said.append(mrkdwn_link(url, url) if url.startswith(LINK_SCHEMES) else literal(url))
    return " ".join(said) + ")"


def _said(text: str) -> str:
    """What someone wrote, unable to pass for another line of the transcript.

    Formatting characters format nothing (:func:`literal`), and every line after the first is
    quoted (``>``), so no line break can start a line of its own with a time and a speaker.
    """
    first, *rest = text.splitlines() or [""]
    return "\n".join([literal(first), *(f"{QUOTE}{literal(line)}" for line in rest)])


def _speaker(message: Message) -> str:
    if message.role is Role.AGENT and message.author:
        return message.author
    return SPEAKERS[message.role]


# ---- packing ------------------------------------------------------------------------------


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
        units = slack_len(line) + 1  # with the newline before it
        if (
            not sections
            or slack_len(sections[-1]) + units > MAX_SECTION_CHARS
            or self.size + units > self.budget
        ):
            return False
        sections[-1] = f"{sections[-1]}\n{line}"
        self.size += units
        return True

    def _piece(self, rest: str) -> str:
        """Put as much of ``rest`` as fits into a new section; what is left over."""
        room = min(MAX_SECTION_CHARS, self.budget - self.size)
        units = slack_len(rest)
        whole = units <= MAX_SECTION_CHARS
        if len(self.parts[-1]) >= MAX_BLOCKS - 1 or (units > room if whole else room < MIN_PIECE):
            self.parts.append([])
            self.size = 0
            return rest
        cut = len(rest) if units <= room else cut_at(rest, room)
        self.parts[-1].append(rest[:cut])
        self.size += slack_len(rest[:cut])
        return rest[cut:]


def _transcript_part(
    sections: list[str], number: int, total: int, counts: tuple[int, int], tz: tzinfo
) -> SlackMessage:
    """One transcript message: a header line, then its sections; ``counts`` are the messages
    shown and the messages in the conversation."""
    part = f" · part {number} of {total}" if total > 1 else ""
    shown, count = counts
    plural = "" if count == 1 else "s"
    amount = (
        f"last {shown:,} of {count:,} messages" if shown < count else f"{count} message{plural}"
    )
    header = f":scroll: Transcript · {amount}{part} · times in {zone_name(tz)}"
    blocks = [context(header), *(section(text) for text in sections)]
    text = (
        f"Transcript of the conversation{part}"
        if total > 1
        else f"Transcript of the conversation ({amount})"
    )
    return text, blocks
