"""Problem reports and frustration: what makes a message a matter for a problem answer or a person.

A problem is told by its shape, not by a list of sentences: a status contradicted by what the
customer sees (CONTRADICTION), time gone by or contacts repeated with still nothing
(REPEAT_CONTACT), ultimatums, threats, insults and shouting (ANGER), and the thing itself failing
or harm done (FAILURE). Each cue has a weight; a message needs :data:`MIN_EVIDENCE` in all
(a grumble and a late parcel together are a problem, either alone is not), and the kind with
the most evidence is the one reported. Harm and failure told as a hypothesis ("what if it arrives
damaged?") or denied ("it isn't damaged") are questions, not reports. The cues themselves are in
:mod:`intents.problem_cues`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import Message, Role
from bot.texts import Texts
from intents.problem_cues import (
    CUES,
    HYPOTHETICAL,
    NUDGE_ATTENTION,
    NUDGE_GREETING,
    NUDGE_WORD,
    SENTENCE_END,
    Cue,
    ProblemKind,
)

__all__ = ["MIN_EVIDENCE", "Problem", "ProblemKind", "detect", "frustrated"]

MIN_EVIDENCE = 2  # one strong cue, or two weak ones ("honestly" and "still hasn't come")
# A message is read for problems more than once (split into requests, then each request read):
# the cues' expressions cost ~60 µs a text, so the recent texts' findings are kept.
DETECTED_TEXTS = 1024
# Ties go to the kind that says most about what to do: a contradiction or failure names the
# thing that went wrong; anger alone does not.
PRIORITY = (
    ProblemKind.CONTRADICTION,
    ProblemKind.FAILURE,
    ProblemKind.REPEAT_CONTACT,
    ProblemKind.ANGER,
)
SPEAKERS = frozenset({Role.CUSTOMER, Role.BOT, Role.AGENT})  # who takes turns in a conversation
REPHRASE = Texts().rephrase  # how the bot asks a customer to say it another way
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@dataclass(frozen=True)
class Problem:
    """A problem report: its ``kind`` and ``cue``, the customer's words that showed it."""

    kind: ProblemKind
    cue: str


@functools.lru_cache(maxsize=DETECTED_TEXTS)
def detect(text: str) -> Problem | None:
    """The problem ``text`` reports, by the strongest evidence; None for a plain question."""
    folded = _fold(text)
    found = [(*_evidence(text, folded, CUES[kind]), -rank) for rank, kind in enumerate(PRIORITY)]
    if sum(evidence for evidence, _, _ in found) < MIN_EVIDENCE:
        return None
    _, cue, rank = max(found, key=lambda kind: (kind[0], kind[2]))
    return Problem(PRIORITY[-rank], cue)


def frustrated(text: str, turns: Sequence[Message], *, rephrase: str = REPHRASE) -> bool:
    """Whether ``text`` shows a customer losing patience with the conversation ``turns``
    (oldest first): the bot's last two replies both asked to rephrase; or a nudge ("hello??",
    "???", "anyone there") once the customer has written before (a plain "hi" only while their
    last message is unanswered); or a nudge or anger right after a request to rephrase.
    ``rephrase`` is the bot's text asking for it (the default catalogue's)."""
    spoken = [turn for turn in turns if turn.role in SPEAKERS]  # desk notices aside
    replies = [turn for turn in spoken if turn.role is not Role.CUSTOMER]
    asked = [rephrase in reply.text for reply in replies[-2:]]
    if len(asked) == 2 and all(asked):
        return True
    nudge = _nudge(text)
    if asked and asked[-1]:
        problem = detect(text)
        if nudge is not None or (problem is not None and problem.kind is ProblemKind.ANGER):
            return True
    if nudge is None or len(replies) == len(spoken):  # not a nudge, or the customer's first
        return False
    return nudge or spoken[-1].role is Role.CUSTOMER


def _fold(text: str) -> str:
    """``text`` lower-cased with straight apostrophes, index for index (cues map back)."""
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_APOSTROPHES)


def _evidence(text: str, folded: str, cues: Sequence[Cue]) -> tuple[int, str]:
    """The summed weight of the cues found in ``folded``, and the strongest one's words."""
    total, strongest, cue_text = 0, 0, ""
    for cue in cues:
        if cue.cased and not _mixed_case(text):
            continue  # all in capitals is caps lock, not shouting: only its words count
        subject = text.translate(_APOSTROPHES) if cue.cased else folded
        for match in cue.pattern.finditer(subject):
            if cue.factual and _hypothetical(folded, match.start()):
                continue
            total += cue.weight
            if cue.weight > strongest:
                strongest, cue_text = cue.weight, text[match.start() : match.end()].strip()
            break  # one cue counts once, however often it is repeated
    return total, cue_text


def _mixed_case(text: str) -> bool:
    """Whether ``text`` has lower-case letters as well as capitals."""
    return text != text.upper() and text != text.lower()


def _hypothetical(folded: str, start: int) -> bool:
    """Whether the words before ``start`` in its sentence make it a supposition or a policy
    question ("what happens if…", "in case…")."""
    sentence_start = max((m.end() for m in SENTENCE_END.finditer(folded, 0, start)), default=0)
    return HYPOTHETICAL.search(folded, sentence_start, start) is not None


def _nudge(text: str) -> bool | None:
    """None when ``text`` is not a nudge; True for an insistent one ("hello??", "???",
    "anyone there", "hellooo"); False for a plain greeting ("hi", "hello")."""
    folded = _fold(text).strip()
    words = re.findall(r"[a-z0-9']+", folded)
    if not folded or not all(NUDGE_WORD.fullmatch(word) for word in words):
        return None
    if not words:
        return True if "?" in folded else None  # "?", "??!" nudge; "..." does not
    insistent = (
        "?" in folded
        or folded.count("!") >= 2
        or NUDGE_ATTENTION.search(folded) is not None
        or re.search(r"([a-z])\1\1", folded) is not None  # "hellooo", "hiii"
    )
    if insistent:
        return True
    return False if all(NUDGE_GREETING.fullmatch(word) for word in words) else None
