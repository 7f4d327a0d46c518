"""Sending SMS through the fake Twilio API: parts in order, and no second copy of a message
an earlier try may have sent (a timeout, a process that died in flight)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.article import ArticleRef
from bot.contracts import DeliveryError, Unsure
from bot.models import Address, Message, Role
from connectors.sms.connector import SmsSender
from connectors.sms.text import ARTICLE_BODY_CHARS, MAX_BODY_CHARS, split
from connectors.sms.twilio_api import TwilioMessages
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

TO = Address("sms", "+15557654321")
FROM = "+15550000001"


@pytest.fixture
async def sender(twilio_api: FakeTwilio) -> AsyncIterator[SmsSender]:
    """A sender through the fake whose calls give up after 0.2 s."""
    made = SmsSender(
        lambda: TwilioMessages(
            ACCOUNT_SID, AUTH_TOKEN, twilio_api.url, from_number=FROM, timeout_s=0.2
        )
    )
    yield made
    await made.close()


def bodies(fake: FakeTwilio) -> list[str]:
    return [str(m["body"]) for m in fake.created]


async def test_a_send_whose_answer_was_lost_is_not_sent_again(
    twilio_api: FakeTwilio, sender: SmsSender
) -> None:
    message = Message(role=Role.BOT, text="Your order has shipped.")
    started = time.time()
    twilio_api.answer_late(1.0)
    with pytest.raises(DeliveryError) as caught:
        await sender.send(TO, message)
    assert caught.value.maybe_sent
    assert not caught.value.permanent
    sent = await sender.send(TO, message, Unsure(started))
    assert bodies(twilio_api) == ["Your order has shipped."]
    assert sent.vendor_id == twilio_api.created[0]["sid"]


async def test_an_unsure_try_that_never_reached_twilio_sends(
    twilio_api: FakeTwilio, sender: SmsSender
) -> None:
    await sender.send(TO, Message(role=Role.BOT, text="Same words"))
    before = time.time() + 5  # the earlier message was created before the unsure try began
    await sender.send(TO, Message(role=Role.BOT, text="Same words"), Unsure(before))
    assert bodies(twilio_api) == ["Same words", "Same words"]


async def test_messages_already_recorded_are_not_taken_for_the_unsure_one(
    twilio_api: FakeTwilio, sender: SmsSender
) -> None:
    started = time.time()
    first = await sender.send(TO, Message(role=Role.BOT, text="We accept Visa."))
    assert first.vendor_id is not None
    # the same answer again, its try unsure; the first one's SID is recorded, so it is not it
    await sender.send(
        TO,
        Message(role=Role.BOT, text="We accept Visa."),
        Unsure(started, frozenset({first.vendor_id})),
    )
    assert bodies(twilio_api) == ["We accept Visa.", "We accept Visa."]


async def test_other_numbers_messages_do_not_count(
    twilio_api: FakeTwilio, sender: SmsSender
) -> None:
    started = time.time()
    await sender.send(Address("sms", "+15550009999"), Message(role=Role.BOT, text="Hello"))
    await sender.send(TO, Message(role=Role.BOT, text="Hello"), Unsure(started))
    assert [m["to"] for m in twilio_api.created] == ["+15550009999", TO.id]


async def test_no_part_is_sent_twice_after_a_cut(twilio_api: FakeTwilio, sender: SmsSender) -> None:
    text = " ".join(["word"] * (MAX_BODY_CHARS // 5 + 50))  # two parts
    started = time.time()
    twilio_api.answer_late(0)  # the first part is answered at once,
    twilio_api.answer_late(1.0)  # the second's answer never arrives
    with pytest.raises(DeliveryError) as caught:
        await sender.send(TO, Message(role=Role.BOT, text=text))
    assert caught.value.maybe_sent
    assert len(twilio_api.created) == 2
    sent = await sender.send(TO, Message(role=Role.BOT, text=text), Unsure(started))
    assert len(twilio_api.created) == 2
    assert sent.parts == 2
    assert sent.vendor_id == twilio_api.created[0]["sid"]


async def test_a_part_twilio_lacks_is_sent_after_a_cut(
    twilio_api: FakeTwilio, sender: SmsSender
) -> None:
    text = " ".join(["word"] * (MAX_BODY_CHARS // 5 + 50))  # two parts
    started = time.time()
    twilio_api.fail_next(429)  # (429: Twilio refused the first part outright)
    with pytest.raises(DeliveryError) as caught:
        await sender.send(TO, Message(role=Role.BOT, text=text))
    assert not caught.value.maybe_sent
    twilio_api.answer_late(0)
    twilio_api.answer_late(1.0)
    with pytest.raises(DeliveryError):
        await sender.send(TO, Message(role=Role.BOT, text=text), Unsure(started))
    twilio_api.created.pop()  # as if the second part never reached Twilio
    await sender.send(TO, Message(role=Role.BOT, text=text), Unsure(started))
    assert len(twilio_api.created) == 2
    assert [len(b) for b in bodies(twilio_api)] == [len(p) for p in split(text)]


async def test_a_lookup_twilio_refuses_is_a_transient_failure(
    twilio_api: FakeTwilio, sender: SmsSender
) -> None:
    twilio_api.failing = True
    with pytest.raises(DeliveryError) as caught:
        await sender.send(TO, Message(role=Role.BOT, text="Hi"), Unsure(time.time()))
    assert not caught.value.permanent
    assert twilio_api.calls == []  # nothing created while the lookup failed


async def test_options_go_out_numbered(twilio_api: FakeTwilio, sender: SmsSender) -> None:
    asked = Message(role=Role.BOT, text="Anything else?", options=("Yes", "No"))
    await sender.send(TO, asked)
    assert bodies(twilio_api) == ["Anything else?\n1. Yes\n2. No"]


async def test_a_rating_goes_out_as_reply_1_to_5(twilio_api: FakeTwilio, sender: SmsSender) -> None:
    survey = Message(role=Role.BOT, text="How did we do?", options=("1", "2", "3", "4", "5"))
    await sender.send(TO, survey)
    assert bodies(twilio_api) == ["How did we do?\nReply 1-5"]


async def test_an_answer_from_an_article_goes_out_trimmed_with_its_link(
    twilio_api: FakeTwilio, sender: SmsSender
) -> None:
    care = ArticleRef("care", "Caring for merino", "https://help.example.com/care", 0.9)
    passage = "Wash merino cold, by hand or on a wool cycle. " * 12
    answer = Message(role=Role.BOT, text=passage.strip(), article=care)
    sent = await sender.send(TO, answer)
    (body,) = bodies(twilio_api)
    assert len(body) <= ARTICLE_BODY_CHARS
    assert body.endswith("\nCaring for merino: https://help.example.com/care")
    assert body.startswith("Wash merino cold, by hand or on a wool cycle. Wash")
    assert sent.encoding == "gsm7"
    assert sent.segments <= 3
