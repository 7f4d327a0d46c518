"""E-mail addresses, matched the practical way (what people type, not all of RFC 5322)."""

from __future__ import annotations

import re

from intents.entities.span import Span, first_value

EMAIL = re.compile(
    r"(?<![\w.+-])[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_%+-])?"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])",
    re.IGNORECASE,
)


def find(text: str) -> list[Span]:
    """Every e-mail address in ``text``, in order; the value has its domain lower-cased
    (domains are case-blind, the part before the @ is kept as written)."""
    spans = []
    for match in EMAIL.finditer(text):
        local, _, domain = match.group().rpartition("@")
        spans.append(Span(match.start(), match.end(), f"{local}@{domain.lower()}"))
    return spans


def first(text: str) -> str | None:
    """The first e-mail address in ``text``, or None."""
    return first_value(find(text))
