"""Personal data masked before text leaves for agents' tools (Slack, logs, events, reports).

Pure functions, no I/O: :func:`find` returns the typed spans of card numbers (13-19 digits,
Luhn-checked, a card brand's prefix and length; any Luhn-valid 12-19 digits after a word naming
a card), IBANs (a known country's length, mod-97 checked, with or without spaces), e-mail
addresses, phone numbers and custom patterns;
:func:`redact` replaces each with a mask that keeps its kind and a hint an agent can match
against what the customer says::

    [card •••• 4242]   last four digits, as on every receipt
    [iban GB•• ••••]   the country only
    [email j•••@example.com]  the first character and the domain
    [phone •••• 123]   last three digits
    [redacted]         a custom pattern's match

The shop's order numbers (5-10 digits) and longer numeric ids are never masked: a bare digit
run counts as a phone number only next to a word that says so ("call", "mobile", "fax" ...),
and never after an order label ("#", "order", "ref" ...). Phones are the detector in
:mod:`bot.redaction.phones`. The customer's own channel and the stored history keep the
original; only copies leaving for agents' tools pass through here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from bot.redaction.phones import DEFAULT_REGIONS, EXTENSION, find_phones, order_labelled

CARD = "card"
IBAN = "iban"
EMAIL = "email"
PHONE = "phone"
CUSTOM = "custom"
KINDS = (CARD, IBAN, EMAIL, PHONE, CUSTOM)

DOT = "\u2022"  # •
CUSTOM_MASK = "[redacted]"
CARD_SHOWN = 4  # a receipt's last four digits
PHONE_SHOWN = 3  # as the logs show a number's end
MIN_CARD_DIGITS, MAX_CARD_DIGITS = 13, 19

# A run of digit groups (single spaces or dashes between them), not inside a word or a longer
# number, nor after an order label's "#".
CARD_RUN = re.compile(r"(?<![\w@.,/+-])\d+(?:[ -]\d+)*(?![\w@])")
DIGIT_GROUP = re.compile(r"\d+")
# A word saying a card follows: then any Luhn-valid 12-19 digits are one (Maestro issues 12),
# and an order label's "#" or "no" ("card no 4735...") is the card's.
CARD_CUE = re.compile(r"\b(?:card|cc|visa|mastercard|amex|credit|debit|maestro)\b", re.I)
CUE_CHARS = 30
MIN_CUED_DIGITS = 12
# Card brands (ISO/IEC 7812 issuer prefixes) and the lengths they issue; a Luhn-valid number
# outside them is more likely an id than a card.
CARD_BRANDS: tuple[tuple[tuple[int, int], tuple[int, ...]], ...] = (
    ((4, 4), (13, 16, 19)),  # Visa
    ((51, 55), (16,)),  # Mastercard
    ((2221, 2720), (16,)),  # Mastercard 2-series
    ((34, 34), (15,)),  # American Express
    ((37, 37), (15,)),
    ((300, 305), (14, 15, 16, 17, 18, 19)),  # Diners Club
    ((36, 36), (14, 15, 16, 17, 18, 19)),
    ((38, 39), (14, 15, 16, 17, 18, 19)),
    ((6011, 6011), (16, 17, 18, 19)),  # Discover
    ((644, 649), (16, 17, 18, 19)),
    ((65, 65), (16, 17, 18, 19)),
    ((3528, 3589), (16, 17, 18, 19)),  # JCB
    ((2131, 2131), (15,)),  # JCB's older 15-digit ranges
    ((1800, 1800), (15,)),
    ((62, 62), (16, 17, 18, 19)),  # UnionPay
    ((50, 50), (13, 14, 15, 16, 17, 18, 19)),  # Maestro
    ((56, 69), (13, 14, 15, 16, 17, 18, 19)),
)

# IBAN lengths by country (SWIFT's IBAN registry).
IBAN_LENGTHS = {
    **dict.fromkeys(("NO",), 15),
    **dict.fromkeys(("BE",), 16),
    **dict.fromkeys(("DK", "FI", "FO", "GL", "NL"), 18),
    **dict.fromkeys(("MK", "SI"), 19),
    **dict.fromkeys(("AT", "BA", "EE", "KZ", "LT", "LU", "XK"), 20),
    **dict.fromkeys(("CH", "HR", "LI", "LV"), 21),
    **dict.fromkeys(("BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA"), 22),
    **dict.fromkeys(("AE", "GI", "IL", "IQ", "TL"), 23),
    **dict.fromkeys(("AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"), 24),
    **dict.fromkeys(("PT", "ST"), 25),
    **dict.fromkeys(("IS", "TR"), 26),
    **dict.fromkeys(("FR", "GR", "IT", "MC", "MR", "SM"), 27),
    **dict.fromkeys(("AL", "AZ", "BY", "CY", "DO", "GT", "HU", "LB", "PL", "SV"), 28),
    **dict.fromkeys(("BR", "EG", "PS", "QA", "UA"), 29),
    **dict.fromkeys(("JO", "KW", "MU"), 30),
    **dict.fromkeys(("MT", "SC"), 31),
    **dict.fromkeys(("LC",), 32),
}
# Country code and check digits, then letters and digits with single spaces between them.
IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}")
EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])"
)
# Kinds are found in this order; a later span overlapping an earlier one is dropped (the digits
# of an IBAN or an e-mail address are not also a card or a phone number).
ORDER = (EMAIL, IBAN, CARD, CUSTOM, PHONE)


@dataclass(frozen=True)
class Span:
    """Personal data of ``kind`` at ``text[start:end]``."""

    kind: str
    start: int
    end: int


class RedactPatternError(ValueError):
    """A custom redaction pattern that is not a valid regular expression."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"REDACT_PATTERNS: {pattern!r} is not a regular expression: {reason}")
        self.pattern = pattern


