"""A Rasa 3 project folder as an intent catalogue: NLU, responses, single-turn rules.

Read: every ``nlu:`` block under ``data/`` (entity annotations stripped; ``synonym:``,
``lookup:`` and ``regex:`` blocks ignored), responses from ``domain.yml`` (or the files of a
``domain/`` folder) and from ``responses:`` in data files, and the rules whose steps are one
``intent`` followed by actions, with no ``condition``, ``active_loop`` or slot steps: those
become the intent's answer (``utter_*`` responses are texts, other actions run on the action
server). What cannot be imported (stories, forms, other rules) is listed in the
:class:`ImportReport`, never dropped silently; an intent no rule answers escalates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from intents.catalogue import (
    MAX_EXAMPLE_CHARS,
    Catalogue,
    CatalogueError,
    Intent,
    Reply,
    Step,
    load_catalogue,
    rasa_examples,
)

NO_RULE_REASON = "no rule of the Rasa project answers this intent"
VARIANT_KEYS_SKIPPED = ("condition", "channel")
IGNORED_NLU = ("synonym", "lookup", "regex")
STEP_REASONS = {
    "intent": "more than one turn",
    "active_loop": "a form (active_loop)",
    "slot_was_set": "depends on slots",
}


@dataclass(frozen=True)
class Skipped:
    """Something of the project that is not imported, where it is, and why."""

    where: str
    what: str
    why: str


@dataclass
class ImportReport:
    """What a project import took and what it left out."""

    skipped: list[Skipped] = field(default_factory=list)

    def table(self, catalogue: Catalogue) -> list[tuple[str, int, str]]:
        """Rows of intent, examples and what answers it."""
        return [
            (intent.name, len(intent.examples), answered_by(intent))
            for intent in sorted(catalogue.intents.values(), key=lambda i: i.name)
        ]


def answered_by(intent: Intent) -> str:
    """``response utter_x``, ``action action_y``, several joined by ``+``; or ``escalates``."""
    if not intent.steps:
        return "escalates (no importable rule)"
    return " + ".join(
        f"response {step.name}" if isinstance(step, Reply) else f"action {step}"
        for step in intent.steps
    )


def load_project(folder: Path) -> tuple[Catalogue, ImportReport]:
    """The catalogue of a Rasa project folder, and what was left out."""
    report = ImportReport()
    data_files = sorted(
        p for pattern in ("*.yml", "*.yaml") for p in (folder / "data").rglob(pattern)
    )
    documents = [(path, _read(path)) for path in data_files]
    examples = _nlu(documents, folder)
    if not examples:
        raise CatalogueError(f"{folder}: no NLU examples under {folder / 'data'}")
    domain = [(path, _read(path)) for path in _domain_files(folder)]
    responses = _responses([*domain, *documents])
    rules = _rules(documents, responses, folder, report)
    for path, data in domain:
        for form in (data.get("forms") or {}) if isinstance(data, dict) else ():
            report.skipped.append(Skipped(_rel(path, folder), f"form {form}", "forms"))
    for path, data in documents:
        for story in (data.get("stories") or []) if isinstance(data, dict) else []:
            name = story.get("story", "?") if isinstance(story, dict) else "?"
            report.skipped.append(Skipped(_rel(path, folder), f"story {name}", "stories"))
    intents = {
        name: Intent(
            name=name,
            examples=tuple(texts),
            escalate=None if name in rules else NO_RULE_REASON,
            steps=rules.get(name, ()),
        )
        for name, texts in examples.items()
    }
    return Catalogue(intents=intents), report


def _read(path: Path) -> Any:
    """A YAML file, or a :class:`CatalogueError` naming it and the line."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise CatalogueError(f"{path}{line}: {error.problem or 'malformed YAML'}") from None
    except yaml.YAMLError as error:
        raise CatalogueError(f"{path}: malformed YAML ({error})") from None


def _rel(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))


def _domain_files(folder: Path) -> list[Path]:
    if (folder / "domain").is_dir():
        return sorted(p for p in (folder / "domain").rglob("*.yml"))
    return [p for p in (folder / "domain.yml", folder / "domain.yaml") if p.is_file()][:1]


def _nlu(documents: Iterable[tuple[Path, Any]], folder: Path) -> dict[str, list[str]]:
    """Examples by intent; an intent named in two files, or an example too short or long, is
    an error naming the file."""
    examples: dict[str, list[str]] = {}
    seen_in: dict[str, Path] = {}
    for path, data in documents:
        for item in (data.get("nlu") or []) if isinstance(data, dict) else []:
            if not isinstance(item, dict) or any(key in item for key in IGNORED_NLU):
                continue
            if "intent" not in item:
                continue
            name = str(item["intent"])
            if name in seen_in and seen_in[name] != path:
                raise CatalogueError(
                    f"{_rel(path, folder)}: intent {name!r} is also defined in "
                    f"{_rel(seen_in[name], folder)}"
                )
            seen_in[name] = path
            if _has_empty_example(item.get("examples")):
                raise CatalogueError(f"{_rel(path, folder)}: intent {name!r} has an empty example")
            texts = rasa_examples(item.get("examples"))
            for text in texts:
                if not 1 <= len(text) <= MAX_EXAMPLE_CHARS:
                    raise CatalogueError(
                        f"{_rel(path, folder)}: intent {name!r} has an example of {len(text)} "
                        f"characters (1 to {MAX_EXAMPLE_CHARS} allowed)"
                    )
            examples.setdefault(name, []).extend(texts)
    return examples


