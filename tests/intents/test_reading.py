"""Reading a message with its conversation: context, problems before facts, several requests,
frustration — over a scripted classifier, so each rule is seen on its own."""

from __future__ import annotations

import pytest

from bot.contracts import TOPIC_SLOT, Context, Prediction, Reading
from bot.models import Message, Role
from intents.actions.order_status import NOT_FOUND_REASON, NOT_FOUND_SLOT
from intents.catalogue import Catalogue, Intent
from intents.knowledge.answerer import ArticleMatch
from intents.knowledge.documents import Passage
from intents.reading import (
    FRUSTRATED_REASON,
    PERSON_REASON,
    PROBLEM_REASON,
    STRONG_ARTICLE_SCORE,
    Reader,
)

EXAMPLES = ("a", "b")
ORDERS = ("order_number",)
NO_CONTEXT = Context()
CATALOGUE = Catalogue(
    {
        intent.name: intent
        for intent in (
            Intent(
                "order_status", EXAMPLES, action="x", takes="order_number", about=("order_number",)
            ),
            Intent("cancel_order", EXAMPLES, answer="Cancel it.", about=("order_number",)),
            Intent("change_delivery_address", EXAMPLES, answer="Change it.", about=("address",)),
            Intent("new_delivery_address", EXAMPLES, escalate="new address", takes="address"),
            Intent("payment_methods", EXAMPLES, answer="Visa."),
            Intent("payment_declined", EXAMPLES, answer="Declined?", problem=True),
            Intent("shipping_times", EXAMPLES, answer="3 days."),
            Intent("refund_status", EXAMPLES, answer="5 days."),
            Intent("store_locations", EXAMPLES, answer="Leeds."),
            Intent("greeting", EXAMPLES, answer="Hi!"),
            Intent("out_of_scope", EXAMPLES, answer="Only orders."),
            Intent("talk_to_human", EXAMPLES, escalate="customer asked for a person"),
        )
    }
)


def sure(intent: str, *others: str) -> Prediction:
    ranking = ((intent, 0.9), *((other, 0.05) for other in others))
    return Prediction(intent, 0.9, True, ranking)


def unsure(intent: str = "greeting", *others: str) -> Prediction:
    ranking = ((intent, 0.3), *((other, 0.2) for other in others))
    return Prediction(intent, 0.3, False, ranking)


class Script:
    """A classifier answering from a script (anything else: unsure); it records what it saw."""

    def __init__(self, script: dict[str, Prediction]) -> None:
        self.script = script
        self.seen: list[str] = []

    async def classify(self, text: str) -> Prediction:
        self.seen.append(text)
        return self.script.get(text, unsure())

    def close(self) -> None:
        """Nothing to release."""


def turns(*texts: str) -> tuple[Message, ...]:
    """Alternating customer and bot turns, the customer first."""
    roles = (Role.CUSTOMER, Role.BOT)
    return tuple(Message(role=roles[i % 2], text=t) for i, t in enumerate(texts))


async def read(script: dict[str, Prediction], text: str, context: Context = NO_CONTEXT) -> Reading:
    return await Reader(Script(script), CATALOGUE).read(text, context)


async def test_a_bare_order_number_after_an_order_exchange_is_looked_up() -> None:
    context = Context(turns("cn i cancel", "Cancel it."), {TOPIC_SLOT: "cancel_order"})
    reading = await read({}, "its 100598", context)
    assert [p.prediction.intent for p in reading.parts] == ["order_status"]
    assert reading.parts[0].prediction.confident
    assert reading.slots == {"order_number": "100598"}


async def test_a_bare_number_with_no_order_talk_is_left_to_the_classifier() -> None:
    context = Context(turns("hi", "Hi!"), {TOPIC_SLOT: "greeting"})
    reading = await read({}, "100598", context)
    assert not reading.parts[0].prediction.confident


async def test_a_new_address_after_the_address_answer_goes_to_the_intent_taking_it() -> None:
    context = Context(turns("wrong adress", "Change it."), {TOPIC_SLOT: "change_delivery_address"})
    reading = await read({}, "14 Park Road, Leeds LS6 2AB", context)
    assert reading.parts[0].prediction.intent == "new_delivery_address"


