"""Countries a UK/EU shop ships to and its customers name.

The value is the country's usual English name ("Germany", "United States"). England, Scotland,
Wales and Northern Ireland stay themselves (delivery to Northern Ireland or the Highlands can
differ from the rest of the UK); "UK", "Britain", "GB" are "United Kingdom", and
:func:`country_of` gives the state a UK nation belongs to.

Names and short forms match in any case, whole words only. Short forms that are also English
words ("US", "GB", "NZ", "Turkey") match only as capitals in a message that is not shouted,
or as "the us"/"the states": "can you help us" and "HELP US" name no country; "64 GB" is
memory. Adjectives count too ("my German address"), but not as a language ("do you speak
German?", "in French") nor in "American Express".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from intents.entities.span import Span, first_value

UK = "United Kingdom"
UK_NATIONS = ("England", "Scotland", "Wales", "Northern Ireland")
# Country -> other names customers use (the country's own name matches too), any case.
NAMES: dict[str, tuple[str, ...]] = {
    UK: ("uk", "u.k.", "britain", "great britain"),
    "England": (), "Scotland": (), "Wales": (), "Northern Ireland": (),
    "Ireland": ("eire", "éire", "republic of ireland"),
    "United States": ("usa", "u.s.a.", "the us", "the u.s.", "the states", "america",
                      "united states of america"),
    "Canada": (), "Australia": (), "New Zealand": (),
    "Austria": ("österreich", "osterreich"), "Belgium": ("belgique", "belgie", "belgië"),
    "Bulgaria": (), "Croatia": ("hrvatska",), "Cyprus": (), "Czechia": ("czech republic",),
    "Denmark": ("danmark",), "Estonia": (), "Finland": ("suomi",), "France": (),
    "Germany": ("deutschland",), "Greece": (), "Hungary": (), "Italy": ("italia",),
    "Latvia": (), "Lithuania": (), "Luxembourg": ("luxemburg",), "Malta": (),
    "Netherlands": ("the netherlands", "holland", "nederland"), "Poland": ("polska",),
    "Portugal": (), "Romania": (), "Slovakia": (), "Slovenia": (), "Spain": ("españa", "espana"),
    "Sweden": ("sverige",), "Iceland": (), "Liechtenstein": (), "Norway": ("norge",),
    "Switzerland": ("schweiz", "suisse", "svizzera"),
}  # fmt: skip
# Short forms that are ordinary words in lower case: capitals only.
CAPITALS: dict[str, str] = {
    "US": "United States", "U.S.": "United States", "GB": UK, "NZ": "New Zealand",
    "Turkey": "Turkey",
}  # fmt: skip
ADJECTIVES: dict[str, str] = {
    "british": UK, "scottish": "Scotland", "welsh": "Wales", "irish": "Ireland",
    "american": "United States", "canadian": "Canada", "australian": "Australia",
    "german": "Germany", "french": "France", "spanish": "Spain", "italian": "Italy",
    "dutch": "Netherlands", "belgian": "Belgium", "austrian": "Austria", "swiss": "Switzerland",
    "swedish": "Sweden", "norwegian": "Norway", "finnish": "Finland", "danish": "Denmark",
    "portuguese": "Portugal", "greek": "Greece", "czech": "Czechia", "hungarian": "Hungary",
    "romanian": "Romania", "bulgarian": "Bulgaria", "croatian": "Croatia",
}  # fmt: skip
# "America" after these is a continent, not the United States.
CONTINENT_BEFORE = re.compile(r"\b(?:south|north|latin|central)\s+$", re.IGNORECASE)
LANGUAGE_BEFORE = re.compile(r"\b(?:speak|speaks|speaking|in|into|language|translate)\s+$", re.I)
# ... nor one naming a language or a thing ("American Express").
NOT_PLACE_AFTER = re.compile(r"^\s+(?:language|speaker|speaking|translation|express)\b", re.I)
SHOUTING = 0.6  # share of capital letters above which "US" is the pronoun, shouted
NUMBER_BEFORE = re.compile(r"\d\s*$")
UNITS = ("GB",)  # after a number: gigabytes


def _pattern(words: list[str], flags: int = 0) -> re.Pattern[str]:
    forms = sorted(words, key=len, reverse=True)  # "northern ireland" before "ireland"
    body = "|".join(re.escape(form).replace(r"\ ", r"\s+") for form in forms)
    return re.compile(rf"(?<![\w.])(?:{body})(?![\w])", flags)


_BY_NAME = {alias: c for c, aliases in NAMES.items() for alias in (c.lower(), *aliases)}
_NAMES = _pattern(list(_BY_NAME), re.IGNORECASE)
_CAPITALS = _pattern(list(CAPITALS))
_ADJECTIVES = _pattern(list(ADJECTIVES), re.IGNORECASE)


def country_of(value: str) -> str:
    """The state a found country belongs to: "United Kingdom" for a UK nation, else itself."""
    return UK if value in UK_NATIONS else value


def _shouting(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) > len("US") and sum(ch.isupper() for ch in letters) > SHOUTING * len(
        letters
    )


def _matches(text: str) -> Iterator[Span]:
    for match in _NAMES.finditer(text):
        name = _BY_NAME[" ".join(match.group().lower().split())]
        if not (name == "United States" and CONTINENT_BEFORE.search(text, 0, match.start())):
            yield Span(match.start(), match.end(), name)
    shouted = _shouting(text)
    for match in _CAPITALS.finditer(text):
        unit = match.group() in UNITS and NUMBER_BEFORE.search(text, 0, match.start())
        if not (shouted or unit):
            yield Span(match.start(), match.end(), CAPITALS[match.group()])
    for match in _ADJECTIVES.finditer(text):
        before, after = text[: match.start()], text[match.end() :]
        if not (LANGUAGE_BEFORE.search(before) or NOT_PLACE_AFTER.search(after)):
            yield Span(match.start(), match.end(), ADJECTIVES[match.group().lower()])


def find(text: str) -> list[Span]:
    """Every country named in ``text``, in order (one span per place in the text)."""
    spans: list[Span] = []
    for span in sorted(_matches(text), key=lambda s: (s.start, -s.end)):
        if not spans or span.start >= spans[-1].end:
            spans.append(span)
    return spans


def first(text: str) -> str | None:
    """The first country named in ``text``, or None."""
    return first_value(find(text))
