"""Bad catalogues train to the end over the frozen encoder, and their warnings name each problem.

Each catalogue goes through ``omnibot.engine.build_intents`` as ``INTENTS_PATH`` (a one-example
intent only loads from a Rasa project folder, and an empty example only reaches training
through ``build_classifier``: the catalogue files refuse or drop them).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from intents import catalogue_checks
from intents.build import build_classifier, make_encoder
from intents.calibration import FALLBACK_THRESHOLD
from intents.catalogue_checks import catalogue_warnings
from intents.classifier import BatchedClassifier
from intents.model import IntentModel
from intents.rasa_project import load_intents
from omnibot.engine import build_intents
from omnibot.settings import Settings

Catalogue = dict[str, list[str]]

BASE: Catalogue = {
    "order_status": [
        "where is my order",
        "track my parcel",
        "has my package shipped",
        "when will my order arrive",
        "order tracking please",
    ],
    "refund": [
        "i want my money back",
        "how do i get a refund",
        "refund my purchase",
        "can i be reimbursed",
        "give me a refund",
    ],
    "cancel_order": [
        "cancel my order",
        "stop my purchase",
        "i no longer want this order",
        "undo my order",
        "please cancel it",
    ],
    "opening_hours": [
        "when are you open",
        "opening hours",
        "what time do you close",
        "are you open on sunday",
        "store hours",
    ],
}
SPANISH = ["hola quiero cancelar mi pedido", "dónde está mi paquete", "mi tarjeta no funciona"]
GERMAN = ["wo ist meine bestellung", "ich möchte stornieren", "meine karte funktioniert nicht"]
HUGE = ("please refund me " * 295)[:5000]
# 500 intents of 2 examples train in 23 s on an idle machine and 75 s on a busy one: the test
# takes just over the many-intents limit (13 s idle)
MANY_INTENTS = catalogue_checks.MANY_INTENTS + 1


@pytest.fixture
def engine_dir(intents_data_dir: Path, tmp_path: Path) -> Path:
    """A fresh data directory holding the session's exported encoder (never a second export)."""
    make_encoder(Settings().encoder, intents_data_dir / "cache")
    encoders = tmp_path / "data" / "cache" / "encoders"
    encoders.mkdir(parents=True)
    for graph in (intents_data_dir / "cache" / "encoders").glob("*.onnx"):
        (encoders / graph.name).symlink_to(graph)
    return tmp_path / "data"


def omnibot_file(path: Path, catalogue: Catalogue) -> Path:
    """``catalogue`` written as an omnibot catalogue file."""
    intents = {name: {"answer": f"About {name}.", "examples": ex} for name, ex in catalogue.items()}
    path.write_text(yaml.safe_dump({"intents": intents}, allow_unicode=True), encoding="utf-8")
    return path


