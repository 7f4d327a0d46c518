"""The bundled retail catalogue covers everyday shop topics, small talk and out-of-scope
messages, with the real engine: fresh customer messages (not in the catalogue) reach the new
intents, and siblings stay apart."""

from __future__ import annotations

import pytest

from bot.contracts import Prediction
from intents.catalogue import load_catalogue
from intents.classifier import BatchedClassifier
from omnibot.engine import Intents
from omnibot.settings import DEFAULT_INTENTS_PATH

CATALOGUE = load_catalogue(DEFAULT_INTENTS_PATH)

HAND_OFF = {  # a person must act: the bot says what happens, then escalates
    "damaged_wrong_or_missing_item",
    "charged_twice",
    "refund_not_received",
    "delete_account",
}
ANSWERED = {
    "warranty",
    "size_and_fit",
    "discount_code",
    "payment_declined",
    "return_postage",
    "delivery_countries",
    "invoice",
    "change_order",
}

PROBLEMS = {
    "damaged_wrong_or_missing_item",
    "charged_twice",
    "payment_declined",
    "refund_not_received",
    "complaint",
    "lost_parcel",
    # their answers are what to do when the thing fails (a code rejected, a sign-in refused)
    "discount_code",
    "account_password",
    "warranty",
}
ORDER_EXCHANGES = {
    "order_status",
    "cancel_order",
    "return_item",
    "refund_status",
    "change_order",
    "invoice",
    "damaged_wrong_or_missing_item",
    "refund_not_received",
    "lost_parcel",
    "complaint",
}

FRESH = [
    ("the lamp turned up with the glass shade shattered", "damaged_wrong_or_missing_item"),
    ("ordered black trainers, you sent white ones. useless", "damaged_wrong_or_missing_item"),
    ("one of the candles wasnt in the box even tho I paid for it", "damaged_wrong_or_missing_item"),
    ("my blender packed in after 8 months, am I covered?", "warranty"),
    ("how many years guarantee do i get on the tv", "warranty"),
    ("the strap on my bag snapped after a month of normal use, can you fix it", "warranty"),
    ("I'm a size 8 normally, would a small be too tight?", "size_and_fit"),
    ("do ur dresses come up short? I'm quite tall", "size_and_fit"),
    ("what's the chest measurement on the XL hoodie", "size_and_fit"),
    ("the 10% code from your instagram wont work at the till online", "discount_code"),
    ("tried SPRING20 three times and it just says not valid", "discount_code"),
    (
        "I paid full price because the voucher failed, can I still get the money off?",
        "discount_code",
    ),
    ("you took the money twice", "charged_twice"),
    ("why are there 2 charges of 59.99 on my statement for one order??", "charged_twice"),
    ("paid once but my account got hit twice", "charged_twice"),
    ("my card got declined", "payment_declined"),
    ("every time I hit pay it says something went wrong with the payment", "payment_declined"),
    ("your checkout won't accept my visa even though it works everywhere else", "payment_declined"),
    ("returned the coat 3 weeks ago and STILL no refund, where is my money", "refund_not_received"),
    ("got an email saying refunded but its not in my bank after 2 weeks", "refund_not_received"),
    ("been waiting forever for my refund, nothing has come through", "refund_not_received"),
    ("who pays for sending it back", "return_postage"),
    ("do i have to cover the postage if i return it", "return_postage"),
    ("is the return label free or do you take it off my refund", "return_postage"),
    ("can you deliver to poland?", "delivery_countries"),
    ("I'm in new zealand, will you ship here", "delivery_countries"),
    ("which countries can I order to from your site", "delivery_countries"),
    ("my accountant needs an invoice for the chairs I bought", "invoice"),
    ("can u send a receipt for my order to my email", "invoice"),
    ("where can I download the vat receipt", "invoice"),
    ("I just placed an order, can I throw in a pair of socks too?", "change_order"),
    ("can I switch the medium in my order to a small before it goes out", "change_order"),
    ("I need to change what's in my order", "change_order"),
    ("get rid of my account and stop storing my info", "delete_account"),
    ("I want my profile and all my details deleted", "delete_account"),
    ("how do I permanently remove my account from your website", "delete_account"),
]

CONVERSATION = [  # small talk, out-of-scope and follow-ups a shop bot is expected to handle
    ("can you tell me if it'll snow in london this week", "out_of_scope"),
    ("whats a safe dose of calpol for a toddler", "out_of_scope"),
    ("explain photosynthesis for my kids science project", "out_of_scope"),
    ("be honest, am i typing to a computer program", "bot_or_human"),
    ("are you one of those AI assistants", "bot_or_human"),
    ("is this thing automatic or is someone there", "bot_or_human"),
    ("honestly the best online shop i've used", "compliment"),
    ("you're so quick, brilliant", "compliment"),
    ("wow, impressive service", "compliment"),
    ("thats not my question at all", "not_what_i_asked"),
    ("you've answered something I never asked", "not_what_i_asked"),
    ("erm no, I was on about something else entirely", "not_what_i_asked"),
    ("email says my order was delivered at 11 but there's no sign of it", "lost_parcel"),
    ("supposedly delivered today, checked with the neighbours, nothing", "lost_parcel"),
    ("it says it was signed for but nobody here signed for anything", "lost_parcel"),
    ("new address is 9 Willow Way, Derby DE1 3HT", "new_delivery_address"),
    ("it's 77 Harbour Street, Plymouth PL1 2AA", "new_delivery_address"),
    ("send it to flat 4, 12 Canal Street, Nottingham NG1 7EH", "new_delivery_address"),
    ("Talk to a person", "talk_to_human"),  # the button the new intents offer
    ("hey, hope you're well", "greeting"),
    ("thank you, that's sorted it", "thanks"),
    ("that's all I needed, bye", "goodbye"),
    ("I'm disgusted with how I've been treated", "complaint"),
]

