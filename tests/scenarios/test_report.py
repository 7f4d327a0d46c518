"""``omnibot report --json`` after real conversations: six customers by SMS (signed Twilio
webhooks) and web chat, read by the bundled intent engine, two of them handed to an agent who
claims, replies and resolves, and the report read 73 hours later with exact figures.

The paths (each customer's words checked against the bundled engine, see ``Path``):

1. SMS, answered: one clear question, the answer, nothing more (contained);
2. web chat, asked then answered: a vague message, "say it another way", then a clear one
   (contained);
3. SMS, escalated: asks for a person, an agent claims, replies and resolves; the SMS survey is
   answered "4";
4. web chat, escalated: the same with the survey's button "5";
5. SMS, abandoned: a vague message, "say it another way", and silence;
6. SMS, answered, then the same question again (annoyed) within 72 h: the answer did not help,
   not contained (abandoned: it was never handed to a person).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from bot.desk.actions import HandoffActions
from bot.insight.csat_rules import SurveyTexts
from bot.models import Address
from bot.texts import Texts
from omnibot import report_cli
from omnibot.cli import parser
from omnibot.services import SERVICES, Services
from omnibot.settings import Settings
from tests.conftest import AppFactory
from tests.support.phone import Phone
from tests.support.polling import work_done
from tests.support.twilio_fake import FakeTwilio
from tests.support.webchat_client import Frame, frame, opening

ClientFactory = Any
WebSocket = Any  # aiohttp's client web socket
TEXTS, SURVEY = Texts(), SurveyTexts()
SCORES = ["1", "2", "3", "4", "5"]
SMS_SURVEY = f"{SURVEY.question}\nReply 1-5"
LATER_S = 73 * 3600  # the report is read when every conversation's 72 h have passed
AGENT = "Dana"
PS = ("p50", "p90")
# the answers the paths need (their texts are the catalogue's)
PAYMENT = "We accept Visa, Mastercard"
HOURS = "Sunday 10am-6pm"
DELIVERY = "Standard delivery takes 2-4 working days"
# The customers' words, as customers write them; each read by the bundled engine as its path
# needs: PAYPAL -> payment_methods; OPEN_SUN unsure (best guess store_hours), OPEN_SUNDAY ->
# store_hours; PERSON -> talk_to_human (asked for a person); USELESS -> a problem (best guess
# bot_or_human); ANY_NEWS unsure (best guess complaint); GALWAY and SERIOUSLY -> shipping_times
# (one grumble is no problem report: the second is answered again, not handed over).
PAYPAL = "do u take paypal??"
OPEN_SUN = "u open sun"
OPEN_SUNDAY = "wat time r u open sunday"
PERSON = "can i speak to an actual person pls"
USELESS = "get me a real human this bot is useless"
ANY_NEWS = "any news on that"
GALWAY = "how long does delivery take to galway"
SERIOUSLY = "how many days does delivery take, seriously"
# per intent (a conversation's: its first answer's or hand-off's, never an unsure guess):
# conversations, contained, escalated, abandoned, open, CSAT average and responses
BY_INTENT = {
    "payment_methods": [1, 1, 0, 0, 0, None, 0],
    "store_hours": [1, 1, 0, 0, 0, None, 0],  # the unsure guess, then the answer
    "talk_to_human": [1, 0, 1, 0, 0, 4.0, 1],
    "bot_or_human": [1, 0, 1, 0, 0, 5.0, 1],
    "(none)": [1, 0, 0, 1, 0, None, 0],  # unsure (a guess names no intent), then silence
    "shipping_times": [1, 0, 0, 1, 0, None, 0],  # answered, asked again: did not help
}


def desk(services: Services) -> HandoffActions:
    """The desk's actions, as the Slack desk and the console hold them."""
    return HandoffActions(services.store, services.tickets, services.handoff, services.surveys)


async def served(phone: Phone, *texts: str) -> list[str]:
    """``texts`` sent one by one, each answered before the next; what the phone got back."""
    before = len(phone.received())
    for text in texts:
        await phone.text(text)
        await phone.settle()
    return phone.received()[before:]


async def agent_resolves(app: web.Application, cid: str) -> None:
    """An agent claims the conversation, replies and resolves it (the survey follows)."""
    services = app[SERVICES]
    await desk(services).claim(cid, AGENT)
    await desk(services).reply(cid, AGENT, "Hi, Dana here - how can I help?")
    await desk(services).resolve(cid, AGENT)
    await work_done(app)


async def bot_frame(ws: WebSocket) -> Frame:
    """The next frame the bot sent (echoes, states and agents' frames skipped)."""
    while True:
        found = await frame(ws)
        if found.get("role") == "bot":
            return found


