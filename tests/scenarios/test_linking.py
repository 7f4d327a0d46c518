"""One customer across channels, end to end: a web visitor links their phone by a texted code
and carries on by SMS; an SMS customer opens the web chat with a texted link; merging with an
open ticket and open sockets; unlinking; wrong, reused and guessed codes and links."""

from __future__ import annotations

import itertools
import re
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from bot.identity.link_base import masked
from bot.identity.texts import LinkingTexts
from bot.identity.verification import MAX_TRIES, Identity
from bot.models import Address, Channel, Role, State
from bot.texts import Texts
from connectors.console.log_desk import LogDesk
from omnibot.services import SERVICES
from tests.conftest import PUBLIC_URL, SHOP_NUMBER, AppFactory
from tests.support.phone import CUSTOMER, Phone
from tests.support.twilio_fake import FakeTwilio
from tests.support.webchat_client import Frame, frame, opening

ClientFactory = Any
_ids = itertools.count(1)
CODE_ENTERED = LinkingTexts().code_entered
OTHER_PHONE = "+15550001111"

TEXTS = Texts()


class Visitor:
    """A web chat visitor on one socket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, token: str) -> None:
        self.ws, self.token = ws, token

    async def say(self, text: str) -> str:
        """Send ``text``; the bot's answer."""
        await self.ws.send_json({"type": "message", "id": f"m{next(_ids)}", "text": text})
        return str((await self.next_from(Role.BOT))["text"])

    async def next_from(self, role: Role) -> Frame:
        """The next message frame from ``role`` (other frames skipped)."""
        while True:
            got = await frame(self.ws)
            if got["type"] == "message" and got["role"] == role.value:
                return got


@pytest.fixture
def app(make_app: AppFactory, sms_settings: dict[str, object]) -> web.Application:
    return make_app(**sms_settings)


@pytest.fixture
async def client(aiohttp_client: ClientFactory, app: web.Application) -> Any:
    return await aiohttp_client(app)


@pytest.fixture
def phone(client: Any, app: web.Application, twilio_api: FakeTwilio) -> Phone:
    return Phone(client, app, twilio_api)


def code_in(phone: Phone) -> str:
    """The code the last text to ``phone`` carried."""
    found = re.search(r"\b(\d{6})\b", phone.received()[-1])
    assert found is not None, phone.received()
    return found.group(1)


async def link_phone(visitor: Visitor, phone: Phone) -> str:
    """Ask to continue by SMS, give the number, type the texted code; the last answer."""
    assert "mobile number" in await visitor.say("Continue by SMS")
    assert "texted a 6-digit code" in await visitor.say("+1 (555) 765-4321")
    await phone.settle()
    return await visitor.say(code_in(phone))


async def web_cid(app: web.Application, token: str) -> str:
    cid = await app[SERVICES].store.customer_for(Address(Channel.WEBCHAT, token))
    assert cid is not None
    return cid


