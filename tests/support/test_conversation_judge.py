"""The conversation suite's judge: a reply is right only as the customer would see it."""

from __future__ import annotations

from pathlib import Path

from tests.support.conversation_judge import Seen, judge, recognise
from tests.support.conversations import (
    AgentStep,
    Expect,
    Reference,
    Turn,
    load_conversations,
    load_reference,
)

REPO = Path(__file__).resolve().parents[2]
REF = Reference(
    answers={
        "store_hours": "Our stores are open Monday to Saturday 9am-8pm.",
        "return_item": "You can return unworn items within 30 days.",
        "lost_parcel": "Sorry it hasn't reached you, {name}. I'm passing you to our team.",
        "out_of_scope": "I can only help with orders, delivery, returns and payments.",
    },
    escalating=frozenset({"lost_parcel"}),
    texts={
        "rephrase": "Sorry, I didn't quite get that. Could you say it another way?",
        "queued": "Thanks — your message is with the team; you're number {place} in the queue.",
        "other_language": "Sorry, I can only answer in English for now.",
        "no_words": "How can I help?",
    },
    order={},
)
HOURS = REF.answers["store_hours"]
RETURNS = REF.answers["return_item"]


def turn(*expect: Expect) -> Turn:
    return Turn("whatever the customer said", expect)


def seen(*bot: str, before: str = "bot", states: tuple[str, ...] = (), **more: list[str]) -> Seen:
    return Seen(before, bot=list(bot), states=list(states), **more)


def test_answers_are_recognised_in_order_with_order_numbers() -> None:
    reply = f"{RETURNS} Order 100598 is delivered. {HOURS.upper()}"
    assert recognise(reply, REF) == [
        ("return_item", ""),
        ("order_status", "100598"),
        ("store_hours", ""),
    ]


def test_an_answer_must_be_exactly_the_expected_ones_in_order() -> None:
    both = turn(Expect("answer", ("return_item", "store_hours")))
    assert judge(both, seen(RETURNS, HOURS), REF).right
    assert not judge(both, seen(HOURS, RETURNS), REF).right
    assert not judge(both, seen(RETURNS), REF).right
    status = turn(Expect("answer", ("order_status",), order="100412"))
    assert judge(status, seen("Order 100412 is being packed."), REF).right
    assert not judge(status, seen("Order 100377 is shipped."), REF).right


def test_a_problem_gets_a_person_never_the_cheerful_status() -> None:
    problem = turn(Expect("person"))
    assert judge(problem, seen("I'm passing you over.", states=("waiting",)), REF).right
    escalating = "Sorry it hasn't reached you, Kim. I'm passing you to our team."
    assert judge(problem, seen(escalating, states=("waiting",)), REF).right
    cheerful = seen("Order 100598 is delivered.", "Passing you over.", states=("waiting",))
    assert "order_status" in str(judge(problem, cheerful, REF).why)
    assert not judge(problem, seen("Order 100598 is delivered."), REF).right


def test_answering_without_handing_over_unless_the_answer_hands_over() -> None:
    hours = turn(Expect("answer", ("store_hours",)))
    assert not judge(hours, seen(HOURS, states=("waiting",)), REF).right
    lost = turn(Expect("answer", ("lost_parcel",)))
    assert judge(lost, seen(REF.answers["lost_parcel"], states=("waiting",)), REF).right


def test_unclear_must_offer_a_person() -> None:
    unclear = turn(Expect("unclear"))
    rephrase = REF.texts["rephrase"]
    assert not judge(unclear, seen(rephrase), REF).right
    assert judge(unclear, seen(rephrase, options=["Talk to a person"]), REF).right
    assert judge(unclear, seen(rephrase + " Or shall I get a person?"), REF).right


def test_waiting_notices_and_silence() -> None:
    notice = "Thanks — your message is with the team; you're number 3 in the queue."
    queued, silent = turn(Expect("queued")), turn(Expect("silent"))
    assert judge(queued, seen(notice, before="waiting"), REF).right
    assert not judge(queued, seen(before="waiting"), REF).right
    assert judge(silent, seen(before="agent"), REF).right
    assert not judge(silent, seen(notice, before="agent"), REF).right


def test_any_acceptable_outcome_is_right_and_scope_needs_its_answer() -> None:
    either = turn(Expect("queued"), Expect("silent"))
    assert judge(either, seen(before="waiting"), REF).right
    scope = turn(Expect("scope"))
    assert judge(scope, seen(REF.answers["out_of_scope"]), REF).right
    assert not judge(scope, seen(REF.texts["rephrase"]), REF).right


def test_the_scripts_load_with_desk_steps_and_long_pastes() -> None:
    conversations = load_conversations()
    steps = [s for c in conversations for s in c.steps]
    assert AgentStep("claim") in steps
    assert max(len(t.say) for t in steps if isinstance(t, Turn)) == 2000
    assert all(t.expect for t in steps if isinstance(t, Turn))


def test_the_reference_is_read_from_the_checkout() -> None:
    reference = load_reference(REPO)
    assert reference.answers["greeting"].startswith("Hi!")
    assert "complaint" in reference.escalating
    assert reference.has("rephrase", reference.texts["rephrase"])
    assert "order number" in reference.order["ASK_TEXT"]
