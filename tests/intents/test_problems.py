"""Problem reports told apart from plain questions, and a customer's patience running out."""

from __future__ import annotations

import pytest

from bot.models import Message, Role
from bot.texts import Texts
from intents.problems import ProblemKind, detect, frustrated

ANSWER = "Your order 100377 is on its way and should arrive on Thursday."


def customer(text: str) -> Message:
    return Message(Role.CUSTOMER, text)


def bot(text: str) -> Message:
    return Message(Role.BOT, text)


@pytest.mark.parametrize(
    "text",
    [
        "the app told me it was handed to a resident at 13:02 yet theres no box anywhere",
        "Royal Mail marked it as delivered, I've been in all day and not a thing",
        "according to your emails my refund went back on the 2nd. my bank has nothing",
        "it was meant to come yesterday and it hasn't, order 100598",
        "Courier photo shows it on a doorstep but that's not even my house",
        "it was delivered to my parcel locker on friday, though the locker was empty",
    ],
)
def test_a_status_the_customer_sees_contradicted_is_a_contradiction(text: str) -> None:
    problem = detect(text)
    assert problem is not None
    assert problem.kind is ProblemKind.CONTRADICTION


@pytest.mark.parametrize(
    "text",
    [
        "ordered 100412 on the 1st, a month later STILL not arrived",
        "Im writing for the 3rd time about the same coat",
        "I have messaged you 5 times now about my refund",
        "nobody ever replies to my emails, where is my parcel",
        "been waiting over a week for someone to call me back",
        "again?? my order is late AGAIN",
    ],
)
def test_asking_again_or_waiting_long_with_nothing_is_repeat_contact(text: str) -> None:
    problem = detect(text)
    assert problem is not None
    assert problem.kind is ProblemKind.REPEAT_CONTACT


@pytest.mark.parametrize(
    "text",
    [
        "cancel everything, worst company i've ever dealt with",
        "honestly this is a disgrace and I want a manager",
        "If I don't get my money back by monday I'm going to my bank for a chargeback",
        "where is my jacket, I paid for next day delivery and I want it NOW, TODAY",
        "this is the final time i shop with u lot",
        "what a joke of a shop!!!",
    ],
)
def test_ultimatums_threats_insults_and_shouting_are_anger(text: str) -> None:
    problem = detect(text)
    assert problem is not None
    assert problem.kind is ProblemKind.ANGER


@pytest.mark.parametrize(
    ("text", "cue_word"),
    [
        ("tried 3 different cards and the payment page keeps erroring", "erroring"),
        ("why wont my gift card go thru at checkout", "wont my gift card go"),
        ("the voucher i got in my email doesnt apply to anything", "doesnt apply"),
        ("I've been billed 2x for the same trainers", "billed 2x"),
        ("i got a pair of kids wellies in my parcel instead of my boots", "instead of"),
        ("the box came with a stranger's stuff in it, not my order at all", "not my order"),
        ("headphones arrived with the case smashed", "smashed"),
        ("one of the 3 shirts is missing from the bag", "is missing"),
    ],
)
def test_things_failing_or_harm_done_are_failures_with_the_words_that_showed_it(
    text: str, cue_word: str
) -> None:
    problem = detect(text)
    assert problem is not None
    assert problem.kind is ProblemKind.FAILURE
    assert cue_word in problem.cue


@pytest.mark.parametrize(
    "text",
    [
        "where is my order 12345?",
        "how long do refunds take?",
        "what cards do you accept?",
        "can I change my address?",
        "does the code work on sale items?",
        "is it too late to cancel?",
        "Is the grey hoodie still available in medium?",
        "what happens if my parcel turns up damaged?",
        "do you swap faulty items or refund them",
        "i picked the wrong size, can i exchange for a 10",
        "can I ship it to someone else's address, its a present",
        "the app says dispatched, which courier is it with?",
        "the last time i ordered it came really quick, is it the same now?",
        "got it today, love it!!! thank you",
        "tell me a joke",
        "my order hasn't come yet, when will it get here?",
        "WHAT TIME DOES THE LEEDS STORE CLOSE",
        "it isn't damaged, I just don't like the colour. how do I send it back?",
    ],
)
def test_plain_questions_are_not_problems(text: str) -> None:
    assert detect(text) is None


