"""The catalogue loader and the bundled retail catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.catalogue import CatalogueError, load_catalogue
from omnibot.settings import DEFAULT_INTENTS_PATH

REQUIRED = {
    "order_status",
    "return_item",
    "refund_status",
    "shipping_times",
    "shipping_costs",
    "store_hours",
    "store_locations",
    "click_and_collect",
    "stock_availability",
    "payment_methods",
    "cancel_order",
    "change_delivery_address",
    "account_password",
    "complaint",
    "greeting",
    "thanks",
    "goodbye",
    "talk_to_human",
}


def test_the_retail_catalogue_covers_what_shoppers_ask() -> None:
    catalogue = load_catalogue(DEFAULT_INTENTS_PATH)
    assert set(catalogue.intents) >= REQUIRED
    for intent in catalogue.intents.values():
        assert len(set(intent.examples)) >= 15, intent.name
        assert intent.answer or intent.escalate or intent.action, intent.name
    assert catalogue.intents["talk_to_human"].escalate
    assert catalogue.intents["order_status"].action == "action_order_status"
    assert catalogue.intents["not_what_i_asked"].repair  # the report counts it as unsure
    texts, labels = catalogue.training_data()
    assert len(texts) == len(labels) == sum(len(i.examples) for i in catalogue.intents.values())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("just a string", "top-level .intents. mapping or Rasa"),
        (
            "intents:\n  a:\n    answer: x\n    examples: []\n  b:\n    answer: y\n"
            "    examples: [two, three]\n",
            "at least one example",
        ),
        (
            "intents:\n  a:\n    examples: [one, two]\n  b:\n    answer: y\n"
            "    examples: [two, three]\n",
            "an answer, an action or an escalate",
        ),
        ("intents:\n  a: [1, 2]\n", "expected a mapping"),
    ],
)
def test_invalid_catalogues_are_refused_with_a_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(content)
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(path)


RASA_NLU = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hey
    - hello there
    - good morning
- intent: check_balance
  examples: |
    - what's my balance?
    - how much money is on my [savings](account_type) account
    - balance of [checking]{"entity": "account_type"} please
- regex: account_number
  examples: |
    - \\\\d{10}
- intent: greet
  examples: |
    - hi
responses:
  utter_greet:
  - text: "Hello! How can I help?"
"""


def test_rasa_nlu_yaml_loads_with_annotations_stripped(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(RASA_NLU)
    catalogue = load_catalogue(path)
    assert set(catalogue.intents) == {"greet", "check_balance"}
    greet, balance = catalogue.intents["greet"], catalogue.intents["check_balance"]
    assert greet.examples == ("hey", "hello there", "good morning", "hi")
    assert greet.answer == "Hello! How can I help?"
    assert greet.escalate is None
    assert balance.examples == (
        "what's my balance?",
        "how much money is on my savings account",
        "balance of checking please",
    )
    assert balance.answer is None
    assert balance.escalate  # no utter_ response: a person answers


CONVERSATION_FIELDS = """
intents:
  where_is_it:
    action: action_order_status
    takes: order_number
    about: [order_number]
    examples: [where is my parcel, has my order shipped]
  broken:
    problem: true
    escalate: damaged item
    answer: Sorry about that.
    about: [order_number]
    options: [Talk to a person]
    examples: [it arrived smashed, the zip broke on day one]
"""


def test_conversation_fields_are_read_from_omnibot_yaml(tmp_path: Path) -> None:
    path = tmp_path / "fields.yml"
    path.write_text(CONVERSATION_FIELDS)
    intents = load_catalogue(path).intents
    assert intents["where_is_it"].takes == "order_number"
    assert intents["where_is_it"].about == ("order_number",)
    assert not intents["where_is_it"].problem
    assert intents["where_is_it"].options == ()
    assert intents["broken"].problem
    assert intents["broken"].takes is None
    assert intents["broken"].options == ("Talk to a person",)


def test_rasa_intents_keep_the_conversation_defaults(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(RASA_NLU)
    for intent in load_catalogue(path).intents.values():
        assert (intent.problem, intent.takes, intent.about, intent.options) == (False, None, (), ())


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("takes: phone_number", "takes must be one of order_number"),
        ("takes: [order_number]", "takes must be one of"),
        ("about: order_number", "about must be a list"),
        ("about: [order_number, shoe_size]", "about must be one of"),
        ("options: Talk to a person", "options must be a list"),
        ("options: [3]", "options must be texts"),
        (f"options: [{'x' * 41}]", "options must be texts"),
        ("problem: sometimes", "problem must be true or false"),
        ("repair: yes please", "repair must be true or false"),
    ],
)
def test_invalid_conversation_fields_are_refused(tmp_path: Path, field: str, message: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(
        f"intents:\n  a:\n    answer: x\n    {field}\n    examples: [one, two]\n"
        "  b:\n    answer: y\n    examples: [three, four]\n"
    )
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(path)
