"""Postal addresses: a street address ("12 High Street", "flat 3, 45 Queen's Road",
"221B Baker St", "Hauptstraße 5") with the town and post code that may follow, or a post code
on its own (UK "LS1 4AB", Irish Eircode "D02 X285").

A street address is a house number, one to four name words and a street word ("street", "rd",
"close", ...). Name words are never small function words ("on", "my") or amounts of time or
items ("days", "pairs"), so "2 shirts on the way" and "a 1 day drive" are no addresses.
"""

from __future__ import annotations

import re

from intents.entities.span import Span, first_value

STREET_WORDS = (
    "street", "st", "road", "rd", "avenue", "ave", "av", "lane", "ln", "close", "cl", "drive",
    "dr", "way", "court", "ct", "place", "pl", "crescent", "cres", "terrace", "terr", "grove",
    "gardens", "gdns", "square", "sq", "hill", "park", "row", "mews", "walk", "parade", "green",
    "boulevard", "blvd", "highway", "hwy", "view", "rise",
)  # fmt: skip
NOT_NAME_WORDS = (
    "a", "an", "and", "at", "be", "by", "for", "from", "i", "in", "is", "it", "its", "me", "my",
    "of", "on", "or", "so", "that", "the", "this", "to", "was", "we", "with", "you", "your",
    "please", "pls", "plz", "thanks", "thank", "thx", "ta", "cheers", "now", "instead",
    "day", "days", "week", "weeks", "month", "months", "hour", "hours", "min", "mins", "minutes",
    "year", "years", "item", "items", "pair", "pairs", "more", "times", "x",
)  # fmt: skip
UNIT = r"(?:(?:flat|apartment|apt|unit|suite)\s*\d{1,4}[a-z]?,?\s+)?"
HOUSE = r"\d{1,4}[a-z]?,?\s+"
NAME_WORD = rf"(?!(?:{'|'.join(NOT_NAME_WORDS)})\b)[a-z][a-z'\u2019.-]*"
STREET = (
    rf"(?:the\s+(?:{NAME_WORD}\s+){{0,3}}?|(?:{NAME_WORD}\s+){{1,4}}?)"
    rf"(?:{'|'.join(STREET_WORDS)})\b\.?"
)
# German-style: the street word is the name's ending and the number follows.
STRASSE = r"[a-zäöü][a-zäöüß-]*(?:straße|strasse|str\.|weg|platz|gasse|allee)\s+\d{1,4}[a-z]?\b"
# Letters a UK post code may use (its inward letters never include C, I, K, M, O, V: so "2pm"
# is no post code).
UK_POSTCODE = r"[a-pr-uwyz][a-hk-y]?\d[a-z\d]?\s?\d[abd-hjlnp-uw-z]{2}"
EIRCODE = r"(?:[ac-fhknprtv-y]\d{2}|d6w)\s?[\dac-fhknprtv-y]{4}"
US_ZIP = r"(?-i:[A-Z]{2})\s+\d{5}(?:-\d{4})?"  # after the town: "IL 62704"
POSTCODE = rf"(?:{UK_POSTCODE}|{EIRCODE})"
TOWN = rf"{NAME_WORD}(?:\s+{NAME_WORD})?"
EU_CODE = rf"\d{{4,5}}\s+{TOWN}"  # only after a comma: "Hauptstraße 5, 10115 Berlin"
# What may follow the street: a town and a post code, a comma and a European code and town,
# or a town that ends the message ("12 High St, Leeds").
TAIL = (
    rf"(?:,?\s*(?:{TOWN},?\s*)?(?:{POSTCODE}|{US_ZIP})\b|,\s*{EU_CODE}"
    rf"|,?\s+{TOWN}(?=\s*[.!?]?\s*$))?"
)
ADDRESS = re.compile(
    rf"(?<![\w£$€.,/-])(?:{UNIT}{HOUSE}{STREET}|{STRASSE}){TAIL}|(?<![\w-]){POSTCODE}(?![\w-])",
    re.IGNORECASE,
)
ENDS = " ,.;:!?"


def find(text: str) -> list[Span]:
    """Every address in ``text``, in order; the value is the address as written, its spaces
    made single."""
    spans = []
    for match in ADDRESS.finditer(text):
        raw = match.group().rstrip(ENDS)
        spans.append(Span(match.start(), match.start() + len(raw), " ".join(raw.split())))
    return spans


def first(text: str) -> str | None:
    """The first address in ``text``, or None."""
    return first_value(find(text))