def rasa_folder(path: Path, catalogue: Catalogue) -> Path:
    """``catalogue`` written as a Rasa project folder (its intents escalate: no rules)."""
    nlu = [
        {"intent": n, "examples": "".join(f"- {e}\n" for e in ex)} for n, ex in catalogue.items()
    ]
    (path / "data").mkdir(parents=True)
    (path / "data" / "nlu.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}))
    return path


def trained(intents_path: Path, data_dir: Path) -> tuple[IntentModel, list[str], BatchedClassifier]:
    """Train on ``intents_path``: the model, the catalogue's warnings and the classifier."""
    intents = build_intents(Settings(data_dir=data_dir, intents_path=intents_path, fine_tune="off"))
    assert isinstance(intents.classifier, BatchedClassifier)
    texts, labels = load_intents(intents_path)[0].training_data()
    return intents.classifier.model, catalogue_warnings(texts, labels), intents.classifier


def test_an_intent_with_one_example_trains_calibrated_on_the_others_and_says_so(
    engine_dir: Path, tmp_path: Path
) -> None:
    folder = rasa_folder(tmp_path / "project", {**BASE, "talk_to_human": ["get me a person"]})
    model, warnings, classifier = trained(folder, engine_dir)
    assert "talk_to_human" in model.labels
    assert model.calibration is not None  # what the warning says: chosen on the others
    assert model.rule.threshold != FALLBACK_THRESHOLD
    [line] = warnings
    assert line.startswith("intent `talk_to_human` has a single example")
    assert "chosen on the other intents' examples alone" in line
    assert classifier.predict(["where is my order"])[0].intent == "order_status"


def test_two_intents_with_the_same_examples_train_and_their_messages_escalate(
    engine_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = omnibot_file(tmp_path / "twins.yml", {**BASE, "refund_copy": list(BASE["refund"])})
    with caplog.at_level(logging.WARNING, logger="omnibot"):
        model, warnings, classifier = trained(path, engine_dir)
    assert model.calibration is not None
    [line] = warnings
    assert f"{path}: {line}" in caplog.messages  # the training says it
    assert line.startswith('intents `refund` and `refund_copy` share 5 examples (e.g. "give me')
    # what the warning says: their messages split the confidence and are escalated
    predictions = classifier.predict(["give me a refund", "i want my money back"])
    for prediction in predictions:
        assert {name for name, _ in prediction.ranking[:2]} == {"refund", "refund_copy"}
        assert not prediction.confident


def test_very_many_intents_train_and_are_warned_about(engine_dir: Path, tmp_path: Path) -> None:
    catalogue = {
        f"topic_{i:03}": [f"question {i} about my order", f"help with item number {i}"]
        for i in range(MANY_INTENTS)
    }
    path = omnibot_file(tmp_path / "many.yml", catalogue)
    model, warnings, classifier = trained(path, engine_dir)
    assert len(model.labels) == MANY_INTENTS
    few, many = warnings
    assert few.startswith("intents `topic_000` (2 examples), `topic_001` (2 examples)")
    assert f"and {MANY_INTENTS - 10} more have fewer than 5 examples" in few
    assert many.startswith(f"{MANY_INTENTS} intents ({2 * MANY_INTENTS:,} examples) is more than")
    [prediction] = classifier.predict(["help with item number 123"])
    assert prediction.intent in catalogue
    assert len(prediction.ranking) == 5


def test_spanish_and_german_intents_train_and_are_named(engine_dir: Path, tmp_path: Path) -> None:
    catalogue = {**BASE, "pedido": [*SPANISH, "necesito ayuda con mi cuenta"], "konto": GERMAN}
    path = omnibot_file(tmp_path / "languages.yml", catalogue)
    model, warnings, classifier = trained(path, engine_dir)
    assert {"pedido", "konto"} <= set(model.labels)
    foreign = [line for line in warnings if "looks non-English" in line]
    assert [line.split("`")[1] for line in foreign] == ["konto", "pedido"]
    assert foreign[1].startswith('intent `pedido` looks non-English (3 of 4 examples, e.g. "dónde')
    assert classifier.predict(["dónde está mi pedido"])[0].intent in catalogue


def test_a_huge_example_trains_and_is_named_with_its_length(
    engine_dir: Path, tmp_path: Path
) -> None:
    path = omnibot_file(tmp_path / "huge.yml", {**BASE, "refund": [*BASE["refund"], HUGE]})
    model, warnings, classifier = trained(path, engine_dir)
    assert model.calibration is not None
    [line] = warnings
    assert line.startswith("intent `refund` (5,000 characters) has an example longer than")
    assert classifier.predict(["how do i get my refund"])[0].intent == "refund"


def test_an_empty_example_is_dropped_by_the_catalogue_file(
    engine_dir: Path, tmp_path: Path
) -> None:
    path = omnibot_file(tmp_path / "empty.yml", {**BASE, "refund": [*BASE["refund"], "", "  "]})
    model, warnings, _ = trained(path, engine_dir)
    assert warnings == []  # nothing left to warn about
    assert model.calibration is not None


def test_every_problem_at_once_trains_below_the_loader_with_a_warning_each(
    engine_dir: Path,
) -> None:
    catalogue = {
        **BASE,
        "refund": [*BASE["refund"], "", HUGE],
        "refund_copy": BASE["refund"][:3],
        "pedido": SPANISH,
        "talk_to_human": ["get me a person"],
    }
    texts = [text for examples in catalogue.values() for text in examples]
    labels = [name for name, examples in catalogue.items() for _ in examples]
    classifier = build_classifier(texts, labels, engine_dir / "cache")
    assert set(classifier.model.labels) == set(catalogue)
    warnings = catalogue_warnings(texts, labels)
    assert [line.split(" ")[1:3] for line in warnings] == [
        ["`talk_to_human`", "has"],  # a single example
        ["`refund`", "and"],  # shares examples with `refund_copy`
        ["`pedido`", "looks"],  # non-English
        ["`refund`", "(1"],  # an empty example
        ["`refund`", "(5,000"],  # a huge one
    ]
    assert classifier.predict([""])[0].intent in catalogue
