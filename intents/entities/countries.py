"""Countries a UK/EU shop ships to and its customers name.

The value is the country's usual English name ("Germany", "United States"). England, Scotland,
Wales and Northern Ireland stay themselves (delivery to Northern Ireland or the Highlands can
differ from the rest of the UK); "UK", "Britain", "GB" are "United Kingdom".

Names and short forms match in any case, whole words only. Short forms that are also English
words ("US", "GB", "NZ", "Turkey") match only as capitals in a message that is not shouted,
or as "the us"/"the states": "can you help us" and "HELP US" name no country; "64 GB" is
memory. Adjectives count too ("my German address"), but not as a language ("do you speak
German?", "in French") nor in "American Express". A name of six letters or more with one typo
(a letter dropped, added, replaced, or two swapped: "irleand", "germny") counts too, unless the
word is an English word or name one edit from a country ("hungry", "inland", "frances").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from intents.entities.span import Span, first_value

UK = "United Kingdom"
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
CONTINENT_BEFORE = re.compile(r"\b(?:south|north|latin|central)\s+\Z", re.IGNORECASE)
LANGUAGE_BEFORE = re.compile(r"\b(?:speak|speaks|speaking|in|into|language|translate)\s+\Z", re.I)
# ... nor one naming a language or a thing ("American Express").
NOT_PLACE_AFTER = re.compile(r"^\s+(?:language|speaker|speaking|translation|express)\b", re.I)
SHOUTING = 0.6  # share of capital letters above which "US" is the pronoun, shouted
NUMBER_BEFORE = re.compile(r"\d\s*\Z")
UNITS = ("GB",)  # after a number: gigabytes


def _pattern(words: list[str], flags: int = 0) -> re.Pattern[str]:
    forms = sorted(words, key=len, reverse=True)  # "northern ireland" before "ireland"
    body = "|".join(re.escape(form).replace(r"\ ", r"\s+") for form in forms)
    return re.compile(rf"(?<![\w.])(?:{body})(?![\w])", flags)


_BY_NAME = {alias: c for c, aliases in NAMES.items() for alias in (c.lower(), *aliases)}
_NAMES = _pattern(list(_BY_NAME), re.IGNORECASE)
_CAPITALS = _pattern(list(CAPITALS))
_ADJECTIVES = _pattern(list(ADJECTIVES), re.IGNORECASE)


MIN_TYPO_LENGTH = 6  # letters; shorter names ("spain", "wales") sit one edit from many words
NOT_TYPOS = frozenset((
    "hungry", "inland", "fiance", "franco", "frances", "trance", "francs", "greene", "reece",
    "cyrus", "roland", "polka", "romani",
))  # fmt: skip
WORD = re.compile(r"[^\W\d_]+")


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one letter dropped, added, replaced, or two swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    if len(a) == len(b):
        swapped = a[i + 1 : i + 2] == b[i : i + 1] and a[i : i + 1] == b[i + 1 : i + 2]
        return a[i + 1 :] == b[i + 1 :] or (swapped and a[i + 2 :] == b[i + 2 :])
    return a[i + 1 :] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1 :]


def _deletes(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


# Each name and its one-letter deletions -> the names: a typo shares one of them with its name
# (a symmetric-delete index, so a word is checked against a few names, not all of them).
_TYPO_INDEX: dict[str, set[str]] = {}
for _alias in (a for a in _BY_NAME if a.isalpha() and len(a) >= MIN_TYPO_LENGTH):
    for _variant in _deletes(_alias):
        _TYPO_INDEX.setdefault(_variant, set()).add(_alias)


def _typo(word: str) -> str | None:
    """The one country ``word`` is a typo of, or None (none, or more than one)."""
    word = word.lower()
    if len(word) < MIN_TYPO_LENGTH or word in NOT_TYPOS or word in _BY_NAME:
        return None
    aliases = set().union(*(_TYPO_INDEX.get(variant, ()) for variant in _deletes(word)))
    found = {_BY_NAME[alias] for alias in aliases if _one_edit(word, alias)}
    return found.pop() if len(found) == 1 else None


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
    yield from _typos(text)


def _typos(text: str) -> Iterator[Span]:
    for match in WORD.finditer(text):
        guess = _typo(match.group())
        if guess is not None and match.group().lower() not in ADJECTIVES:
            yield Span(match.start(), match.end(), guess)


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
