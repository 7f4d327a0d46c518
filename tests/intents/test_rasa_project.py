"""A Rasa 3 project folder as the catalogue: NLU from every data file, responses from the
domain, single-turn rules as answers, a report of what is not imported, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.contracts import Prediction
from bot.models import Conversation
from bot.pipeline.reading import NO_ANSWER_REASON
from intents.catalogue import CatalogueError, Reply
from intents.rasa_project import NO_RULE_REASON, load_intents, load_project
from intents.responder import CatalogueResponder, render_sentences
from omnibot.cli import main

PROJECT = Path(__file__).resolve().parent.parent / "data" / "rasa_project"
CONVERSATION = Conversation(id="c", customer_id="c")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the test project, to break."""
    return Path(shutil.copytree(PROJECT, tmp_path / "project"))


def confident(intent: str) -> Prediction:
    return Prediction(intent, 0.9, True)


def test_nlu_comes_from_every_data_file_with_entities_stripped() -> None:
    catalogue, _ = load_project(PROJECT)
    assert sorted(catalogue.intents) == [
        "affirm",
        "bot_challenge",
        "check_balance",
        "goodbye",
        "greet",
        "help",
        "thankyou",
        "transfer_money",
    ]
    assert catalogue.intents["transfer_money"].examples == (
        "send 50 dollars to Ann",
        "I want to transfer $20 to my sister",
        "transfer money",
        "pay 100 to John",
    )


def test_single_turn_rules_answer_and_the_rest_is_reported() -> None:
    catalogue, report = load_project(PROJECT)
    help_steps = catalogue.intents["help"].steps
    assert [s.name for s in help_steps if isinstance(s, Reply)] == [
        "utter_help",
        "utter_anything_else",
    ]
    [greet] = catalogue.intents["greet"].steps
    assert isinstance(greet, Reply)
    assert greet.variants == ("Hello! How can I help?", "Hi there! What can I do for you?")
    assert catalogue.intents["check_balance"].steps == ("action_check_balance",)
    transfer = catalogue.intents["transfer_money"]
    assert (transfer.steps, transfer.escalate) == ((), NO_RULE_REASON)
    skipped = {(s.where, s.what, s.why) for s in report.skipped}
    assert skipped == {
        ("data/rules/rules.yml", "rule start the transfer form", "a form (active_loop)"),
        ("data/rules/rules.yml", "rule submit the transfer form", "a conditional rule"),
        ("data/rules/rules.yml", "rule fallback", "nlu_fallback (omnibot escalates)"),
        ("domain.yml", "form transfer_form", "forms"),
        ("data/stories.yml", "story greet then ask for help", "stories"),
    }


async def test_responses_become_messages_with_a_variant_each_and_slots_filled() -> None:
    catalogue, _ = load_project(PROJECT)
    responder = CatalogueResponder(catalogue, choose=lambda variants: variants[-1])
    greeting = await responder.respond(confident("greet"), CONVERSATION, "hello")
    assert (greeting.text, greeting.more) == ("Hi there! What can I do for you?", ())
    helped = await responder.respond(confident("help"), CONVERSATION, "help")
    # the second response names a slot the conversation lacks: that sentence is left out
    assert (helped.text, helped.more) == (
        "I can check your balance and help with transfers.",
        ("Anything else I can do?",),
    )
    assert helped.options == ("Yes", "No")  # the buttons of the last response
    with_amount = Conversation(id="c", customer_id="c", slots={"amount": "$20"})
    helped = await responder.respond(confident("help"), with_amount, "help")
    assert helped.more == ("Your last transfer was $20. Anything else I can do?",)
    unruled = await responder.respond(confident("transfer_money"), CONVERSATION, "pay")
    assert (unruled.text, unruled.escalate) == (None, NO_RULE_REASON)