async def test_a_failing_payment_goes_to_the_problem_not_the_list_of_cards() -> None:
    text = "checkout keeps rejecting my visa"
    reading = await read({text: sure("payment_methods", "payment_declined")}, text)
    assert reading.parts[0].prediction.intent == "payment_declined"
    assert reading.parts[0].escalate is None


async def test_a_problem_with_no_answer_of_its_own_goes_to_a_person_with_the_order() -> None:
    text = "tracking says delivered yesterday but theres nothing at my door, order 100598"
    reading = await read({text: sure("order_status", "shipping_times")}, text)
    part = reading.parts[0]
    assert part.escalate == PROBLEM_REASON
    assert part.attach == "order_status"


async def test_a_plain_question_with_a_number_is_answered() -> None:
    text = "where is order 100598?"
    reading = await read({text: sure("order_status", "payment_declined")}, text)
    assert reading.parts[0].prediction.intent == "order_status"
    assert reading.parts[0].escalate is None


async def test_a_nudge_from_a_customer_already_waiting_goes_to_a_person() -> None:
    context = Context(turns("my parcel??", "Sorry, could you say it another way?"))
    reading = await read({}, "hello??", context)
    assert reading.parts[0].escalate == FRUSTRATED_REASON


async def test_a_plain_request_for_a_person_goes_to_a_person_however_unsure() -> None:
    text = "ur bot is rubbish let me talk to someone real"
    reading = await read({text: unsure("out_of_scope")}, text)
    assert reading.parts[0].escalate == PERSON_REASON


async def test_a_confident_hand_over_intent_keeps_its_own_reason() -> None:
    text = "can i speak to an actual person pls"
    reading = await read({text: sure("talk_to_human")}, text)
    assert reading.parts[0].escalate is None  # the intent's responder hands over
    assert reading.parts[0].prediction.intent == "talk_to_human"


async def test_an_opening_hello_is_not_frustration() -> None:
    reading = await read({"hello": sure("greeting")}, "hello")
    assert reading.parts[0].escalate is None


async def test_what_about_is_read_with_the_previous_question() -> None:
    previous = "how long does delivery to france take"
    script = {f"{previous} what about express?": sure("shipping_times")}
    context = Context(turns(previous, "3 days."), {"country": "France"})
    reading = await read(script, "what about express?", context)
    assert reading.parts[0].prediction.intent == "shipping_times"
    assert reading.parts[0].text == "what about express?"


async def test_two_questions_are_two_parts_in_order() -> None:
    script = {
        "how long do refunds take": sure("refund_status"),
        "is there a store in Leeds?": sure("store_locations"),
    }
    reading = await read(script, "how long do refunds take, and is there a store in Leeds?")
    assert [p.prediction.intent for p in reading.parts] == ["refund_status", "store_locations"]


async def test_a_split_that_does_not_read_as_two_requests_is_one_part() -> None:
    text = "how long do refunds take, and is there a store in Leeds?"
    reading = await read({text: sure("refund_status")}, text)
    assert [p.text for p in reading.parts] == [text]


@pytest.mark.parametrize(
    "text", ["that IS the number its on my confirmation email", "it's right, I checked twice"]
)
async def test_insisting_on_a_number_not_found_goes_to_a_person(text: str) -> None:
    slots = {TOPIC_SLOT: "order_status", NOT_FOUND_SLOT: "999999"}
    reading = await read({}, text, Context(turns("999999", "I couldn't find order"), slots))
    assert reading.parts[0].escalate == NOT_FOUND_REASON


async def test_another_number_after_one_not_found_is_looked_up_again() -> None:
    slots = {TOPIC_SLOT: "order_status", NOT_FOUND_SLOT: "999999"}
    reading = await read({}, "998877", Context(turns("999999", "I couldn't find order"), slots))
    assert reading.parts[0].prediction.intent == "order_status"
    assert reading.parts[0].escalate is None


async def test_an_entity_the_top_intent_is_about_makes_it_sure() -> None:
    text = "hi can u check 100412 for me"
    reading = await read({text: unsure("order_status", "greeting")}, text)
    assert reading.parts[0].prediction.intent == "order_status"
    assert reading.parts[0].prediction.confident


async def test_an_unsure_message_without_such_an_entity_stays_unsure() -> None:
    text = "hi can u check it for me"
    reading = await read({text: unsure("order_status", "greeting")}, text)
    assert not reading.parts[0].prediction.confident