def _has_empty_example(block: Any) -> bool:
    """Whether an ``examples: |`` block has a ``-`` line with nothing after it."""
    lines = block.splitlines() if isinstance(block, str) else [f"- {e}" for e in block or ()]
    return any(line.strip() == "-" for line in lines)


def _responses(documents: Iterable[tuple[Path, Any]]) -> dict[str, Reply]:
    """Every ``utter_*`` response with its text variants."""
    found: dict[str, Reply] = {}
    for _, data in documents:
        block = data.get("responses") if isinstance(data, dict) else None
        for name, variants in (block or {}).items():
            said = [v for v in variants or () if isinstance(v, dict) and v.get("text")]
            # a variant for one channel or one condition only: used when no plain one exists
            plain = [v for v in said if not any(key in v for key in VARIANT_KEYS_SKIPPED)]
            usable = plain or said
            if usable:
                texts = tuple(str(v["text"]) for v in usable)
                found[str(name)] = Reply(str(name), texts, tuple(_buttons(v) for v in usable))
    return found


def _buttons(variant: dict[str, Any]) -> tuple[str, ...]:
    """The titles of a response variant's buttons."""
    buttons = variant.get("buttons") or []
    return tuple(str(b["title"]) for b in buttons if isinstance(b, dict) and b.get("title"))


def _rules(
    documents: Iterable[tuple[Path, Any]],
    responses: dict[str, Reply],
    folder: Path,
    report: ImportReport,
) -> dict[str, tuple[Step, ...]]:
    """The answer steps of each intent a single-turn rule answers."""
    answers: dict[str, tuple[Step, ...]] = {}
    for path, data in documents:
        for rule in (data.get("rules") or []) if isinstance(data, dict) else []:
            if not isinstance(rule, dict):
                continue
            where, name = _rel(path, folder), f"rule {rule.get('rule', '?')}"
            why = _not_single_turn(rule)
            if why is not None:
                report.skipped.append(Skipped(where, name, why))
                continue
            steps = rule["steps"]
            intent = str(steps[0]["intent"])
            if intent == "nlu_fallback":
                report.skipped.append(Skipped(where, name, "nlu_fallback (omnibot escalates)"))
                continue
            answers[intent] = tuple(
                _step(str(step["action"]), responses, where) for step in steps[1:]
            )
    return answers


def _not_single_turn(rule: dict[str, Any]) -> str | None:
    """Why a rule cannot be imported, or None."""
    if "condition" in rule:
        return "a conditional rule"
    steps = rule.get("steps")
    if not isinstance(steps, list) or not steps or not isinstance(steps[0], dict):
        return "no steps"
    if "intent" not in steps[0]:
        return "does not start with an intent"
    rest = steps[1:]
    if not rest:
        return "no action after the intent"
    for step in rest:
        if isinstance(step, dict) and set(step) == {"action"}:
            continue
        kind = next(iter(step), "?") if isinstance(step, dict) else "?"
        return STEP_REASONS.get(kind, f"a {kind} step")
    return None


def _step(action: str, responses: dict[str, Reply], where: str) -> Step:
    if action.startswith("utter_"):
        if action not in responses:
            raise CatalogueError(
                f"{where}: a rule names the response {action!r}, which no domain defines"
            )
        return responses[action]
    return action


def load_intents(path: Path) -> tuple[Catalogue, ImportReport | None]:
    """``INTENTS_PATH``: a catalogue file (omnibot's format or Rasa NLU), or a Rasa project
    folder with what its import left out."""
    if path.is_dir():
        return load_project(path)
    return load_catalogue(path), None


def report_lines(catalogue: Catalogue, report: ImportReport) -> list[str]:
    """The import as a table: intent, examples, answered by; then what was not imported."""
    rows = report.table(catalogue)
    width = max([len("intent"), *(len(name) for name, _, _ in rows)])
    lines = [f"{'intent':<{width}}  examples  answered by"]
    lines += [f"{name:<{width}}  {count:>8}  {by}" for name, count, by in rows]
    if report.skipped:
        lines.append("")
        lines.append("not imported:")
        lines += [f"  {s.where}: {s.what} ({s.why})" for s in report.skipped]
    return lines


def labelled_examples(path: Path) -> tuple[list[str], list[str]]:
    """Texts and intent labels of a Rasa project folder or one Rasa NLU file (``omnibot eval``
    takes either, beside CSV files)."""
    if path.is_dir():
        return load_project(path)[0].training_data()
    examples = _nlu([(path, _read(path))], path.parent)
    if not examples:
        raise CatalogueError(f"{path}: no NLU examples")
    texts = [text for name in examples for text in examples[name]]
    labels = [name for name in examples for _ in examples[name]]
    return texts, labels