async def webchat_says(ws: WebSocket, text: str) -> Frame:
    """The visitor writes ``text``; the bot's reply to it."""
    await ws.send_json({"type": "message", "text": text})
    return await bot_frame(ws)


async def sms_paths(app: web.Application, client: Any, twilio: FakeTwilio) -> None:
    """Paths 1, 3, 5 and 6, each by its own phone."""
    answered, escalated, abandoned, reopened = (
        Phone(client, app, twilio, f"+1555200000{n}") for n in range(1, 5)
    )
    assert PAYMENT in (await served(answered, PAYPAL))[0]
    assert await served(escalated, PERSON) == [TEXTS.waiting]
    await agent_resolves(app, await escalated.conversation_id())
    assert escalated.received()[-1] == SMS_SURVEY
    assert await served(escalated, "4") == [SURVEY.thanks]
    assert (await served(abandoned, ANY_NEWS))[0].startswith(TEXTS.rephrase)
    first, again = await served(reopened, GALWAY, SERIOUSLY)
    assert [first.startswith(DELIVERY), again.startswith(DELIVERY)] == [True, True]


async def webchat_paths(app: web.Application, client: Any) -> None:
    """Paths 2 and 4, each in its own web chat."""
    async with client.ws_connect("/webchat/ws") as ws:
        await opening(ws)
        assert (await webchat_says(ws, OPEN_SUN))["text"].startswith(TEXTS.rephrase)
        assert HOURS in (await webchat_says(ws, OPEN_SUNDAY))["text"]
    async with client.ws_connect("/webchat/ws") as ws:
        token = (await opening(ws)).token
        assert TEXTS.waiting in (await webchat_says(ws, USELESS))["text"]
        cid = await app[SERVICES].store.customer_for(Address("webchat", token))
        assert cid is not None
        await agent_resolves(app, cid)
        survey = await bot_frame(ws)
        assert (survey["text"], survey["options"]) == (SURVEY.question, SCORES)
        assert (await webchat_says(ws, survey["options"][4]))["text"] == SURVEY.thanks
    await work_done(app)


def report_json(settings: Settings, as_of: float, capsys: pytest.CaptureFixture[str]) -> Any:
    """``omnibot report --json --as-of <as_of>`` run by the command's own function."""
    when = datetime.fromtimestamp(as_of, UTC).isoformat()
    args = parser().parse_args(["report", "--json", "--as-of", when])
    capsys.readouterr()  # what the service logged so far is not the report
    report_cli.run(settings, args)
    return json.loads(capsys.readouterr().out)


def figures(counts: dict[str, Any]) -> list[Any]:
    """A group's conversations, what became of them, and its CSAT."""
    keys = ("conversations", "contained", "escalated", "abandoned", "open")
    return [counts[key] for key in keys] + [counts["csat_average"], counts["csat_responses"]]


async def test_the_report_counts_every_path_exactly(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    sms_settings: dict[str, object],
    twilio_api: FakeTwilio,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    redis_client: aioredis.Redis,
) -> None:
    await redis_client.flushall()  # the report reads every journal: earlier tests' too
    app = make_app(**sms_settings)
    client = await aiohttp_client(app)
    await sms_paths(app, client, twilio_api)
    await webchat_paths(app, client)
    # the command's own event loop, in a thread: this test's loop is the service's
    now = await asyncio.to_thread(report_json, settings, time.time() + 60, capsys)
    assert figures(now) == [6, 0, 2, 0, 4, 4.5, 2]  # the bot's four are open for 72 h
    report = await asyncio.to_thread(report_json, settings, time.time() + LATER_S, capsys)
    assert figures(report) == [6, 2, 2, 2, 0, 4.5, 2]
    assert report["containment_rate"] == 0.3333  # 2 / (2 + 2 + 2)
    times = [report[f"{what}_{p}_s"] for what in ("first_response", "resolution") for p in PS]
    assert None not in times
    assert min(times) >= 0
    # each agent replied before resolving: no resolution came before its first response
    assert [times[0] <= times[2], times[1] <= times[3]] == [True, True]
    channels = {name: figures(counts) for name, counts in report["by_channel"].items()}
    assert channels == {"sms": [4, 1, 1, 2, 0, 4.0, 1], "webchat": [2, 1, 1, 0, 0, 5.0, 1]}
    assert {name: figures(counts) for name, counts in report["by_intent"].items()} == BY_INTENT
    assert (report["by_article"], report["low_confidence"]) == ({}, [])
    assert (report["queue_length"], report["longest_wait_s"]) == (0, None)