async def test_a_visitor_links_their_phone_and_carries_on_by_sms(
    client: Any, app: web.Application, phone: Phone
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        visitor = Visitor(ws, token)
        await visitor.say("how do I return an item?")
        linked = await link_phone(visitor, phone)
        assert f"{masked(CUSTOMER)} is linked" in linked
        assert SHOP_NUMBER in linked
        cid = await web_cid(app, token)
        assert await app[SERVICES].store.customer_for(Address("sms", CUSTOMER)) == cid
        linked_customer = await app[SERVICES].store.customer(cid)
        assert (linked_customer.phone, linked_customer.ip) == (CUSTOMER, "127.0.0.1")
        texted_code = code_in(phone)
        await phone.text("did you get my return request?")
        await phone.settle()
        # the open web chat sees the SMS and its answer, in the same conversation
        seen = await visitor.next_from(Role.CUSTOMER)
        assert (seen["text"], seen["channel"]) == ("did you get my return request?", "sms")
        note = await visitor.next_from(Role.BOT)
        answer = await visitor.next_from(Role.BOT)
    # the first text is told where the web chat stood, once
    assert phone.received()[-2] == note["text"]
    assert phone.received()[-1].startswith(answer["text"])  # SMS adds its numbered options
    assert (
        note["text"] == 'Carrying on from our web chat, where you wrote: "how do I return an item?"'
    )
    await phone.text("thanks")
    await phone.settle()
    assert not any("Carrying on" in text for text in phone.received()[-1:])
    history = (await app[SERVICES].store.load(cid)).messages
    customer = [(m.text, m.channel) for m in history if m.role is Role.CUSTOMER]
    assert customer == [
        ("how do I return an item?", Channel.WEBCHAT),
        ("Continue by SMS", Channel.WEBCHAT),
        ("+1 (555) 765-4321", Channel.WEBCHAT),
        (CODE_ENTERED, Channel.WEBCHAT),  # a placeholder: the history never holds the code
        ("did you get my return request?", "sms"),
        ("thanks", "sms"),
    ]
    # the code went to the phone only: no message in the history carries it
    assert not any(texted_code in m.text for m in history)
    # escalated now, the agent's ticket holds both channels' messages in order, marked
    await phone.text("I want to talk to a human")
    await phone.settle()
    desk = app[SERVICES].desk
    assert isinstance(desk, LogDesk)
    [transcript] = desk.tickets.values()
    said = [(m.text, m.channel) for m in transcript if m.role is Role.CUSTOMER]
    assert said == [*customer, ("I want to talk to a human", "sms")]
    text = await (await client.get("/metrics")).text()
    assert 'omnibot_link_codes_total{result="sent"} 1.0' in text
    assert 'omnibot_links_total{channel="sms",merged="false"} 1.0' in text
    assert "omnibot_multichannel_conversations_total 1.0" in text


async def test_wrong_codes_never_link_and_the_fifth_voids_the_code(
    client: Any, app: web.Application, phone: Phone
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        visitor = Visitor(ws, token)
        assert "mobile number" in await visitor.say("text me instead")
        await visitor.say("+15557654321")
        await phone.settle()
        right = code_in(phone)
        wrong = f"{(int(right) + 1) % 10**6:06d}"
        answers = [await visitor.say(wrong) for _ in range(MAX_TRIES)]
        assert "4 more tries left" in answers[0]
        assert "1 more try left" in answers[3]
        assert "no longer works" in answers[-1]
        await visitor.say(right)  # too late: no code is pending, it is read as a message
    assert await app[SERVICES].store.customer_for(Address("sms", CUSTOMER)) is None


async def test_a_number_typed_in_a_message_links_nobody(
    client: Any, app: web.Application, phone: Phone
) -> None:
    await phone.text("hello")
    await phone.settle()
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        await Visitor(ws, token).say("my number is +1 555 765 4321, I'm Ann")
    assert await app[SERVICES].store.customer_for(Address("sms", CUSTOMER)) != await web_cid(
        app, token
    )


async def test_an_sms_customer_opens_the_web_chat_with_a_texted_link_once(
    client: Any, app: web.Application, phone: Phone
) -> None:
    await phone.text("where is my order?")
    await phone.text("please continue on the web")
    await phone.settle()
    found = re.search(r"\?continue=([A-Za-z0-9_-]+)", phone.received()[-1])
    assert found is not None
    assert phone.received()[-1].startswith("Continue our conversation on the web")
    assert f"{PUBLIC_URL}/?continue=" in phone.received()[-1]
    link = found.group(1)
    cid = await phone.conversation_id()
    stored = [m.text for m in (await app[SERVICES].store.load(cid)).messages]
    assert not any(link in text for text in stored)  # the history keeps a note, not the link
    async with client.ws_connect(f"/webchat/ws?continue={link}") as ws:
        token, messages, _ = await opening(ws)
        assert [m["text"] for m in messages][:3] == stored[:3]
        assert await frame(ws) == {"type": "link_opened", "phone_hint": "…4321"}
        await Visitor(ws, token).say("hello")
    assert await web_cid(app, token) == cid
    async with client.ws_connect(f"/webchat/ws?token={token}") as ws:  # a normal session now
        again, _, _ = await opening(ws)
    assert again == token
    async with client.ws_connect(f"/webchat/ws?continue={link}") as ws:  # used: void
        other, _, _ = await opening(ws)
        refused = await frame(ws)
    assert (refused["type"], refused["code"]) == ("error", "link_invalid")
    assert await web_cid(app, other) != cid


@pytest.mark.parametrize("link", ["x" * 32, "../../etc/passwd", "%00", "a" * 500])
async def test_guessed_or_malformed_links_open_nothing(
    client: Any, app: web.Application, phone: Phone, link: str
) -> None:
    await phone.text("hello")
    await phone.settle()
    async with client.ws_connect("/webchat/ws", params={"continue": link}) as ws:
        token, messages, _ = await opening(ws)
        refused = await frame(ws)
    assert refused["code"] == "link_invalid"
    assert messages == []
    assert await web_cid(app, token) != await phone.conversation_id()


async def test_merging_into_an_open_ticket_keeps_sockets_working(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    sms_settings: dict[str, object],
    twilio_api: FakeTwilio,
) -> None:
    desk = LogDesk()
    app = make_app(desk=desk, **sms_settings)
    client = await aiohttp_client(app)
    phone = Phone(client, app, twilio_api)
    await phone.text("I want to talk to a human")
    await phone.settle()
    assert phone.received()[-1].endswith(TEXTS.waiting)
    sms_cid = await phone.conversation_id()
    [ticket] = desk.tickets
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        visitor = Visitor(ws, token)
        await visitor.say("how do I return an item?")
        assert "mobile number" in await visitor.say("Continue by SMS")
        await visitor.say("+15557654321")
        await phone.settle()
        await ws.send_json({"type": "message", "id": "code", "text": code_in(phone)})
        # the merge asks the socket to resync: it closes with 1013 and the widget reconnects
        while (got := await ws.receive()).type is aiohttp.WSMsgType.TEXT:
            pass
        assert got.type is aiohttp.WSMsgType.CLOSE
        assert got.data == 1013
    await phone.settle()
    async with client.ws_connect(f"/webchat/ws?token={token}") as ws:
        again, messages, state = await opening(ws)
        assert state == State.WAITING.value  # the open escalation wins
        texts = [m["text"] for m in messages]
        assert texts.index("I want to talk to a human") < texts.index("how do I return an item?")
        assert "is linked" in texts[-1]
        await ws.send_json({"type": "message", "id": "after", "text": "any news?"})
        await Visitor(ws, again).next_from(Role.CUSTOMER)
    await phone.settle()
    assert await web_cid(app, token) == sms_cid
    assert "any news?" in [m.text for m in desk.tickets[ticket]]  # the ticket hears the web too


async def test_stop_texting_me_unlinks_the_phone_and_keeps_the_history(
    client: Any, app: web.Application, phone: Phone
) -> None:
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        visitor = Visitor(ws, token)
        await link_phone(visitor, phone)
        answer = await visitor.say("please stop texting me here")
        assert f"won't text {masked(CUSTOMER)}" in answer
    cid = await web_cid(app, token)
    assert await app[SERVICES].store.customer_for(Address("sms", CUSTOMER)) is None
    assert Address("sms", CUSTOMER) not in (await app[SERVICES].store.customer(cid)).addresses
    assert len((await app[SERVICES].store.load(cid)).messages) > 6


async def test_a_visitor_waiting_for_an_agent_switches_to_sms_and_the_agent_follows(
    client: Any, app: web.Application, phone: Phone
) -> None:
    services = app[SERVICES]
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        visitor = Visitor(ws, token)
        assert TEXTS.waiting in await visitor.say("I want to talk to a human")
        assert "is linked" in await link_phone(visitor, phone)
    cid = await web_cid(app, token)
    assert (await services.store.load(cid)).state is State.WAITING
    await phone.text("I'm on my phone now")
    await phone.settle()
    await services.handoff.agent_reply(cid, "Dana", "Hi, Dana here. Got it.")
    await phone.settle()
    assert phone.received()[-1] == "Hi, Dana here. Got it."  # the channel they used last
    desk = services.desk
    assert isinstance(desk, LogDesk)
    [transcript] = desk.tickets.values()
    said = [m.text for m in transcript if m.role is Role.CUSTOMER]
    assert said[0] == "I want to talk to a human"
    assert said[1:3] == ["Continue by SMS", "+1 (555) 765-4321"]
    assert said[-1] == "I'm on my phone now"


async def test_stop_texting_me_by_sms_moves_replies_to_the_web_chat(
    client: Any, app: web.Application, phone: Phone
) -> None:
    services = app[SERVICES]
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        await link_phone(Visitor(ws, token), phone)
    cid = await web_cid(app, token)
    await phone.text("please stop texting me here")
    await phone.settle()
    assert phone.received()[-1].startswith(f"Done: we won't text {masked(CUSTOMER)}")
    texts_before = len(phone.received())
    await services.handoff.agent_reply(cid, "Dana", "Following up here.")
    await phone.settle()
    assert len(phone.received()) == texts_before  # nothing more by text
    assert (await services.store.load(cid)).last_address == Address(Channel.WEBCHAT, token)


async def test_an_sms_only_customer_is_pointed_to_stop(phone: Phone) -> None:
    await phone.text("stop texting me")
    await phone.settle()
    assert phone.received()[-1].endswith("To stop all texts from us, reply STOP.")
    assert await phone.conversation_id()  # still their number


async def texted_link(phone: Phone) -> str:
    """Ask by SMS to continue on the web; the link's token."""
    await phone.text("please continue on the web")
    await phone.settle()
    found = re.search(r"\?continue=([A-Za-z0-9_-]+)", phone.received()[-1])
    assert found is not None
    return found.group(1)


async def own_session(client: Any) -> str:
    """A visitor's own web chat session with one message in it; its token."""
    async with client.ws_connect("/webchat/ws") as ws:
        token, _, _ = await opening(ws)
        await Visitor(ws, token).say("do you sell gift cards?")
    return token


async def test_a_link_never_switches_a_visitor_who_has_a_conversation(
    client: Any, app: web.Application, phone: Phone
) -> None:
    link = await texted_link(phone)
    mine = await own_session(client)
    async with client.ws_connect(f"/webchat/ws?token={mine}&continue={link}") as ws:
        token, messages, _ = await opening(ws)
        offer = await frame(ws)
        await Visitor(ws, token).say("hello from my own chat")
    assert token == mine
    assert messages[0]["text"] == "do you sell gift cards?"
    assert offer == {"type": "link_offer", "phone_hint": "…4321"}
    # nothing the visitor typed reached the link holder's conversation
    sms_cid = await phone.conversation_id()
    assert await web_cid(app, mine) != sms_cid
    held = [m.text for m in (await app[SERVICES].store.load(sms_cid)).messages]
    assert "hello from my own chat" not in held
    assert Channel.WEBCHAT not in {
        a.channel for a in (await app[SERVICES].store.customer(sms_cid)).addresses
    }
    # the link was only offered: its holder can still open it
    async with client.ws_connect(f"/webchat/ws?continue={link}") as ws:
        holder, _, _ = await opening(ws)
        assert (await frame(ws))["type"] == "link_opened"
    assert await web_cid(app, holder) == sms_cid


async def test_a_visitor_switches_only_when_they_confirm(
    client: Any, app: web.Application, phone: Phone
) -> None:
    link = await texted_link(phone)
    mine = await own_session(client)
    mine_cid = await web_cid(app, mine)
    query = f"token={mine}&continue={link}&confirm=1"
    async with client.ws_connect(f"/webchat/ws?{query}") as ws:
        switched, messages, _ = await opening(ws)
        opened = await frame(ws)
    assert switched != mine
    assert opened == {"type": "link_opened", "phone_hint": "…4321"}
    assert await web_cid(app, switched) == await phone.conversation_id()
    assert "please continue on the web" in [m["text"] for m in messages]
    assert await web_cid(app, mine) == mine_cid  # their own conversation is left as it was
    async with client.ws_connect(f"/webchat/ws?{query}") as ws:  # the link is used up
        again, _, _ = await opening(ws)
        assert (await frame(ws))["code"] == "link_invalid"
    assert again == mine


async def test_the_holders_own_session_opens_a_second_link_without_asking(
    client: Any, app: web.Application, phone: Phone
) -> None:
    async with client.ws_connect(f"/webchat/ws?continue={await texted_link(phone)}") as ws:
        token, _, _ = await opening(ws)
        assert (await frame(ws))["type"] == "link_opened"
    link = await texted_link(phone)
    async with client.ws_connect(f"/webchat/ws?token={token}&continue={link}") as ws:
        again, _, _ = await opening(ws)
        assert await frame(ws) == {"type": "link_opened", "phone_hint": "…4321"}
    assert again == token
    async with client.ws_connect(f"/webchat/ws?continue={link}") as ws:  # used
        await opening(ws)
        assert (await frame(ws))["code"] == "link_invalid"


async def test_a_chat_a_link_opened_never_links_another_phone(
    client: Any, app: web.Application, phone: Phone, twilio_api: FakeTwilio
) -> None:
    link = await texted_link(phone)
    other = Phone(client, app, twilio_api, OTHER_PHONE)
    await other.text("my own order question")
    await other.settle()
    texts_before = len(twilio_api.sent)
    async with client.ws_connect(f"/webchat/ws?continue={link}") as ws:
        token, _, _ = await opening(ws)
        visitor = Visitor(ws, token)
        refused = await visitor.say("Continue by SMS")
        assert refused.startswith(f"This chat was opened from a link texted to {masked(CUSTOMER)}")
        # a number typed now is just a message: no code is sent to it
        await visitor.say(OTHER_PHONE)
    await phone.settle()
    assert len(twilio_api.sent) == texts_before
    sms_cid = await phone.conversation_id()
    assert await other.conversation_id() != sms_cid
    assert (
        Address("sms", OTHER_PHONE) not in (await app[SERVICES].store.customer(sms_cid)).addresses
    )


async def test_a_phone_asked_for_before_a_link_opened_the_chat_is_refused_at_the_code(
    client: Any, app: web.Application, phone: Phone, redis_client: aioredis.Redis
) -> None:
    """The number was asked for on the web before a link opened the same conversation: the
    phone is still checked against the link's when the code is typed."""
    link = await texted_link(phone)
    async with client.ws_connect(f"/webchat/ws?continue={link}") as ws:
        token, _, _ = await opening(ws)
    services = app[SERVICES]
    cid = await web_cid(app, token)
    await services.store.record(cid, meta={"expect": "link:code"})
    code = await Identity(redis_client).issue_code(cid, OTHER_PHONE)
    async with client.ws_connect(f"/webchat/ws?token={token}") as ws:
        refused = await Visitor(ws, token).say(code)
    assert refused.startswith("This chat was opened from a link")
    assert await services.store.customer_for(Address("sms", OTHER_PHONE)) is None
