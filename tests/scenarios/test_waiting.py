"""Point 7 with the real intent engine: a customer handed to the team is never left in silence,
and input the bot cannot read (emoji, another language, long pastes, e-mail threads) still gets
a sensible reply."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from bot.core import build_core
from bot.metrics import Metrics
from bot.models import Address, InboundMessage, State, new_id
from bot.pipeline.text_answers import OTHER_LANGUAGE_REASON
from bot.texts import Texts
from connectors.console.log_desk import LogDesk
from omnibot.engine import Intents
from tests.core import handle
from tests.support.fakes import RecordingConnector, SettledOutbox

TEXTS = Texts()
JO = Address("test", "jo")

EMAIL_THREAD = """hi, see below, still nothing

-----Original Message-----
From: orders@shop.example
Sent: Monday, 2 November 2026 10:14
To: jo.mills@example.com
Subject: Your order #48213 has shipped

Dear Jo,
Thank you for your order. Your parcel is on its way with our courier and should arrive in
3-5 working days.
Kind regards, The Shop team

> On 30 Oct 2026, Jo wrote:
> i still havent got it whats going on"""

RANT = (
    "ok so i ordered a jacket three weeks ago and it said it would arrive tuesday and then the "
    "tracking just stopped updating and i rang the courier and they said they never got it "
)


class Customer:
    """One customer talking to a core with the real intents, a recording channel, a log desk."""

    def __init__(self, client: aioredis.Redis, intents: Intents) -> None:
        self.connector = RecordingConnector()
        self.core = build_core(
            client,
            classifier=intents.classifier,
            responder=intents.responder,
            desk=LogDesk(),
            senders={self.connector.channel: self.connector},
            metrics=Metrics(),
            outbox_type=SettledOutbox,
        )

    async def says(self, text: str) -> list[str]:
        """What the bot said in reply to ``text`` (nothing: silence)."""
        before = len(self.connector.sent)
        await handle(self.core.dispatcher, InboundMessage(JO, text, dedup_id=new_id()))
        return [message.text for _, message in self.connector.sent[before:]]

    async def state(self) -> State:
        store = self.core.store
        return (await store.load(await store.resolve(JO))).state


@pytest.fixture
def jo(redis_client: aioredis.Redis, intents: Intents) -> Customer:
    return Customer(redis_client, intents)


async def test_a_complaint_is_passed_on_once_and_the_next_message_is_acknowledged(
    jo: Customer,
) -> None:
    told = await jo.says("honestly the worst service ive ever had, im making a formal complaint")
    assert len(told) == 1
    assert told[0].count("passing you to") == 1, told[0]
    assert await jo.state() is State.WAITING
    assert await jo.says("hello?? how long is this going to take") == [
        TEXTS.queued.format(place=1, wait="")
    ]
    assert await jo.says("i need it for saturday") == []  # told a moment ago; the ticket has it


async def test_emoji_only_gets_asked_what_it_needs(jo: Customer) -> None:
    assert await jo.says("👍") == [TEXTS.no_words]
    assert await jo.says("😡😡😡") == [TEXTS.no_words]
    assert await jo.state() is State.BOT


async def test_another_language_is_offered_a_person_and_yes_gets_one(jo: Customer) -> None:
    assert await jo.says("Bonjour, où est ma commande? je l'attends depuis 2 semaines") == [
        TEXTS.other_language
    ]
    await jo.says("yes please")
    conversation = await jo.core.store.load(await jo.core.store.resolve(JO))
    assert conversation.state is State.WAITING
    assert conversation.escalation is not None


async def test_a_second_message_in_another_language_gets_a_person(jo: Customer) -> None:
    assert await jo.says("¿Dónde está mi pedido? Lo compré hace dos semanas") == [
        TEXTS.other_language
    ]
    assert await jo.says("no entiendo nada, necesito ayuda con mi pedido") == [TEXTS.waiting]
    conversation = await jo.core.store.load(await jo.core.store.resolve(JO))
    assert conversation.escalation is not None
    assert conversation.escalation.reason == OTHER_LANGUAGE_REASON


async def test_a_2000_character_paste_and_an_email_thread_get_an_answer(jo: Customer) -> None:
    paste = (RANT * 20)[:2000]
    for text in (paste, EMAIL_THREAD):
        told = await jo.says(text)
        assert told, text[:30]  # never silence
        assert all(t.strip() for t in told)
        assert TEXTS.other_language not in told
        assert TEXTS.no_words not in told
