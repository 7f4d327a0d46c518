"""Text for Slack's Block Kit: the shared types, Slack's limits, and how text is made safe and fit.

Pure functions only: no vendor SDK and no I/O, so the desk's message builders
(:mod:`connectors.slack.blocks`, :mod:`connectors.slack.transcript`) and the tests share them.
Every text that comes from a customer, an agent or the bot is escaped for Slack's mrkdwn (``&``,
``<``, ``>``), so nobody can ping ``@channel`` or slip a link into the desk. Lengths are counted
as Slack may count them, and long texts are cut where an agent can still read them. Times are
shown in the zone given and the zone is named next to them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

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
FALLBACK_CHARS = 300
# A split prefers to end at a space or newline within this many characters of the limit.
BREAK_WINDOW = 200
ENTITY_CHARS = len("&amp;")  # the longest entity escape() writes
ELLIPSIS = "…"

CHANNEL_NAMES = {"sms": "SMS", "webchat": "Web chat"}
LINK_SCHEMES = ("https://", "http://")
# Characters that would end a <url|label> link early; percent-encoded inside URLs.
URL_ESCAPES = str.maketrans({"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20"})
# mrkdwn's formatting characters, shown as look-alikes that format nothing: a customer's text
# can then neither bold a fake speaker label nor open code or strike-through.
FORMAT_LOOKALIKES = str.maketrans({"*": "\u2217", "~": "\u223c", "`": "\u02cb"})
# ``_`` formats only at a word's edge (``_word_``); inside a word (``order_123``) it is kept.
EDGE_UNDERSCORE = re.compile(r"(?<!\w)_|_(?!\w)")
UNDERSCORE_LOOKALIKE = "\u02cd"
# Slack's markup in what people type: <@U123>, <#C123|name>, <!here>, <url|label>.
MARKUP = re.compile(r"<([^<>]*)>")
MAILTO = "mailto:"


def escape(text: str) -> str:
    """``text`` made literal in Slack mrkdwn: ``&``, ``<`` and ``>`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The inverse of :func:`escape`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def literal(text: str) -> str:
    """``text`` shown as typed in Slack mrkdwn: escaped (:func:`escape`), and its formatting
    characters (``*``, ``_``, ``~``, backticks) as look-alikes that format nothing."""
    neutral = EDGE_UNDERSCORE.sub(UNDERSCORE_LOOKALIKE, text.translate(FORMAT_LOOKALIKES))
    return escape(neutral)


# ---- what people type in Slack ------------------------------------------------------------


def mentioned_users(text: str) -> set[str]:
    """The user ids mentioned (``<@U123>``) in a Slack message's ``text``."""
    return {part[1:].split("|", 1)[0] for part in MARKUP.findall(text) if part.startswith("@")}


def plain_text(text: str, names: Mapping[str, str]) -> str:
    """A Slack message's ``text`` as plain words for a customer: no markup, no entities.

    ``<url|label>`` becomes ``label (url)``, a mention the person's name from ``names`` (user id
    to name), a channel its ``#name``, ``<!here>`` ``@here``; ``&amp;``, ``&lt;`` and ``&gt;``
    are the characters again.
    """
    return unescape(MARKUP.sub(lambda match: _plain_markup(match.group(1), names), text))


def _plain_markup(inner: str, names: Mapping[str, str]) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return label or names.get(target[1:], target[1:])
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        return label or f"@{target[1:].split('^', 1)[0]}"
    shown = target.removeprefix(MAILTO)
    return f"{label} ({shown})" if label and label != shown else shown


def channel_label(channel: str, address: str = "") -> str:
    """``"SMS +15557654321"``, ``"Web chat"``: a session id means nothing to an agent."""
    name = CHANNEL_NAMES.get(channel, channel)
    return f"{name} {address}" if channel == "sms" and address else name


# ---- length -------------------------------------------------------------------------------


def slack_len(text: str) -> int:
    """Length as Slack may count it.

    Slack does not say whether it counts code points or UTF-16 units; UTF-16 units are never
    fewer, so measuring them keeps us inside the limit either way (an emoji counts as two).
    """
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` units."""
    cut = min(len(text), limit)
    while (excess := slack_len(text[:cut]) - limit) > 0:
        cut -= (excess + 1) // 2  # a character is at most two units
    return cut


def cut_at(text: str, limit: int) -> int:
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


def clip(text: str, limit: int) -> str:
    """An escaped ``text`` cut to ``limit`` units, with an ellipsis when cut."""
    if slack_len(text) <= limit:
        return text
    cut = cut_at(text, limit - len(ELLIPSIS))
    return text[:cut].rstrip() + ELLIPSIS


def fallback(text: str) -> str:
    """The top-level ``text`` (already escaped): one short line for notifications."""
    return clip(" ".join(text.split()), FALLBACK_CHARS)


def emoji_text(text: str) -> str:
    """The header without its leading ``:emoji:`` code (for fallback texts)."""
    if text.startswith(":") and " " in text:
        return text.split(" ", 1)[1]
    return text


# ---- links and times ----------------------------------------------------------------------


def mrkdwn_link(url: str, label: str) -> str:
    """A mrkdwn link ``<url|label>``; anything but an http(s) URL stays plain text."""
    if not url.startswith(LINK_SCHEMES):
        return escape(f"{label} ({url})")
    return f"<{escape(url.translate(URL_ESCAPES))}|{escape(label)}>"


def clock(ts: float, tz: tzinfo, pattern: str = "%H:%M", zone: bool = True) -> str:
    """``14:05 UTC``: the time in ``tz``, with the zone's name unless told otherwise."""
    text = datetime.fromtimestamp(ts, tz).strftime(pattern)
    return f"{text} {zone_name(tz)}" if zone else text


def zone_name(tz: tzinfo) -> str:
    """``UTC``, ``Europe/Berlin``: the zone's key when it has one, else its abbreviation."""
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) else datetime.now(tz).strftime("%Z") or "UTC"


# ---- Block Kit ------------------------------------------------------------------------------


def plain(text: str) -> Block:
    """A ``plain_text`` object (emoji codes shown as emoji)."""
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> Block:
    """A verbatim ``mrkdwn`` text object for an already escaped ``text``."""
    # verbatim: Slack must not turn a customer's bare URLs, #channels or @names into links
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> Block:
    """A section block showing the mrkdwn ``text``."""
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> Block:
    """A context block (small grey text) showing the mrkdwn ``text``."""
    return {"type": "context", "elements": [mrkdwn(text)]}
