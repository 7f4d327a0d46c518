"""Entities in a customer's message: order numbers, e-mail addresses, countries, products and
postal addresses, one small extractor module per kind.

Where two kinds claim the same words, the more specific wins, in this order: address, e-mail,
order number, country, product ("Ireland Road" is an address, "anna@france.fr" an e-mail).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from intents.entities import addresses, countries, emails, order_numbers, products
from intents.entities.span import Span, overlaps

# Slot name -> its finder, the more specific kinds first.
FINDERS: Mapping[str, Callable[[str], list[Span]]] = {
    "address": addresses.find,
    "email": emails.find,
    "order_number": order_numbers.find,
    "country": countries.find,
    "product": products.find,
}
# Words that say nothing beyond the entities they come with ("it's 100234 thanks").
FILLER = frozenset((
    "my", "it's", "its", "it", "is", "was", "the", "a", "order", "ord", "number", "no", "nr",
    "num", "ref", "reference", "here", "thanks", "thank", "you", "thx", "ty", "ta", "cheers",
    "pls", "please", "plz", "ok", "okay", "sure", "yes", "yeah", "yep", "sorry", "oh", "oops",
    "hi", "hey", "and", "email", "e-mail", "mail", "address", "postcode", "post", "code", "zip",
    "eircode", "new", "that's", "this", "should", "be",
))  # fmt: skip
WORD = re.compile(r"[\w'\u2019-]+")


def spans(text: str) -> dict[str, list[Span]]:
    """The entities of ``text`` by slot name, each place in the text claimed by one kind."""
    claimed: list[Span] = []
    found: dict[str, list[Span]] = {}
    for kind, finder in FINDERS.items():
        mine = [span for span in finder(text) if not overlaps(span, claimed)]
        if mine:
            found[kind] = mine
            claimed.extend(mine)
    return found


def extract(text: str) -> dict[str, str]:
    """Every kind of entity found in ``text`` (slot name to its first value)."""
    return {kind: min(found).value for kind, found in spans(text).items()}


def only_entities(text: str) -> bool:
    """Whether ``text`` is just entities (and filler words): "100234", "it's #100234 thanks",
    "12 High St, Leeds LS1 4AB"; not "where is 100234" nor "what about 100234?"."""
    found = [span for kind_spans in spans(text).values() for span in kind_spans]
    if not found:
        return False
    rest = list(text)
    for span in found:
        rest[span.start : span.end] = " " * (span.end - span.start)
    words = WORD.findall("".join(rest).lower().replace("\u2019", "'"))
    return all(word.strip("'-") in FILLER or not word.strip("'-") for word in words)
