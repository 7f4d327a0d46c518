"""Phone numbers in free text, for :mod:`bot.redaction.text`.

Two readers, their spans merged: phonenumbers' ``PhoneNumberMatcher`` (``Leniency.VALID``) for
each region of a short list, which knows every country's real formats; and a shape reader for
what customers type that the matcher calls invalid (numbers of countries outside the list,
made-up test numbers): digit groups with spaces, dashes, dots or brackets between them,
7-15 digits, an optional ``+`` and extension.

Neither may take an order number or an id: a digit run without ``+`` or separators is a phone
number only when a word next to it says so ("call", "mobile", "fax" ...); nothing right after
an order label ("#", "order", "ref", "id" ...) is one; dates, ZIP+4 codes and a first group of
more than five digits ("100412 12") are not either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import phonenumbers

# The shop's markets first; a national number (no "+") is read as from each in turn.
DEFAULT_REGIONS = ("GB", "US", "IE", "DE", "FR", "NL", "ES", "IT", "AU", "CA")
MIN_DIGITS, MAX_DIGITS = 7, 15  # a local number without area code .. E.164's longest
MAX_FIRST_GROUP = 5  # "07700 900123"; "100412 12" is an order number and a quantity
CUE_BEFORE, CUE_AFTER = 30, 12  # characters searched for a word saying "phone"

_SEP = r"(?:[ .-]?\(|\)[ .-]?|[ .-])"
PHONE_SHAPE = re.compile(
    rf"(?<![\w#@/.+-])\+?\(?\d{{1,12}}(?:{_SEP}\d{{1,12}}){{0,7}}\)?"
    r"(?:[ ]?(?:x|ext\.?[ ]?)\d{1,6})?(?![\w@])(?![.,-]\d)",
    re.IGNORECASE,
)
EXTENSION = re.compile(r"[ ]?(?:x|ext\.?[ ]?)\d{1,6}\Z", re.IGNORECASE)
GROUP = re.compile(r"\(?\d+\)?")
PHONE_CUE = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|cellphone|landline|fax|desk|office|home|work"
    r"|call|ring|dial|text|sms|whatsapp|reach|contact|answering|messages)\b",
    re.IGNORECASE,
)
# An order label right before a number makes it an order number, whatever its shape.
ORDER_LABEL = re.compile(
    r"(?:#|\b(?:orders?|ord|no|nr|ref|reference|id|invoice|tracking|parcel|item|sku|account"
    r"|acct|customer)\b\.?)\s*(?:(?:number|no\.?|nr\.?|id)\s*)?(?:(?:is|was)\s+)?[:#.-]?\s*\Z",
    re.IGNORECASE,
)
# yyyy-mm-dd, dd.mm.yyyy, mm/dd/yyyy ...: with a real year, month and day, a date and not a
# phone number ("0490 75 40 81" is one).
DATE = re.compile(
    r"(?<!\d)(?:(?P<year>(?:19|20)\d\d)[ ./-](?P<a>\d{1,2})[ ./-](?P<b>\d{1,2})"
    r"|(?P<c>\d{1,2})[ ./-](?P<d>\d{1,2})[ ./-](?P<year2>(?:19|20)\d\d))(?!\d)"
)
MONTHS, DAYS = 12, 31
# Numbers of other kinds shaped like phone numbers: US ZIP+4 and Brazil's CEP, a US social
# security number, an IPv4 address.
NOT_PHONES = re.compile(r"\A(?:\d{5}-\d{3,4}|\d{3}-\d{2}-\d{4}|\d{1,3}(?:\.\d{1,3}){3})\Z")
# Two groups with a space between ("370 3911") are as often a house and a flat number: a phone
# number only with a word saying so, unless a trunk "0" starts it ("0341 8387176").
TWO_GROUPS = re.compile(r"\A[1-9]\d* \d+\Z")


def find_phones(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of every phone number in ``text``, in order, none overlapping."""
    if sum(char.isdigit() for char in text) < MIN_DIGITS:
        return []  # the matcher costs ~0.3 ms a region even on text without a number
    spans = [
        (m.start, m.end)
        for region in regions
        for m in phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.VALID)
        if _plausible(m.raw_string) and _allowed(text, m.start, m.end)
    ]
    spans += [
        (m.start(), m.end())
        for m in PHONE_SHAPE.finditer(text)
        if _shaped(m.group()) and _allowed(text, m.start(), m.end())
    ]
    return _merge(spans)


def order_labelled(text: str, start: int) -> bool:
    """Whether an order label ("#", "order no.", "ref:" ...) ends right at ``start``."""
    return ORDER_LABEL.search(text[max(0, start - CUE_BEFORE) : start]) is not None


def _allowed(text: str, start: int, end: int) -> bool:
    """Not after an order label; a bare digit run (or two plain groups) only with a word
    saying it is a phone."""
    if order_labelled(text, start):
        return False
    raw = text[start:end]
    bare = raw.strip("()").isdigit() or TWO_GROUPS.match(raw) is not None
    if raw.startswith("+") or not bare:
        return True
    near = text[max(0, start - CUE_BEFORE) : start] + " " + text[end : end + CUE_AFTER]
    return PHONE_CUE.search(near) is not None


def _shaped(raw: str) -> bool:
    """Whether ``raw`` (a :data:`PHONE_SHAPE` match) is shaped like a phone number."""
    core = EXTENSION.sub("", raw)
    digits = sum(char.isdigit() for char in core)
    if not MIN_DIGITS <= digits <= MAX_DIGITS or not _plausible(core):
        return False
    if core.startswith("+"):
        return True
    groups = GROUP.findall(core)
    if len(groups) == 1:
        return True  # a bare run: :func:`_allowed` asks for a word saying "phone"
    return _groups_ok([g for g in groups if g != "(0)"])


def _plausible(raw: str) -> bool:
    """Not a date, a ZIP+4 code, a social security number or an IP address."""
    return not _has_date(raw) and NOT_PHONES.match(EXTENSION.sub("", raw)) is None


def _has_date(raw: str) -> bool:
    for match in DATE.finditer(raw):
        first, second = (int(match.group(k) or match.group(j)) for k, j in (("a", "c"), ("b", "d")))
        if min(first, second) <= MONTHS and max(first, second) <= DAYS and min(first, second):
            return True
    return False


def _groups_ok(groups: list[str]) -> bool:
    first, rest = groups[0], groups[1:]
    bracketed = first.startswith("(")
    if not bracketed and (len(first) > MAX_FIRST_GROUP or (len(first) == 1 and first != "1")):
        return False
    if any(len(group.strip("()")) < 2 for group in rest):
        return False
    # two groups: the second of three digits or more ("467 3395", not "55470 72")
    return len(groups) > 2 or len(rest[0].strip("()")) >= 3


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans as one, from the first start to the last end."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
