"""A plain request for a person ("let me talk to someone real", "get me a manager").

The classifier learns hand-over requests from the catalogue's examples, but a request wrapped in
a complaint ("ur bot is rubbish let me talk to someone real") can leave it unsure, and then the
customer who asked for a person is asked to say it another way: the worst answer there is. The
words of such a request are few and plain, so they are matched here and the reader hands the
message over whatever the classifier's confidence.

Not a request: a question about the bot ("are you a real person?"), a question about whether a
person is needed ("do I need to speak to someone to return it?") or a refusal ("I don't want to
talk to anyone").
"""

from __future__ import annotations

import re

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_PERSON = (
    r"(?:a |an |some |the |your |to |with |through to |thru to )*"
    r"(?:real |actual |live |proper |human )?"
    r"(?:person|human|humans|agent|someone|somebody|operator|representative|rep|manager|"
    r"staff|advisor|adviser|customer service|supervisor)\b"
)
REQUEST = re.compile(
    r"\b(?:(?:talk|speak|chat)(?:ing)? (?:to|with) "
    + _PERSON
    + r"|(?:get|give|put|connect|transfer|pass) me "
    + _PERSON
    + r"|(?:human|person|agent|someone real)(?: pl[sz]| please)+\b)"
)
# what makes the words something else than a request
NOT_A_REQUEST = re.compile(
    r"\b(?:do|would|will) (?:i|we) (?:need|have) to\b"
    r"|\bwithout (?:talking|speaking|chatting)\b"
    r"|\b(?:don't|do not|dont|never) (?:want|need) to (?:talk|speak|chat)\b"
    r"|\bno need to (?:talk|speak)\b"
)


def asks_for_person(text: str) -> bool:
    """Whether ``text`` asks to be put through to a person."""
    folded = " ".join(text.lower().translate(_APOSTROPHES).split())
    return REQUEST.search(folded) is not None and NOT_A_REQUEST.search(folded) is None