async def test_an_unsure_message_is_not_read_as_a_repeat_of_the_last_question() -> None:
    previous = "do you have the grey coat in a 12"
    script = {f"{previous} is anybody actually there": sure("stock_availability")}
    context = Context(turns(previous, "Stock is on the page."), {TOPIC_SLOT: "stock_availability"})
    reading = await read(script, "is anybody actually there", context)
    assert not reading.parts[0].prediction.confident


async def test_an_unsure_reply_to_a_problem_s_procedure_goes_to_a_person() -> None:
    context = Context(turns("my visa keeps failing", "Declined?"), {TOPIC_SLOT: "payment_declined"})
    reading = await read({}, "my bank says its all fine on their end", context)
    assert reading.parts[0].escalate == PROBLEM_REASON
    sure_context = Context(turns("hi", "Hi!"), {TOPIC_SLOT: "greeting"})
    assert (await read({}, "my bank says its all fine", sure_context)).parts[0].escalate is None


MERINO = Passage("merino.md", "Merino care", "https://shop.example/merino", None, "Hand wash.")


class Articles:
    """A help centre that is sure of the merino article at ``score`` for every question, and
    like ``KnowledgeService`` gives none under the floor it is asked with."""

    def __init__(self, score: float = 0.97, ready: bool = True) -> None:
        self.score = score
        self.ready = ready
        self.asked: list[str] = []
        self.floors: list[float] = []

    def answer(self, question: str, floor: float = 0.0) -> ArticleMatch | None:
        self.asked.append(question)
        self.floors.append(floor)
        return ArticleMatch(MERINO, self.score) if self.score >= floor else None


async def read_with(articles: Articles, prediction: Prediction, text: str = "q") -> Reading:
    return await Reader(Script({text: prediction}), CATALOGUE, articles).read(text, NO_CONTEXT)


@pytest.mark.parametrize("prediction", [unsure("greeting"), sure("out_of_scope")])
async def test_a_sure_article_answers_an_unsure_or_out_of_scope_intent(
    prediction: Prediction,
) -> None:
    part = (await read_with(Articles(), prediction)).parts[0]
    assert part.prediction == Prediction("article:merino.md", 0.97, True, prediction.ranking)


@pytest.mark.parametrize("intent", ["order_status", "payment_declined", "talk_to_human"])
async def test_no_article_is_asked_for_a_confident_action_problem_or_hand_over(
    intent: str,
) -> None:
    articles = Articles()
    part = (await read_with(articles, sure(intent))).parts[0]
    assert part.prediction.intent == intent
    assert articles.asked == []


async def test_no_article_answers_a_problem_report_or_an_unsure_problem() -> None:
    articles = Articles()
    text = "checkout keeps rejecting my visa"
    assert (await read_with(articles, unsure("greeting"), text)).parts[0].prediction.intent == (
        "greeting"
    )
    doubtful = Prediction("payment_declined", 0.35, False, (("payment_declined", 0.35),))
    assert (await read_with(articles, doubtful)).parts[0].prediction.intent == "payment_declined"
    assert articles.asked == []


async def test_a_confident_plain_answer_stays_unless_the_article_is_surer() -> None:
    kept = (await read_with(Articles(0.99), sure("shipping_times"))).parts[0]
    assert kept.prediction.intent == "shipping_times"
    strong = Articles(STRONG_ARTICLE_SCORE)
    taken = (await read_with(strong, sure("shipping_times"))).parts[0]
    assert taken.prediction.intent == "article:merino.md"


@pytest.mark.parametrize(
    ("prediction", "floor"),
    [
        (unsure("greeting"), 0.0),
        (sure("out_of_scope"), 0.0),
        (sure("shipping_times"), STRONG_ARTICLE_SCORE),
    ],
)
async def test_the_article_is_asked_for_with_the_score_it_needs_to_win(
    prediction: Prediction, floor: float
) -> None:
    articles = Articles()
    await read_with(articles, prediction)
    assert articles.floors == [floor]


async def test_no_article_is_asked_before_the_index_is_ready() -> None:
    articles = Articles(ready=False)
    part = (await read_with(articles, unsure("greeting"))).parts[0]
    assert not part.prediction.confident
    assert articles.asked == []