def test_the_kind_with_the_most_evidence_wins() -> None:
    text = "I'm FURIOUS, a disgrace, never shopping here again!!! and the discount didn't work"
    problem = detect(text)
    assert problem is not None
    assert problem.kind is ProblemKind.ANGER


def test_a_contradiction_outranks_a_single_insult() -> None:
    problem = detect("tracker says left with neighbour but they've got nothing. pathetic")
    assert problem is not None
    assert problem.kind is ProblemKind.CONTRADICTION


def test_a_grumble_alone_is_not_a_problem_but_two_are() -> None:
    assert detect("the parcel still hasn't turned up") is None
    assert detect("honestly, the parcel still hasn't turned up") is not None


def test_the_cue_keeps_the_customers_own_spelling() -> None:
    problem = detect("You Charged Me TWICE for one order")
    assert problem is not None
    assert problem.cue == "Charged Me TWICE"


@pytest.mark.parametrize(
    "nudge",
    [
        "hello??",
        "???",
        "helloooo",
        "anyone there",
        "hi? u there",
        "is anybody actually there",
        "anyone out there at all",
    ],
)
def test_a_nudge_after_the_customer_wrote_is_frustration(nudge: str) -> None:
    turns = [customer("my parcel 100655 hasnt come"), bot(ANSWER)]
    assert frustrated(nudge, turns)


@pytest.mark.parametrize("opening", ["hello", "hi?", "hey!", "helloooo"])
def test_an_opening_greeting_is_not_frustration(opening: str) -> None:
    assert not frustrated(opening, [])
    assert not frustrated(opening, [bot("Hi! How can I help?")])


def test_a_plain_hello_is_frustration_only_while_the_customer_waits_for_an_answer() -> None:
    waiting = [customer("can I return a sale item?")]
    answered = [*waiting, bot("Yes, within 30 days.")]
    assert frustrated("hello", waiting)
    assert not frustrated("hello", answered)


def test_a_question_after_an_answer_is_not_frustration() -> None:
    turns = [customer("where is 100234"), bot(ANSWER)]
    assert not frustrated("ok and how much is express delivery?", turns)


def test_any_message_after_two_requests_to_rephrase_is_frustration() -> None:
    rephrase = Texts().rephrase
    turns = [customer("the thing"), bot(rephrase), customer("the thing i bought"), bot(rephrase)]
    assert frustrated("the blue one from last week", turns)
    assert not frustrated("the blue one from last week", turns[:2])


def test_anger_right_after_a_request_to_rephrase_is_frustration() -> None:
    turns = [customer("my stuff?"), bot(Texts().rephrase)]
    assert frustrated("oh for gods sake, this is useless", turns)
    assert frustrated("????", turns)


def test_a_request_to_rephrase_inside_a_longer_reply_still_counts() -> None:
    rephrase = Texts().rephrase
    turns = [customer("x"), bot(f"Delivery takes 3 days. {rephrase}"), customer("y"), bot(rephrase)]
    assert frustrated("z", turns)


def test_another_rephrase_text_can_be_given() -> None:
    turns = [customer("x"), bot("Say again?"), customer("y"), bot("Say again?")]
    assert not frustrated("z", turns)
    assert frustrated("z", turns, rephrase="Say again?")


def test_a_desk_notice_between_requests_to_rephrase_does_not_hide_them() -> None:
    rephrase = Texts().rephrase
    notice = Message(Role.SYSTEM, "Ticket T-12 was closed.")
    turns = [customer("x"), bot(rephrase), notice, customer("y"), bot(rephrase), notice]
    assert frustrated("z", turns)
    assert frustrated("hello", [customer("can I return a sale item?"), notice])


def test_a_text_read_again_is_not_scanned_again_and_reads_the_same() -> None:
    text = "tracking says delivered 3 days ago but nothing here, order 4417"
    first = detect(text)
    hits = detect.cache_info().hits
    assert detect(text) == first
    assert first is not None
    assert first.kind is ProblemKind.CONTRADICTION
    assert detect.cache_info().hits == hits + 1
