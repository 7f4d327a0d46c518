"""The catalogue of what the core tells customers: the texts as they were, and replaceable."""

from __future__ import annotations

from dataclasses import replace

from bot.identity.texts import LinkingTexts
from bot.models import Channel
from bot.texts import Texts


def test_the_default_texts_are_unchanged() -> None:
    texts = Texts()
    assert texts.waiting == "I'm passing you to a member of our team. An agent will join shortly."
    assert texts.rephrase == (
        "Sorry, I didn't quite get that. Could you say it another way, or shall I get you a person?"
    )
    assert texts.opt_in == (
        "You're subscribed again and will get our replies. Reply STOP to opt out."
    )
    assert texts.away.format(where="here", when="9:00") == (
        "I'm passing you to our team. They're away right now: a person will reply here from 9:00."
    )
    assert texts.queued.format(place=2, wait="") == (
        "Thanks — your message is with the team; you're number 2 in the queue."
    )
    assert texts.linking == LinkingTexts()


def test_where_a_person_replies_depends_on_the_channel() -> None:
    texts = Texts()
    assert texts.where_on(Channel.SMS) == "by text message"
    assert texts.where_on("webchat") == "here in the chat"
    assert texts.where_on("test") == texts.where_on(None) == "here"


def test_a_catalogue_is_replaced_as_a_whole() -> None:
    german = replace(Texts(), waiting="Einen Moment, ein Mitarbeiter kommt gleich.")
    assert german.waiting.startswith("Einen")
    assert german.rephrase == Texts().rephrase
