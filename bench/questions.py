"""The retail questions the benches ask (the default catalogue answers each itself) and how
a bot answer to one is classed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from bot.texts import Texts
from intents.catalogue import load_catalogue
from omnibot.settings import DEFAULT_INTENTS_PATH

TEXTS = Texts()  # what the bot answers with, to class its answers
# (the intent that should answer, the question): reworded examples of the default catalogue's
# intents with a plain answer; greetings, order look-ups and escalations left out
TEMPLATES = (
    ("return_item", "how do I return an item?"),
    ("return_item", "what is your return policy"),
    ("refund_status", "when will I get my money back"),
    ("refund_status", "how long do refunds take"),
    ("shipping_times", "how long does delivery take?"),
    ("delivery_countries", "do you ship to Canada?"),
    ("shipping_costs", "how much is shipping?"),
    ("shipping_costs", "is delivery free?"),
    ("store_hours", "what are your opening hours?"),
    ("store_hours", "are you open on sunday"),
    ("store_locations", "where is your nearest store?"),
    ("store_locations", "where are you located"),
    ("click_and_collect", "can I buy online and pick up in store?"),
    ("click_and_collect", "do you do click and collect"),
    ("stock_availability", "is this item in stock?"),
    ("stock_availability", "when will it be back in stock"),
    ("payment_methods", "can I pay with paypal"),
    ("payment_methods", "what payment methods do you accept?"),
    ("cancel_order", "how do I cancel my order?"),
    ("cancel_order", "can I still cancel"),
    ("change_delivery_address", "can I change my delivery address?"),
    ("change_delivery_address", "I entered the wrong address"),
    ("account_password", "I forgot my password"),
    ("account_password", "how do I reset my password"),
)
PREFIXES = ("", "hi, ", "quick question: ", "hello, ", "excuse me, ", "one more thing: ")
SUFFIXES = ("", "?", " please", " thanks", " :)", "? thank you")  # after any "?" is cut


@dataclass(frozen=True)
class Question:
    """One question text, the catalogue template it varies and the intent that should answer."""

    template: str
    intent: str
    text: str


def questions(seed: int) -> list[Question]:
    """Every variant of every template (prefix x template x suffix), shuffled."""
    variants = [
        Question(text, intent, f"{prefix}{text.rstrip('?')}{suffix}")
        for intent, text in TEMPLATES
        for prefix in PREFIXES
        for suffix in SUFFIXES
    ]
    random.Random(seed).shuffle(variants)
    return variants


def deal(variants: Sequence[Question], visitors: int) -> list[list[Question]]:
    """Each visitor's own questions: no text is asked by two visitors."""
    if len(variants) < visitors:
        raise ValueError(f"{len(variants)} distinct questions for {visitors} visitors")
    return [list(variants[i::visitors]) for i in range(visitors)]


def answer_kinds() -> dict[str, str]:
    """The catalogue's answer texts -> the intent they answer."""
    catalogue = load_catalogue(DEFAULT_INTENTS_PATH)
    return {i.answer: i.name for i in catalogue.intents.values() if i.answer is not None}


def kind_of(text: str, question: Question, answers: dict[str, str]) -> str:
    """``answer`` (the expected intent's), ``wrong_intent``, ``rephrase``, ``handoff``,
    ``other``."""
    intent = answers.get(text)
    if intent is not None:
        return "answer" if intent == question.intent else "wrong_intent"
    if text == TEXTS.rephrase:
        return "rephrase"
    handoffs = (TEXTS.waiting, TEXTS.away.split(":")[0], TEXTS.queued.split(".")[0])
    return "handoff" if any(mark in text for mark in handoffs) else "other"