SIBLINGS = [  # (message, the intent it is, the sibling it must not be)
    ("who pays for sending it back", "return_postage", "shipping_costs"),
    ("how much is delivery to my house", "shipping_costs", "return_postage"),
    ("my card got declined", "payment_declined", "payment_methods"),
    ("do you take mastercard", "payment_methods", "payment_declined"),
    ("you took the money twice", "charged_twice", "refund_status"),
    ("how long does a refund take to reach my card", "refund_status", "charged_twice"),
    ("how long does a refund take to reach my card", "refund_status", "refund_not_received"),
    (
        "been waiting forever for my refund, nothing has come through",
        "refund_not_received",
        "refund_status",
    ),
    ("do you ship to japan", "delivery_countries", "shipping_times"),
    ("how many days does standard delivery take", "shipping_times", "delivery_countries"),
    ("I want to cancel the whole order", "cancel_order", "change_order"),
    ("can I add a scarf to the order I placed an hour ago", "change_order", "cancel_order"),
    ("I forgot my password", "account_password", "delete_account"),
    ("what's the weather in Leeds tomorrow", "out_of_scope", "talk_to_human"),
    ("put me through to a real person", "talk_to_human", "out_of_scope"),
    ("are you a bot?", "bot_or_human", "talk_to_human"),
    ("that's not what I asked you", "not_what_i_asked", "complaint"),
    ("this is the worst service I've ever had", "complaint", "not_what_i_asked"),
    ("the tracking says delivered but nothing came", "lost_parcel", "order_status"),
    ("when will my parcel get here", "order_status", "lost_parcel"),
    (
        "the new address is 3 Rose Lane, Hull HU1 2AB",
        "new_delivery_address",
        "change_delivery_address",
    ),
    ("I need to change my delivery address", "change_delivery_address", "new_delivery_address"),
]


@pytest.fixture
def classifier(intents: Intents) -> BatchedClassifier:
    assert isinstance(intents.classifier, BatchedClassifier)
    return intents.classifier


def test_every_everyday_topic_has_an_intent_that_answers_or_hands_off() -> None:
    for name in HAND_OFF | ANSWERED:
        intent = CATALOGUE.intents[name]
        assert len(set(intent.examples)) >= 15, name
        assert intent.answer, name  # a hand-off still tells the customer what happens
        assert bool(intent.escalate) == (name in HAND_OFF), name


def test_the_intents_say_how_they_read_in_a_conversation() -> None:
    intents = CATALOGUE.intents
    problems = {name for name, intent in intents.items() if intent.problem}
    assert problems == PROBLEMS
    assert {name: i.takes for name, i in intents.items() if i.takes} == {
        "order_status": "order_number",
        "new_delivery_address": "address",
    }
    assert {n for n, i in intents.items() if "order_number" in i.about} >= ORDER_EXCHANGES
    assert intents["change_delivery_address"].about == ("address",)
    for name in ("delivery_countries", "shipping_times", "shipping_costs"):
        assert intents[name].about == ("country",), name


def test_small_talk_and_out_of_scope_answer_without_a_ticket_and_offer_a_person() -> None:
    for name in ("out_of_scope", "bot_or_human", "not_what_i_asked"):
        intent = CATALOGUE.intents[name]
        assert intent.answer, name
        assert intent.escalate is None, name
        assert intent.options == ("Talk to a person",), name
    assert not CATALOGUE.intents["compliment"].escalate
    for name in ("lost_parcel", "new_delivery_address"):  # a person acts on these
        assert CATALOGUE.intents[name].answer, name
        assert CATALOGUE.intents[name].escalate, name


def test_no_example_is_taught_as_two_intents() -> None:
    texts, labels = CATALOGUE.training_data()
    seen: dict[str, str] = {}
    for text, label in zip(texts, labels, strict=True):
        assert seen.setdefault(text.lower(), label) == label, text


def test_the_fresh_messages_are_not_catalogue_examples() -> None:
    examples = {text.lower() for text in CATALOGUE.training_data()[0]}
    button = {"talk to a person"}  # the option's own text is taught on purpose
    assert not {text.lower() for text, _ in FRESH + CONVERSATION} & examples - button


@pytest.mark.parametrize(("text", "intent"), FRESH)
async def test_fresh_customer_messages_reach_the_new_intent(
    classifier: BatchedClassifier, text: str, intent: str
) -> None:
    assert (await classifier.classify(text)).intent == intent


@pytest.mark.parametrize(("text", "intent"), CONVERSATION)
async def test_conversation_messages_are_answered_with_their_intent(
    classifier: BatchedClassifier, text: str, intent: str
) -> None:
    prediction = await classifier.classify(text)
    assert (prediction.intent, prediction.confident) == (intent, True)


def test_most_fresh_messages_are_answered_not_just_ranked_first(
    classifier: BatchedClassifier,
) -> None:
    predictions = classifier.predict([text for text, _ in FRESH])
    answered = [p for p, (_, intent) in zip(predictions, FRESH, strict=True) if right(p, intent)]
    assert len(answered) >= 0.85 * len(FRESH), [p.intent for p in predictions if not p.confident]


def right(prediction: Prediction, intent: str) -> bool:
    return prediction.confident and prediction.intent == intent


@pytest.mark.parametrize(("text", "intent", "sibling"), SIBLINGS)
async def test_siblings_are_kept_apart(
    classifier: BatchedClassifier, text: str, intent: str, sibling: str
) -> None:
    prediction = await classifier.classify(text)
    assert right(prediction, intent)
    scores = dict(prediction.ranking)  # the top few intents only
    assert scores.get(sibling, 0.0) < scores[intent] / 2
