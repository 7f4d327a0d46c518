"""The intent catalogue: intents with example utterances, answers and escalation reasons.

Two formats load: omnibot's own (``intents:`` mapping, see ``intents/retail.yml``) and Rasa NLU
training data (``nlu:`` list of ``- intent:`` / ``examples: |``), optionally with Rasa-style
``responses:`` (``utter_<intent>``) giving the answers.

An omnibot intent may also say how it reads in a conversation (Rasa-format intents keep the
defaults):

- ``problem: true`` — it answers a problem report (a damaged item, a double charge, a lost
  parcel): a message reporting a problem goes to the best-ranked problem intent.
- ``takes: <kind>`` — an entity kind it handles when the customer gives just that entity after a
  related exchange (``order_status`` takes ``order_number``).
- ``about: [<kind>, ...]`` — the entity kinds an exchange about this intent concerns: a bare
  entity after it goes to the intent that ``takes`` that kind.
- ``options: [<title>, ...]`` — buttons shown with its answer (quick replies).
- ``repair: true`` — its answer asks the customer to put it another way ("that's not what I
  asked"): the bot's previous answer missed, so the journal records it as unsure, not answered.

Entity kinds are those of ``ENTITY_KINDS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MIN_EXAMPLES = 1  # fewer than a handful trains with a warning (intents.catalogue_checks)
MIN_INTENTS = 2
MAX_EXAMPLE_CHARS = 2000  # what a customer may write in one web chat message
RASA_NO_ANSWER = "no automated answer for this intent"
ENTITY_KINDS = ("order_number", "email", "country", "product", "address")
MAX_OPTION_CHARS = 40  # a button title, as the widget and SMS show it
_RASA_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


class CatalogueError(ValueError):
    """The catalogue file is not valid."""


@dataclass(frozen=True)
class Reply:
    """A response (Rasa's ``utter_*``): one message, one of its variants chosen per answer;
    ``options`` holds each variant's button titles (empty when it has none)."""

    name: str
    variants: tuple[str, ...]
    options: tuple[tuple[str, ...], ...] = ()

    def options_of(self, variant: str) -> tuple[str, ...]:
        """The button titles of ``variant``."""
        index = self.variants.index(variant)
        return self.options[index] if index < len(self.options) else ()


Step = Reply | str
"""One step of an answer: a response, or the name of a custom action to run."""


@dataclass(frozen=True)
class Intent:
    """One intent: what customers write, and what the bot does about it: an ``answer`` text,
    an ``action``, or ``steps`` (a Rasa rule's responses and actions, in order)."""

    name: str
    examples: tuple[str, ...]
    answer: str | None = None
    escalate: str | None = None
    action: str | None = None
    steps: tuple[Step, ...] = ()
    problem: bool = False
    takes: str | None = None
    about: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    repair: bool = False


@dataclass(frozen=True)
class Catalogue:
    """Every intent the bot knows, by name."""

    intents: dict[str, Intent]

    def training_data(self) -> tuple[list[str], list[str]]:
        """Texts and their intent labels, for fitting a classifier."""
        texts = [ex for intent in self.intents.values() for ex in intent.examples]
        labels = [intent.name for intent in self.intents.values() for _ in intent.examples]
        return texts, labels


def _entity_kind(name: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or value not in ENTITY_KINDS:
        kinds = ", ".join(ENTITY_KINDS)
        raise CatalogueError(f"intent {name!r}: {field} must be one of {kinds}, not {value!r}")
    return value


def _strings(name: str, field: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CatalogueError(f"intent {name!r}: {field} must be a list")
    return value


def _conversation_fields(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The fields saying how the intent reads in a conversation, validated."""
    problem, repair = spec.get("problem", False), spec.get("repair", False)
    for field, value in (("problem", problem), ("repair", repair)):
        if not isinstance(value, bool):
            raise CatalogueError(f"intent {name!r}: {field} must be true or false")
    takes = spec.get("takes")
    about = [
        _entity_kind(name, "about", kind) for kind in _strings(name, "about", spec.get("about"))
    ]
    options = _strings(name, "options", spec.get("options"))
    for option in options:
        if not isinstance(option, str) or not option.strip() or len(option) > MAX_OPTION_CHARS:
            raise CatalogueError(
                f"intent {name!r}: options must be texts of 1-{MAX_OPTION_CHARS} characters"
            )
    return {
        "problem": problem,
        "repair": repair,
        "takes": None if takes is None else _entity_kind(name, "takes", takes),
        "about": tuple(about),
        "options": tuple(option.strip() for option in options),
    }


def _intent(name: str, spec: Any) -> Intent:
    if not isinstance(spec, dict):
        raise CatalogueError(f"intent {name!r}: expected a mapping")
    examples = tuple(str(e).strip() for e in spec.get("examples") or () if str(e).strip())
    if len(examples) < MIN_EXAMPLES:
        raise CatalogueError(f"intent {name!r}: needs at least one example")
    answer, escalate, action = spec.get("answer"), spec.get("escalate"), spec.get("action")
    if answer is None and escalate is None and action is None:
        raise CatalogueError(f"intent {name!r}: needs an answer, an action or an escalate reason")
    return Intent(
        name=name,
        examples=examples,
        answer=None if answer is None else str(answer),
        escalate=None if escalate is None else str(escalate),
        action=None if action is None else str(action),
        **_conversation_fields(name, spec),
    )


def rasa_examples(block: Any) -> list[str]:
    """The examples of a Rasa ``examples: |`` block, entity annotations stripped."""
    lines = block.splitlines() if isinstance(block, str) else list(block or ())
    examples = []
    for line in lines:
        text = str(line).strip()
        text = text[1:].strip() if text.startswith("-") else text
        text = _RASA_ANNOTATION.sub(r"\1", text)  # "[Berlin](city)" -> "Berlin"
        if text:
            examples.append(text)
    return examples


def _rasa_answer(responses: Any, intent: str) -> str | None:
    variants = responses.get(f"utter_{intent}") if isinstance(responses, dict) else None
    if isinstance(variants, list) and variants and isinstance(variants[0], dict):
        text = variants[0].get("text")
        return None if text is None else str(text)
    return None


def _rasa_intents(data: dict[str, Any], path: str | Path) -> dict[str, Intent]:
    """Intents of Rasa NLU data; an intent without an ``utter_`` response escalates."""
    examples: dict[str, list[str]] = {}
    for item in data["nlu"] or ():
        if isinstance(item, dict) and "intent" in item:
            examples.setdefault(str(item["intent"]), []).extend(rasa_examples(item.get("examples")))
    responses = data.get("responses")
    specs = {}
    for name, texts in examples.items():
        answer = _rasa_answer(responses, name)
        specs[name] = {
            "examples": texts,
            "answer": answer,
            "escalate": None if answer else RASA_NO_ANSWER,
        }
    return {name: _intent(name, spec) for name, spec in specs.items()}


def load_catalogue(path: str | Path) -> Catalogue:
    """Read a catalogue YAML file, in omnibot's format or as Rasa NLU training data."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("nlu"), list):
        intents = _rasa_intents(data, path)
    elif isinstance(data, dict) and isinstance(data.get("intents"), dict):
        intents = {str(name): _intent(str(name), spec) for name, spec in data["intents"].items()}
    else:
        raise CatalogueError(f"{path}: expected a top-level 'intents' mapping or Rasa 'nlu' list")
    if len(intents) < MIN_INTENTS:
        raise CatalogueError(f"{path}: needs at least {MIN_INTENTS} intents")
    return Catalogue(intents=intents)
