"""What an agent typed: is it an internal note?

Core-neutral (no vendor SDK, no I/O), so every desk (Slack, the local console) recognises a note
the same way. A note stays with the agents; anything else an agent sends reaches the customer,
so the check errs towards "note" for the forms agents actually type: ``note:``, ``Note -``,
``*note:*`` (Slack bold), ``_note:_`` (italic), ``> note:`` (a quote), ``` `note:` ``` (code).
"""

from __future__ import annotations

import re

# Formatting an agent's editor may put around the word: spaces, quote marks (``>``, or
# ``&gt;`` as Slack sends it), bold, italic, strike-through and code markers.
_DECORATION = r"(?:\s|&gt;|[>*_~`])*"
# A hyphen, an en dash or an em dash.
_DASH = "[-\u2013\u2014]"
# "note" (or "notes") then a colon, or a dash standing apart ("note - x", not "note-taking").
NOTE_RE = re.compile(
    rf"^{_DECORATION}notes?[*_~`]*\s*(?::|{_DASH}(?=\s|$)|\s{_DASH})",
    re.IGNORECASE,
)


def is_note(text: str) -> bool:
    """Whether an agent's ``text`` is an internal note (never sent to the customer)."""
    return NOTE_RE.match(text) is not None
