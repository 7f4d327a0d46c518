"""SMS text rules: GSM-7 vs UCS-2 segments, splitting long answers, an answer from a help-centre
article with its link, keywords and sender ids.

Pure functions only: no vendor SDK and no I/O, so the SMS connector and the tests share them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

# GSM 03.38 default alphabet, in code order. 0x1B (ESC) is left out: it only introduces an
# extension character and cannot be sent on its own.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
# GSM 03.38 extension table: each is sent as ESC + code, so it costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE_SEPTETS = 160
GSM7_PART_SEPTETS = 153  # 7 septets of each part go to the concatenation header
UCS2_SINGLE_UNITS = 70
UCS2_PART_UNITS = 67

MAX_BODY_CHARS = 1600  # Twilio refuses a longer Body
# An answer from a help-centre article, with its title and link: three GSM-7 segments at most
# for a short title and url (a long url is kept whole, so it may take more).
ARTICLE_BODY_CHARS = 320
MAX_TITLE_CHARS = 80  # an article's title in an SMS, cut between words beyond
MIN_ARTICLE_TEXT = 60  # the passage keeps this much whatever the length of the link
ELLIPSIS = "..."  # GSM-7: "…" would make the whole SMS UCS-2, at 70 characters a segment

SENTENCE_END_RE = re.compile(r"[.!?](?=\s)|\n")
WHITESPACE_RE = re.compile(r"\s")
PHONE_RE = re.compile(r"\+[1-9][0-9]{7,14}")
SHORT_CODE_RE = re.compile(r"[0-9]{3,8}")
ALPHANUMERIC_RE = re.compile(r"[A-Za-z0-9 ]{1,11}")
LETTER_RE = re.compile(r"[A-Za-z]")


class Keyword(StrEnum):
    """A carrier compliance keyword sent as a whole message."""

    STOP = "STOP"
    START = "START"
    HELP = "HELP"


KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), Keyword.STOP),
    **dict.fromkeys(("START", "UNSTOP", "YES"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}


class SenderKind(StrEnum):
    """What kind of SMS sender (or recipient) id a string is."""

    PHONE = "phone"
    SHORT_CODE = "short_code"
    ALPHANUMERIC = "alphanumeric"


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 basic or extension table."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def segments(text: str) -> int:
    """How many SMS segments ``text`` is billed as (an empty text counts 1, as Twilio bills).

    A character is never split between two parts, as real encoders do: an extension
    character (ESC + code) or a UTF-16 surrogate pair that would straddle a part boundary
    moves whole to the next part, which can cost one part more than ``ceil(total / per_part)``.
    """
    if is_gsm7(text):
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in text]
        single, per_part = GSM7_SINGLE_SEPTETS, GSM7_PART_SEPTETS
    else:
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
        single, per_part = UCS2_SINGLE_UNITS, UCS2_PART_UNITS
    if sum(sizes) <= single:
        return 1
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts


def split(text: str, limit: int = MAX_BODY_CHARS) -> list[str]:
    """Cut ``text`` into stripped parts of at most ``limit`` characters (none for a blank text).

    Cuts prefer the end of a sentence or a line, then a space between words; a word longer
    than ``limit`` is the only thing ever cut in the middle.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> int:
    """Where to end the next part of ``text`` (which starts with a non-space character)."""
    window = text[: limit + 1]  # the character at ``limit`` may be the space a cut lands on
    sentence_ends = [
        m.end() if m.group() != "\n" else m.start() for m in SENTENCE_END_RE.finditer(window)
    ]
    # A sentence end early in the window would waste most of a message: take it only when
    # it fills at least half the part, else cut between words further on.
    sentence_cut = max((c for c in sentence_ends if limit // 2 <= c <= limit), default=0)
    if sentence_cut:
        return sentence_cut
    word_cut = max((m.start() for m in WHITESPACE_RE.finditer(window) if m.start() > 0), default=0)
    return word_cut or limit


def choices(options: Sequence[str]) -> list[str]:
    """The lines offering ``options`` by SMS, each numbered ("1. Track my order": a reply of
    just the number chooses it); options that are themselves the numbers 1 to n (a 1-5 rating)
    in one line, "Reply 1-5", for "1. 1" would read as nonsense."""
    if len(options) > 1 and list(options) == [str(n) for n in range(1, len(options) + 1)]:
        return [f"Reply {options[0]}-{options[-1]}"]
    return [f"{n}. {option}" for n, option in enumerate(options, start=1)]


def article_body(text: str, title: str, url: str | None) -> str:
    """An answer taken from an article as one SMS body: the passage trimmed on a sentence
    boundary so that it, a line break and ``title: url`` fit in ``ARTICLE_BODY_CHARS``.

    The link is always kept whole; only the passage (and an over-long title) is cut.
    """
    title = trim_sentences(title, MAX_TITLE_CHARS)
    link = f"{title}: {url}" if url else title
    room = max(ARTICLE_BODY_CHARS - len(link) - 1, MIN_ARTICLE_TEXT)
    passage = trim_sentences(text, room)
    return f"{passage}\n{link}" if passage else link


def trim_sentences(text: str, limit: int) -> str:
    """``text`` up to its last whole sentence (or line) within ``limit`` characters; a first
    sentence longer than that is cut between words, ending in ``ELLIPSIS``."""
    text = text.strip()
    if len(text) <= limit:
        return text
    window = text[: limit + 1]  # a sentence ending at ``limit`` is followed by a space there
    ends = [m.end() if m.group() != "\n" else m.start() for m in SENTENCE_END_RE.finditer(window)]
    cut = max((end for end in ends if 0 < end <= limit), default=0)
    if cut:
        return text[:cut].rstrip()
    room = max(limit - len(ELLIPSIS), 0)
    spaces = [m.start() for m in WHITESPACE_RE.finditer(text[: room + 1]) if m.start() > 0]
    return text[: max(spaces, default=room)].rstrip() + ELLIPSIS


def keyword(body: str) -> Keyword | None:
    """The compliance keyword ``body`` is, when the whole message is one (any case, any
    surrounding whitespace or punctuation), else None."""
    start, end = 0, len(body)
    while start < end and not body[start].isalnum():
        start += 1
    while end > start and not body[end - 1].isalnum():
        end -= 1
    return KEYWORDS.get(body[start:end].upper())


def sender_kind(value: str) -> SenderKind | None:
    """What kind of sender id ``value`` is exactly as written, or None if it is none of them.

    Alphanumeric ids take ASCII letters, digits and inner spaces, with at least one letter;
    leading or trailing spaces are refused rather than trimmed.
    """
    if PHONE_RE.fullmatch(value):
        return SenderKind.PHONE
    if SHORT_CODE_RE.fullmatch(value):
        return SenderKind.SHORT_CODE
    if ALPHANUMERIC_RE.fullmatch(value) and LETTER_RE.search(value) and value == value.strip():
        return SenderKind.ALPHANUMERIC
    return None