async def test_an_action_step_without_an_action_server_escalates() -> None:
    catalogue, _ = load_project(PROJECT)
    balance = await CatalogueResponder(catalogue).respond(
        confident("check_balance"), CONVERSATION, "balance"
    )
    assert balance.text is None
    assert balance.escalate not in (None, NO_ANSWER_REASON)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Your balance is {amount}. Anything else?", "Anything else?"),
        ("Hello {name}! Welcome back.", "Hello Ana! Welcome back."),
        ("{amount}", ""),
        ("Sent {currency}{amount-of-money} to {PERSON}. Done.", "Done."),
        ("Hi! \nYou can ask:\n- balance? \n- cards", "Hi! \nYou can ask:\n- balance? \n- cards"),
        ("Hi {name}!\nLine two.", "Hi Ana!\nLine two."),
    ],
)
def test_a_sentence_naming_an_unknown_slot_is_left_out(template: str, expected: str) -> None:
    assert render_sentences(template, {"name": "Ana"}) == expected


def test_a_file_still_loads_as_before() -> None:
    catalogue, report = load_intents(PROJECT / "data" / "nlu" / "nlu.yml")
    assert report is None
    assert "greet" in catalogue.intents


def test_rasa_check_prints_what_is_imported_and_what_escalates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["rasa-check", str(PROJECT)])
    out = capsys.readouterr().out
    assert "help                   4  response utter_help + response utter_anything_else" in out
    assert "transfer_money         4  escalates (no importable rule)" in out
    assert "data/stories.yml: story greet then ask for help (stories)" in out


def expect_error(path: Path, *parts: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_project(path)
    for part in parts:
        assert part in str(caught.value)


def test_a_folder_without_nlu_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    expect_error(tmp_path, "no NLU examples")


def test_malformed_yaml_names_the_file_and_line(project: Path) -> None:
    broken = project / "data" / "nlu" / "banking.yml"
    broken.write_text("nlu:\n  - intent: help\n    examples: [unclosed\n", encoding="utf-8")
    expect_error(project, "banking.yml:", "4")


def test_a_rule_naming_a_missing_response_is_refused(project: Path) -> None:
    rules = project / "data" / "rules" / "rules.yml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("utter_goodbye", "utter_farewell"),
        encoding="utf-8",
    )
    expect_error(project, "rules.yml", "utter_farewell")


def test_an_intent_in_two_files_is_refused(project: Path) -> None:
    extra = project / "data" / "nlu" / "extra.yml"
    extra.write_text("nlu:\n  - intent: greet\n    examples: |\n      - yo\n", encoding="utf-8")
    expect_error(project, "extra.yml", "greet", "nlu.yml")


def test_an_example_too_long_is_refused(project: Path) -> None:
    extra = project / "data" / "nlu" / "extra.yml"
    extra.write_text(
        f"nlu:\n  - intent: ramble\n    examples: |\n      - {'a' * 2001}\n      - b\n",
        encoding="utf-8",
    )
    expect_error(project, "extra.yml", "ramble", "2001 characters")


def test_an_empty_example_is_refused(project: Path) -> None:
    extra = project / "data" / "nlu" / "extra.yml"
    extra.write_text("nlu:\n  - intent: blank\n    examples: |\n      - hi\n      -\n")
    expect_error(project, "extra.yml", "blank", "empty example")


def test_start_up_errors_are_one_clear_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "domain.yml").write_text("responses: [\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["rasa-check", str(project)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("omnibot: ")
    assert "domain.yml:" in err
    assert "Traceback" not in err


def test_channel_and_conditional_variants_are_used_only_without_a_plain_one(project: Path) -> None:
    domain = project / "domain.yml"
    domain.write_text(
        domain.read_text(encoding="utf-8").replace(
            '''  utter_goodbye:
    - text: "Goodbye, have a nice day."''',
            """  utter_goodbye:
    - text: "Goodbye, have a nice day."
    - text: "Bye from Slack"
      channel: slack
    - text: "Bye, VIP"
      condition:
        - type: slot
          name: vip
          value: true""",
        ),
        encoding="utf-8",
    )
    catalogue, _ = load_project(project)
    [goodbye] = catalogue.intents["goodbye"].steps
    assert isinstance(goodbye, Reply)
    assert goodbye.variants == ("Goodbye, have a nice day.",)
