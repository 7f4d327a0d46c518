"""Personal data masked before text leaves for agents' tools: :func:`redact` and :func:`find`.

See :mod:`bot.redaction.text` for the kinds and their masks, :mod:`bot.redaction.phones` for
how phone numbers are told from order numbers.
"""

from bot.redaction.phones import DEFAULT_REGIONS
from bot.redaction.text import (
    CARD,
    CUSTOM,
    EMAIL,
    IBAN,
    KINDS,
    PHONE,
    RedactPatternError,
    Span,
    compile_patterns,
    find,
    mask,
    redact,
)

__all__ = [
    "CARD",
    "CUSTOM",
    "DEFAULT_REGIONS",
    "EMAIL",
    "IBAN",
    "KINDS",
    "PHONE",
    "RedactPatternError",
    "Span",
    "compile_patterns",
    "find",
    "mask",
    "redact",
]
