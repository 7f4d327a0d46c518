"""Scripted customer conversations, shared by the conversation suite
(``tests/scenarios/test_conversations.py``) and its bench (``bench/conversations.py``).

A script (``tests/scenarios/conversations/<pattern>.yml``) is a list of conversations, each a
``name`` and ``turns``: a customer turn ``{say: "...", expect: ...}`` or a desk step
``{agent: claim | reply | back_to_bot | resolve, text: "..."}``. ``expect`` is one
expectation or a list of acceptable ones, each a kind (``ask``, ``person``, ``scope``,
``unclear``, ``queued``, ``silent``, ``language``, ``no_words``, ``reply``) or a mapping
(``{answer: [intent, ...], order: "100598"}``, ``{person: [intent answered first, ...]}``,
``{refused: empty_text}``). A turn is judged only from what the customer sees: the reply's
texts and options and the conversation's state frames, matched against the texts of the
checkout under test (:class:`Reference`), by :mod:`tests.support.conversation_judge`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SCRIPTS = Path(__file__).resolve().parents[1] / "scenarios" / "conversations"
KINDS = frozenset(
    {"answer", "person", "ask", "scope", "unclear", "queued", "silent", "language"}
    | {"no_words", "refused", "reply"}
)
AGENT_ACTIONS = frozenset({"claim", "reply", "back_to_bot", "resolve"})
FINGERPRINT_CHARS = 60  # an answer is recognised by its opening words (templates fill the rest)
REFERENCE_TIMEOUT_S = 120.0

# Run inside the checkout under test (cwd and PYTHONPATH): its texts, its order action's texts
# and its catalogue's answers, whatever this checkout's code says.
REFERENCE_SNIPPET = """
import dataclasses, json, pathlib, yaml
from bot.texts import Texts
texts = Texts()
out = {"texts": {f.name: getattr(texts, f.name) for f in dataclasses.fields(texts)
                 if isinstance(getattr(texts, f.name), str)}}
from intents.actions import order_status as action
out["order"] = {k: getattr(action, k) for k in ("ASK_TEXT", "UNKNOWN_TEXT") if hasattr(action, k)}
catalogue = yaml.safe_load(pathlib.Path("intents/retail.yml").read_text(encoding="utf-8"))
out["intents"] = {name: {"answer": spec.get("answer"), "escalate": spec.get("escalate")}
                  for name, spec in catalogue["intents"].items()}
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Expect:
    """One acceptable outcome of a turn (see the module's docstring for the kinds)."""

    kind: str
    intents: tuple[str, ...] = ()
    order: str | None = None
    code: str | None = None

    def __str__(self) -> str:
        detail = ", ".join(self.intents) + (f" #{self.order}" if self.order else "")
        return f"{self.kind}[{detail}]" if detail else self.kind


@dataclass(frozen=True)
class Turn:
    """A customer's message and the outcomes that would be right (any one of them)."""

    say: str
    expect: tuple[Expect, ...]

    @property
    def quiet(self) -> bool:
        """Whether silence is an acceptable answer (the runner then waits a short window)."""
        return any(e.kind == "silent" for e in self.expect)


@dataclass(frozen=True)
class AgentStep:
    """What an agent does on the desk between the customer's turns."""

    action: str
    text: str | None = None


Step = Turn | AgentStep


@dataclass(frozen=True)
class Conversation:
    """One scripted conversation of a pattern."""

    pattern: str
    name: str
    steps: tuple[Step, ...]
    gap: str | None = None  # why the bot does not yet get it all right (``known_gap:``)

    @property
    def id(self) -> str:
        """``pattern/name``: the test id and the bench's label."""
        return f"{self.pattern}/{self.name}"

    @property
    def turns(self) -> list[Turn]:
        """The customer's turns (what is judged)."""
        return [step for step in self.steps if isinstance(step, Turn)]


def load_conversations(scripts: Path = SCRIPTS) -> list[Conversation]:
    """Every conversation of every ``*.yml`` in ``scripts`` (pattern = file name)."""
    found = []
    for path in sorted(scripts.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            steps = tuple(_step(raw) for raw in item["turns"])
            gap = item.get("known_gap")
            found.append(
                Conversation(path.stem, str(item["name"]), steps, str(gap) if gap else None)
            )
    return found


def _step(raw: Mapping[str, Any]) -> Step:
    if "agent" in raw:
        if raw["agent"] not in AGENT_ACTIONS:
            raise ValueError(f"unknown agent action {raw['agent']!r}")
        return AgentStep(str(raw["agent"]), raw.get("text"))
    say = str(raw["say"])
    if "chars" in raw:  # a long paste: the text repeated up to that many characters
        say = (say + " ") * (int(raw["chars"]) // max(1, len(say)) + 1)
        say = say[: int(raw["chars"])]
    listed = raw["expect"] if isinstance(raw["expect"], list) else [raw["expect"]]
    return Turn(say, tuple(_expect(one) for one in listed))


def _expect(raw: object) -> Expect:
    if isinstance(raw, str):
        kind = raw
        if kind not in KINDS:
            raise ValueError(f"unknown expectation {kind!r}")
        return Expect(kind)
    if not isinstance(raw, Mapping):
        raise ValueError(f"unreadable expectation {raw!r}")
    if "refused" in raw:
        return Expect("refused", code=str(raw["refused"]))
    kind = "answer" if "answer" in raw else "person"
    intents = tuple(str(i) for i in raw.get(kind) or ())
    order = str(raw["order"]) if "order" in raw else None
    return Expect(kind, intents, order)


@dataclass(frozen=True)
class Reference:
    """The checkout's texts the judge matches replies against."""

    answers: Mapping[str, str]  # intent -> its catalogue answer
    escalating: frozenset[str]  # intents that hand the conversation to a person
    texts: Mapping[str, str]  # bot.texts.Texts' string fields
    order: Mapping[str, str]  # the order action's ASK_TEXT and UNKNOWN_TEXT

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reference:
        """From :data:`REFERENCE_SNIPPET`'s output."""
        intents: Mapping[str, Mapping[str, str | None]] = data["intents"]
        return cls(
            answers={name: str(i["answer"]) for name, i in intents.items() if i.get("answer")},
            escalating=frozenset(name for name, i in intents.items() if i.get("escalate")),
            texts=dict(data["texts"]),
            order=dict(data["order"]),
        )

    def has(self, name: str, text: str) -> bool:
        """Whether ``text`` contains the opening of the ``Texts`` field ``name``."""
        return name in self.texts and fingerprint(self.texts[name]) in normal(text)


def load_reference(checkout: Path) -> Reference:
    """The texts of the checkout at ``checkout`` (read by its own code, in a subprocess)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(  # noqa: S603 - our interpreter and our own snippet
        [sys.executable, "-c", REFERENCE_SNIPPET],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=REFERENCE_TIMEOUT_S,
        check=True,
    )
    return Reference.from_json(json.loads(done.stdout))


def normal(text: str) -> str:
    """Lower case, whitespace collapsed (a joined reply may re-wrap the answers)."""
    return " ".join(text.split()).lower()


def fingerprint(answer: str) -> str:
    """The opening of an answer up to its first placeholder, at most ``FINGERPRINT_CHARS``."""
    return normal(answer.split("{", 1)[0])[:FINGERPRINT_CHARS].strip()
