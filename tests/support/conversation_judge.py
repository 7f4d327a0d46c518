"""The judge of scripted conversations (:mod:`tests.support.conversations`): what the
customer saw in a turn (:class:`Seen`) against the turn's acceptable outcomes, matched against
the texts of the checkout under test (:class:`~tests.support.conversations.Reference`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.support.conversations import Expect, Reference, Turn, fingerprint, normal

OUT_OF_SCOPE = "out_of_scope"
ORDER_STATUS = "order_status"
ORDER_STATUS_RE = re.compile(r"\border (\d{5,10}) is\b", re.IGNORECASE)
PERSON_WORDS = re.compile(r"\b(person|human|someone|agent|team|colleague)\b", re.IGNORECASE)
HANDED_STATES = frozenset({"waiting", "agent"})


@dataclass
class Seen:
    """What the customer saw during one turn."""

    before: str
    bot: list[str] = field(default_factory=list)  # bot and system texts, in order
    options: list[str] = field(default_factory=list)
    agent: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def after(self) -> str:
        """The conversation's state at the end of the turn."""
        return self.states[-1] if self.states else self.before

    @property
    def handed(self) -> bool:
        """Whether the turn handed the conversation from the bot to the team."""
        return self.before == "bot" and any(s in HANDED_STATES for s in self.states)

    @property
    def text(self) -> str:
        """Everything the bot wrote in the turn, as one text."""
        return "\n".join(self.bot)


@dataclass(frozen=True)
class Judged:
    """A customer turn, what was seen and whether it was right (``why`` when not)."""

    turn: Turn
    got: str
    why: str | None

    @property
    def right(self) -> bool:
        """Whether the customer would judge the reply right."""
        return self.why is None


def recognise(text: str, ref: Reference) -> list[tuple[str, str]]:
    """The catalogue answers in ``text``, in order: ``(intent, order number or "")``."""
    said = normal(text)
    found: list[tuple[int, int, str, str]] = []
    for intent, answer in ref.answers.items():
        mark = fingerprint(answer)
        found += [(m.start(), m.start() + len(mark), intent, "") for m in _all(mark, said)]
    found += [(m.start(), m.end(), ORDER_STATUS, m[1]) for m in ORDER_STATUS_RE.finditer(said)]
    found.sort(key=lambda hit: (hit[0], -hit[1]))
    kept: list[tuple[int, int, str, str]] = []
    for hit in found:  # an answer quoted inside a longer one is not a second answer
        if not kept or hit[0] >= kept[-1][1]:
            kept.append(hit)
    return [(intent, detail) for _, _, intent, detail in kept]


def _all(mark: str, said: str) -> list[re.Match[str]]:
    return list(re.finditer(re.escape(mark), said)) if mark else []


def judge(turn: Turn, seen: Seen, ref: Reference) -> Judged:
    """Whether what the customer saw is one of the turn's acceptable outcomes."""
    whys = [_why(expect, seen, ref) for expect in turn.expect]
    why = None if None in whys else " / ".join(w for w in whys if w)
    return Judged(turn, describe(seen), why)


def describe(seen: Seen) -> str:
    """What the customer saw, in one line, for reports."""
    parts = [
        *seen.bot,
        *(f"[agent] {t}" for t in seen.agent),
        *(f"[error {e}]" for e in seen.errors),
    ]
    said = " | ".join(parts) or "(nothing)"
    options = f" options={seen.options}" if seen.options else ""
    return f"{said}{options} state {seen.before}->{seen.after}"


def _why(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    """None when ``seen`` meets ``expect``, else what is wrong."""
    if expect.kind == "scope":
        if OUT_OF_SCOPE not in ref.answers:
            return "the catalogue has no out-of-scope answer"
        return _answered(Expect("answer", (OUT_OF_SCOPE,)), seen, ref)
    checks = {
        "answer": _answered,
        "person": _person,
        "ask": _ask,
        "unclear": _unclear,
        "queued": _queued,
        "silent": _silent,
        "language": _language,
        "no_words": _no_words,
        "refused": _refused,
        "reply": _reply,
    }
    return checks[expect.kind](expect, seen, ref)


def _answered(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    found = recognise(seen.text, ref)
    intents = [intent for intent, _ in found]
    if intents != list(expect.intents):
        return f"answers {intents or 'none'}, expected {list(expect.intents)}"
    numbers = [number for intent, number in found if intent == ORDER_STATUS]
    if expect.order and expect.order not in numbers:
        return f"order status of {numbers}, expected {expect.order}"
    if seen.handed and not ref.escalating & set(expect.intents):
        return "handed to a person"
    if ref.has("rephrase", seen.text):
        return "asked to rephrase"
    return None


def _person(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    if not seen.handed:
        return f"not handed to a person (state {seen.after})"
    plain = [i for i, _ in recognise(seen.text, ref) if i not in ref.escalating]
    if plain != list(expect.intents):
        return f"answers {plain or 'none'} with the hand-off, expected {list(expect.intents)}"
    return None


def _ask(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    found = [i for i, _ in recognise(seen.text, ref)]
    if seen.handed or found or "?" not in seen.text:
        return "no question back"
    if any(ref.has(name, seen.text) for name in ("rephrase", "other_language", "no_words")):
        return "a generic question, not one about the request"
    return None


def _unclear(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    if seen.handed or recognise(seen.text, ref) or not ref.has("rephrase", seen.text):
        return "no request to say it another way"
    if not offers_person(seen):
        return "asked to rephrase without offering a person"
    return None


def offers_person(seen: Seen) -> bool:
    """Whether the reply offers a person (in its text or as an option)."""
    return any(PERSON_WORDS.search(text) for text in (*seen.bot, *seen.options))


def _queued(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    said = normal(seen.text)
    notices = [fingerprint(ref.texts.get(name, "")) for name in ("queued", "queued_away")]
    if not any(mark and mark in said for mark in notices):
        return "no 'your message is with the team' notice"
    return None if seen.after in HANDED_STATES else f"state {seen.after}"


def _silent(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    if seen.bot or seen.agent or seen.states or seen.errors:
        return "not silent"
    return None


def _language(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    return None if ref.has("other_language", seen.text) else "not told the language"


def _no_words(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    return None if ref.has("no_words", seen.text) else "not asked what it needs"


def _refused(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    return None if expect.code in seen.errors else f"no {expect.code} error"


def _reply(expect: Expect, seen: Seen, ref: Reference) -> str | None:
    if not (seen.bot or seen.handed):
        return "silence"
    if ref.has("other_language", seen.text) or ref.has("no_words", seen.text):
        return "treated as unreadable"
    if ref.has("rephrase", seen.text) and not offers_person(seen):
        return "asked to rephrase without offering a person"
    return None
