"""Order numbers: the shop's are 5 to 10 digits ("100234").

A number counts when it stands on its own or after a label the customer may glue to it:
"#100234", "order 100234", "no. 100234", "order:100234", "ORD-100234", "ord100234". It does
not count when it is part of something longer: a phone number ("+44 7700 900123", "07700900123",
digits in groups), a price or decimal ("£12345", "12345.50", "12,345"), a date ("12/03/2026"),
an e-mail or a word ("jo12345@mail.com", "x12345"), an amount ("10000 mAh", "12500 points"),
or the post/ZIP code of an address.
"""

from __future__ import annotations

import re

from intents.entities import addresses
from intents.entities.span import Span, first_value, overlaps

# A label may be glued to the number ("ord-100234", "no.100234", "order:100234", "#100234").
_LABELLED = (
    r"(?<=\#)|(?<=[a-z]:)|(?<=\bno\.)|(?<=\bnr\.)|(?<=\bord\.)|(?<=\bord-)|(?<=\bord)"
    r"|(?<=\border)"
)
# Otherwise nothing number-like may touch it: no word, sign, currency, decimal point or date
# slash, and no digit group a space before it (the end of "+44 7700 900123").
_FREE = r"(?<![\w+£$€@%#.,/:-])(?<!\d\s)"
# Nor may a unit follow it ("a 10000 mAh power bank", "12500 points", "15000 quid").
_UNITS = (
    r"(?!\s*(?:mah|rpm|points|pts|miles|km|kb|mb|gb|tb|w|watts?|pounds|quid|euros?|dollars"
    r"|gbp|eur|usd|pence|p)\b)"
)
ORDER_NUMBER = re.compile(
    rf"(?:{_FREE}|{_LABELLED})(\d{{5,10}})(?![\w@%£$€])(?![.,/:-]\d)(?!\s\d{{2}}){_UNITS}",
    re.IGNORECASE,
)
"""An order number; group 1 is its digits (also how ``action_order_status`` finds it)."""


def find(text: str) -> list[Span]:
    """Every order number in ``text``, in order; the value is the digits."""
    places = addresses.find(text)
    found = [Span(m.start(1), m.end(1), m.group(1)) for m in ORDER_NUMBER.finditer(text)]
    return [span for span in found if not overlaps(span, places)]


def first(text: str) -> str | None:
    """The first order number in ``text``, or None."""
    return first_value(find(text))