def compile_patterns(texts: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """Custom patterns as compiled regexes (what a setting's parser hands to :func:`redact`)."""
    compiled = []
    for text in texts:
        try:
            compiled.append(re.compile(text))
        except re.error as error:
            raise RedactPatternError(text, str(error)) from error
    return tuple(compiled)


def redact(
    text: str,
    patterns: Sequence[re.Pattern[str]] = (),
    regions: Sequence[str] = DEFAULT_REGIONS,
    kinds: Collection[str] = KINDS,
) -> str:
    """``text`` with every span :func:`find` finds of ``kinds`` replaced by its mask."""
    spans = [span for span in find(text, patterns, regions) if span.kind in kinds]
    if not spans:
        return text
    pieces, at = [], 0
    for span in spans:
        pieces += [text[at : span.start], mask(span.kind, text[span.start : span.end])]
        at = span.end
    pieces.append(text[at:])
    return "".join(pieces)


def find(
    text: str,
    patterns: Sequence[re.Pattern[str]] = (),
    regions: Sequence[str] = DEFAULT_REGIONS,
) -> list[Span]:
    """The personal data in ``text``, in order, no two spans overlapping.

    ``patterns``: custom regexes (a match is masked whole); ``regions``: where national phone
    numbers (without ``+``) are read as from.
    """
    finders = {
        EMAIL: lambda: find_emails(text),
        IBAN: lambda: find_ibans(text),
        CARD: lambda: find_cards(text),
        CUSTOM: lambda: _find_custom(text, patterns),
        PHONE: lambda: [Span(PHONE, s, e) for s, e in find_phones(text, regions)],
    }
    kept: list[Span] = []
    for kind in ORDER:
        for span in finders[kind]():
            if not any(_overlap(span, k) for k in kept):
                kept.append(span)
    return sorted(kept, key=lambda span: span.start)


def mask(kind: str, value: str) -> str:
    """The mask of ``value`` found as ``kind`` (see the module's docstring)."""
    if kind == CARD:
        return f"[card {DOT * 4} {''.join(DIGIT_GROUP.findall(value))[-CARD_SHOWN:]}]"
    if kind == IBAN:
        return f"[iban {value[:2].upper()}{DOT * 2} {DOT * 4}]"
    if kind == EMAIL:
        local, _, domain = value.rpartition("@")
        return f"[email {local[:1]}{DOT * 3}@{domain}]"
    if kind == PHONE:
        number = EXTENSION.sub("", value)  # the hint is the number's end, not the extension's
        return f"[phone {DOT * 4} {''.join(DIGIT_GROUP.findall(number))[-PHONE_SHOWN:]}]"
    return CUSTOM_MASK


# ---- the kinds ----------------------------------------------------------------------------


def find_cards(text: str) -> list[Span]:
    """Card numbers: the longest run of whole digit groups, from a run's start, that is a
    brand's length and prefix and passes Luhn (so an expiry or a CVV after it stays out);
    none right after an order label. After a word naming a card, any Luhn-valid 12-19
    digits."""
    found = []
    for run in CARD_RUN.finditer(text):
        cued = CARD_CUE.search(text[max(0, run.start() - CUE_CHARS) : run.start()]) is not None
        if not cued and order_labelled(text, run.start()):  # "order id 4532..." is the shop's
            continue
        groups = list(DIGIT_GROUP.finditer(run.group()))
        for last in range(len(groups), 0, -1):
            digits = "".join(g.group() for g in groups[:last])
            if _is_card(digits, cued):
                found.append(Span(CARD, run.start(), run.start() + groups[last - 1].end()))
                break
    return found


def _is_card(digits: str, cued: bool) -> bool:
    if cued:
        return MIN_CUED_DIGITS <= len(digits) <= MAX_CARD_DIGITS and luhn_ok(digits)
    if not MIN_CARD_DIGITS <= len(digits) <= MAX_CARD_DIGITS:
        return False
    branded = any(
        len(digits) in lengths and low <= int(digits[: len(str(low))]) <= high
        for (low, high), lengths in CARD_BRANDS
    )
    return branded and luhn_ok(digits)


def luhn_ok(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check every card number carries."""
    total = 0
    for place, char in enumerate(reversed(digits)):
        value = int(char) * (2 if place % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def find_ibans(text: str) -> list[Span]:
    """IBANs: a known country's length of letters and digits (single spaces allowed between
    them), whose mod-97 check holds, not running on into a longer word."""
    found = []
    for candidate in IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(candidate.group()[:2].upper())
        if length is None:
            continue
        end = _iban_end(candidate.group(), length)
        if end is None or text[candidate.start() + end : candidate.start() + end + 1].isalnum():
            continue
        if iban_ok(candidate.group()[:end]):
            found.append(Span(IBAN, candidate.start(), candidate.start() + end))
    return found


def _iban_end(candidate: str, length: int) -> int | None:
    """Where the ``length``-th letter or digit of ``candidate`` ends, if it has that many."""
    count = 0
    for at, char in enumerate(candidate):
        count += char.isalnum()
        if count == length:
            return at + 1
    return None


def iban_ok(iban: str) -> bool:
    """Whether ``iban`` (spaces allowed) passes ISO 13616's mod-97 check."""
    compact = iban.replace(" ", "").upper()
    moved = compact[4:] + compact[:4]
    if not moved.isascii() or not moved.isalnum():
        return False
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


def find_emails(text: str) -> list[Span]:
    """E-mail addresses."""
    return [Span(EMAIL, m.start(), m.end()) for m in EMAIL_RE.finditer(text)]


def _find_custom(text: str, patterns: Sequence[re.Pattern[str]]) -> list[Span]:
    return [
        Span(CUSTOM, m.start(), m.end())
        for pattern in patterns
        for m in pattern.finditer(text)
        if m.end() > m.start()
    ]


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end
