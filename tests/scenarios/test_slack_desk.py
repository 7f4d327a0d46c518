"""Agents in Slack: escalations arrive with the history, replies reach the customer's channel.

Slack is the fake Web API of tests/support/slack_fake.py reached by the real slack_sdk client; every
event and button click is signed with slack_sdk's own ``SignatureVerifier``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web

from bot.contracts import AgentOutcome
from bot.desk.actions import agent_text
from bot.insight.csat_rules import SurveyTexts
from bot.models import Address, State
from bot.storage.embedded import free_port
from bot.texts import Texts
from omnibot.services import SERVICES
from tests.conftest import PUBLIC_URL, AppFactory
from tests.support.polling import wait_until
from tests.support.slack_fake import (
    AGENT_DISPLAY_NAME,
    AGENT_ID,
    APP_TOKEN,
    DESK_CHANNEL,
    FakeSlack,
    block_action,
    bot_message_event,
    form_body,
    message_event,
    new_event_id,
    signed_headers,
)
from tests.support.twilio_fake import FakeTwilio, inbound_form, signature
from tests.support.webchat_client import Frame, frame, opening

ClientFactory = Any
SECOND_AGENT = "U0AGENT002"

TEXTS = Texts()
SURVEY = SurveyTexts()


class Desk:
    """The Slack side of a test: the fake Web API and signed requests to /slack/events."""

    def __init__(self, client: Any, app: web.Application, slack: FakeSlack) -> None:
        self.client, self.app, self.slack = client, app, slack

    async def event(
        self,
        payload: dict[str, Any],
        retry: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> int:
        body = json.dumps(payload)
        sent = headers if headers is not None else signed_headers(body)
        if retry is not None:
            sent = {**sent, "X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "timeout"}
        response = await self.client.post("/slack/events", data=body, headers=sent)
        return int(response.status)

    async def reply(
        self,
        thread: str,
        text: str,
        user: str = AGENT_ID,
        event_id: str | None = None,
        retry: int | None = None,
    ) -> int:
        return await self.event(
            message_event(DESK_CHANNEL, thread, user, text, event_id=event_id), retry=retry
        )

    async def click(self, action: str, cid: str, parent: str, user: str = AGENT_ID) -> int:
        body = form_body(block_action(action, cid, user_id=user, message_ts=parent))
        response = await self.client.post("/slack/events", data=body, headers=signed_headers(body))
        return int(response.status)

    def parents(self) -> list[str]:
        """The ts of every ticket (parent message) in the escalation channel, oldest first."""
        return [
            ts
            for (channel, ts), message in self.slack.messages.items()
            if channel == DESK_CHANNEL and not message.get("thread_ts")
        ]

    async def parent(self) -> str:
        """The newest ticket's ts, once there is one."""
        await wait_until(lambda: bool(self.parents()), 15, "a ticket in the escalation channel")
        return self.parents()[-1]

    def thread(self, parent: str) -> str:
        """The blocks posted in the ticket's thread (what agents read), as JSON text."""
        return "\n".join(json.dumps(p["blocks"]) for p in self.slack.posts(DESK_CHANNEL, parent))


@pytest.fixture
def app(make_app: AppFactory, slack_settings: dict[str, object]) -> web.Application:
    return make_app(desk=None, **slack_settings)


@pytest.fixture
async def desk(aiohttp_client: ClientFactory, app: web.Application, slack_api: FakeSlack) -> Desk:
    slack_api.add_user(SECOND_AGENT, "Sam Vimes", "Sam")
    return Desk(await aiohttp_client(app), app, slack_api)


async def visitor_escalates(desk: Desk) -> tuple[aiohttp.ClientWebSocketResponse, str, str]:
    """A web chat visitor asks something, then for a person: the socket, cid, parent ts."""
    ws = await desk.client.ws_connect("/webchat/ws")
    token, _, _ = await opening(ws)
    await ws.send_json({"type": "message", "text": "where is my order?"})
    await frame(ws), await frame(ws)
    await ws.send_json({"type": "message", "text": "I want to talk to a human"})
    await until_state(ws, "waiting")
    cid = await desk.app[SERVICES].store.customer_for(Address("webchat", token))
    assert cid is not None
    return ws, cid, await desk.parent()


async def until_state(ws: aiohttp.ClientWebSocketResponse, state: str) -> list[Frame]:
    seen = []
    while True:
        seen.append(await frame(ws))
        if seen[-1] == {"type": "state", "state": state}:
            return seen


async def next_message(ws: aiohttp.ClientWebSocketResponse) -> Frame:
    while (item := await frame(ws))["type"] != "message":
        pass
    return item


async def test_an_escalation_opens_a_ticket_with_the_whole_history(desk: Desk) -> None:
    ws, cid, parent = await visitor_escalates(desk)
    await ws.close()
    [ticket] = [p for p in desk.slack.posts(DESK_CHANNEL) if not p.get("thread_ts")]
    shown = json.dumps(ticket["blocks"])
    assert "Web chat" in shown
    assert "talk_to_human" in shown or "asked for a person" in shown.lower()
    for action in ("omnibot_claim", "omnibot_resolve", "omnibot_back_to_bot"):
        assert action in shown
    # the transcript follows its parent message
    await wait_until(lambda: "talk to a human" in desk.thread(parent), 10, "the transcript")
    thread = desk.thread(parent)
    assert thread.index("where is my order?") < thread.index("I want to talk to a human")
    tickets = desk.app[SERVICES].tickets
    assert await tickets.conversation_of_ticket(f"{DESK_CHANNEL}:{parent}") == cid


async def test_an_agents_thread_reply_reaches_the_visitor_once(desk: Desk) -> None:
    ws, cid, parent = await visitor_escalates(desk)
    event_id = new_event_id()
    assert await desk.reply(parent, "Hi, Dana here. Let me look.", event_id=event_id) == 200
    joined = await next_message(ws)
    assert (joined["role"], joined["text"]) == (
        "system",
        TEXTS.joined.format(agent=AGENT_DISPLAY_NAME),
    )
    answer = await next_message(ws)
    assert (answer["role"], answer["author"], answer["text"]) == (
        "agent",
        AGENT_DISPLAY_NAME,
        "Hi, Dana here. Let me look.",
    )
    assert (
        await desk.reply(parent, "Hi, Dana here. Let me look.", event_id=event_id, retry=1) == 200
    )
    await ws.send_json({"type": "message", "text": "It was order 100234"})
    echo = await next_message(ws)
    assert echo["text"] == "It was order 100234"
    await wait_until(
        lambda: "It was order 100234" in desk.thread(parent),
        10,
        "the visitor's message in the thread",
    )
    history = (await desk.app[SERVICES].store.load(cid)).messages
    assert [m.text for m in history].count("Hi, Dana here. Let me look.") == 1
    assert (await desk.app[SERVICES].store.load(cid)).state is State.AGENT
    await ws.close()


@pytest.mark.parametrize("forgery", ["unsigned", "wrong secret", "stale"])
async def test_forged_events_reach_nobody(desk: Desk, forgery: str) -> None:
    ws, cid, parent = await visitor_escalates(desk)
    payload = message_event(DESK_CHANNEL, parent, AGENT_ID, "forged words")
    body = json.dumps(payload)
    headers = {
        "unsigned": {"Content-Type": "application/json"},
        "wrong secret": signed_headers(body, secret="not-the-secret"),
        "stale": signed_headers(body, timestamp=int(time.time()) - 6 * 60),
    }[forgery]
    assert await desk.event(payload, headers=headers) == 401
    history = (await desk.app[SERVICES].store.load(cid)).messages
    assert "forged words" not in [m.text for m in history]
    await ws.close()


async def test_notes_and_bot_messages_stay_in_slack(desk: Desk) -> None:
    ws, cid, parent = await visitor_escalates(desk)
    assert await desk.reply(parent, "note: customer sounds upset") == 200
    assert await desk.event(bot_message_event(DESK_CHANNEL, parent, "our own post")) == 200
    assert await desk.reply(parent, "Hello!") == 200
    await wait_until(_has_agent_message(desk, cid), 10, "the agent's reply")
    texts = [m.text for m in (await desk.app[SERVICES].store.load(cid)).messages]
    assert "note: customer sounds upset" not in texts
    assert "our own post" not in texts
    await ws.close()


def _has_agent_message(desk: Desk, cid: str) -> Any:
    async def check() -> bool:
        messages = (await desk.app[SERVICES].store.load(cid)).messages
        return any(m.role.value == "agent" for m in messages)

    return check


def _has_text(desk: Desk, cid: str, text: str) -> Any:
    async def check() -> bool:
        messages = (await desk.app[SERVICES].store.load(cid)).messages
        return any(m.text == text for m in messages)

    return check


async def test_claim_resolve_and_a_closed_thread(desk: Desk) -> None:
    ws, cid, parent = await visitor_escalates(desk)
    store = desk.app[SERVICES].store
    assert await desk.click("omnibot_claim", cid, parent) == 200
    await wait_until(lambda: bool(desk.slack.updates()), 10, "the parent's update")
    assert "Claimed by Dana" in json.dumps(desk.slack.updates()[-1]["blocks"])
    assert (await store.load(cid)).state is State.AGENT
    assert await desk.click("omnibot_claim", cid, parent, user=SECOND_AGENT) == 200
    await wait_until(lambda: bool(desk.slack.ephemerals()), 10, "an ephemeral answer")
    assert desk.slack.ephemerals()[-1]["text"] == agent_text(
        None, AgentOutcome.TAKEN, agent=AGENT_DISPLAY_NAME
    )
    assert desk.slack.ephemerals()[-1]["user"] == SECOND_AGENT
    assert await desk.click("omnibot_resolve", cid, parent) == 200
    await until_state(ws, "bot")
    # the satisfaction survey follows the resolve notice in its own write: wait for both
    await wait_until(_has_text(desk, cid, SURVEY.question), 10, "the survey")
    texts = [m.text for m in (await store.load(cid)).messages]
    assert texts[-2:] == [TEXTS.resolved.format(agent=AGENT_DISPLAY_NAME), SURVEY.question]
    await wait_until(lambda: len(desk.slack.updates()) == 2, 10, "the resolved update")
    assert "Resolved by Dana" in json.dumps(desk.slack.updates()[-1]["blocks"])
    assert await desk.reply(parent, "one more thing") == 200
    await wait_until(lambda: len(desk.slack.ephemerals()) == 2, 10, "the closed note")
    assert desk.slack.ephemerals()[-1]["text"] == agent_text(None, AgentOutcome.CLOSED)
    assert "one more thing" not in [m.text for m in (await store.load(cid)).messages]
    await ws.close()


async def test_a_button_on_someone_elses_message_does_nothing(desk: Desk) -> None:
    ws, cid, _ = await visitor_escalates(desk)
    assert await desk.click("omnibot_claim", cid, "1111111111.000100") == 200
    await wait_until(lambda: bool(desk.slack.ephemerals()), 10, "an ephemeral answer")
    assert (await desk.app[SERVICES].store.load(cid)).state is State.WAITING
    await ws.close()


async def test_a_slack_outage_delays_the_ticket_but_loses_nothing(desk: Desk) -> None:
    desk.slack.down = True
    ws = await desk.client.ws_connect("/webchat/ws")
    await opening(ws)
    await ws.send_json({"type": "message", "text": "I want to talk to a human"})
    await until_state(ws, "waiting")
    await ws.send_json({"type": "message", "text": "hello?"})
    await next_message(ws)
    assert desk.slack.posts() == []
    desk.slack.down = False
    parent = await desk.parent()  # the sweeper retries within seconds
    await wait_until(lambda: "hello?" in desk.thread(parent), 15, "the queued message")
    thread = desk.thread(parent)
    assert thread.index("I want to talk to a human") < thread.index("hello?")
    assert thread.count("hello?") == 1
    await ws.close()


async def test_socket_mode_carries_the_agents_reply(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    slack_api: FakeSlack,
    slack_settings: dict[str, object],
) -> None:
    settings = {**slack_settings, "slack_signing_secret": None, "slack_app_token": APP_TOKEN}
    app = make_app(desk=None, **settings)
    desk = Desk(await aiohttp_client(app), app, slack_api)
    assert (await desk.client.post("/slack/events", data="{}")).status == 404  # no HTTP route
    await wait_until(lambda: bool(slack_api.sockets), 10, "the Socket Mode connection")
    ws, _, parent = await visitor_escalates(desk)
    envelope = await slack_api.socket_event(
        message_event(DESK_CHANNEL, parent, AGENT_ID, "Hello over the socket")
    )
    answer = await next_message(ws)
    while answer["role"] != "agent":
        answer = await next_message(ws)
    assert answer["text"] == "Hello over the socket"
    await wait_until(
        lambda: envelope in [ack.get("envelope_id") for ack in slack_api.acks],
        10,
        "Slack's envelope acknowledged",
    )
    await ws.close()


async def test_an_sms_customer_gets_the_agents_slack_reply_by_sms(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    slack_api: FakeSlack,
    slack_settings: dict[str, object],
    sms_settings: dict[str, object],
    twilio_api: FakeTwilio,
) -> None:
    app = make_app(desk=None, **slack_settings, **sms_settings)
    desk = Desk(await aiohttp_client(app), app, slack_api)
    form = inbound_form("SM" + "7" * 32, "+15557654321", "I want to talk to a human")
    response = await desk.client.post(
        "/sms/twilio", data=form, headers=signature(f"{PUBLIC_URL}/sms/twilio", form)
    )
    assert response.status == 200
    parent = await desk.parent()
    posted = json.dumps(slack_api.posts(DESK_CHANNEL)[0]["blocks"], ensure_ascii=False)
    assert "SMS [phone •••• 321]" in posted  # the number is masked on its way to Slack
    long_reply = "We have found your parcel and it is on its way to you. " * 40
    assert await desk.reply(parent, long_reply.strip()) == 200
    await wait_until(lambda: len(twilio_api.sent) >= 4, 10, "the agent's reply by SMS")
    bodies = [call["Body"] for call in twilio_api.sent]
    assert bodies[1] == TEXTS.joined.format(agent=AGENT_DISPLAY_NAME)
    assert " ".join(bodies[2:]) == long_reply.strip()  # split at 1,600 characters
    assert all(len(body) <= 1600 for body in bodies)


async def test_bad_input_from_slack_is_refused_or_ignored(desk: Desk) -> None:
    ws, cid, parent = await visitor_escalates(desk)
    store = desk.app[SERVICES].store
    body = "{not json"
    response = await desk.client.post("/slack/events", data=body, headers=signed_headers(body))
    assert response.status in (400, 401, 404)
    assert await desk.reply("1111111111.000200", "to an unknown thread") == 200
    too_long = "x" * 2001
    assert await desk.reply(parent, too_long) == 200
    await wait_until(lambda: bool(desk.slack.ephemerals()), 10, "the refusal")
    assert "2,000" in desk.slack.ephemerals()[-1]["text"]
    assert await desk.click("omnibot_resolve", cid, parent) == 200
    await until_state(ws, "bot")
    assert await desk.click("omnibot_back_to_bot", cid, parent) == 200
    await wait_until(
        lambda: desk.slack.ephemerals()[-1]["text"] == agent_text(None, AgentOutcome.CLOSED),
        10,
        "the closed note",
    )
    texts = [m.text for m in (await store.load(cid)).messages]
    assert "to an unknown thread" not in texts
    assert too_long not in texts
    assert (await desk.client.get("/healthz")).status == 200
    await ws.close()


SLACK_FORMATTED_NOTES = [
    "*note:* she was charged twice",
    "_note:_ check the warehouse",
    "note - VIP customer",
    "&gt; note: quoted",  # "> note: quoted" as Slack sends it
    "NOTE: shouting",
]


async def test_notes_in_slack_formatting_stay_internal(desk: Desk) -> None:
    ws, cid, parent = await visitor_escalates(desk)
    for note in SLACK_FORMATTED_NOTES:
        assert await desk.reply(parent, note) == 200
    reply = (
        "Hi, <@U0AGENT002> will check <https://shop.example/orders?id=1&amp;x=2|your order> "
        "&amp; tell you &lt;today&gt;"
    )
    assert await desk.reply(parent, reply) == 200
    answer = await next_message(ws)
    while answer["role"] != "agent":
        answer = await next_message(ws)
    assert answer["text"] == (
        "Hi, Sam will check your order (https://shop.example/orders?id=1&x=2) & tell you <today>"
    )
    texts = [m.text for m in (await desk.app[SERVICES].store.load(cid)).messages]
    assert not [text for text in texts if "note" in text.lower()]
    notes = await desk.app[SERVICES].tickets.notes(cid)
    assert len(notes) == len(SLACK_FORMATTED_NOTES)  # events are handled concurrently
    assert {note.author for note in notes} == {AGENT_DISPLAY_NAME}
    assert "> note: quoted" in {note.text for note in notes}
    await ws.close()


async def test_an_old_thread_reaches_nobody_and_takes_nothing(desk: Desk) -> None:
    ws, cid, old = await visitor_escalates(desk)
    store = desk.app[SERVICES].store
    assert await desk.click("omnibot_resolve", cid, old) == 200
    await until_state(ws, "bot")
    await ws.send_json({"type": "message", "text": "I want to talk to a human again"})
    await until_state(ws, "waiting")
    await wait_until(lambda: len(desk.parents()) == 2, 15, "the second ticket")
    new = desk.parents()[-1]
    assert await desk.reply(old, "late words in the old thread") == 200
    await wait_until(lambda: len(desk.slack.ephemerals()) == 1, 10, "the closed note")
    assert desk.slack.ephemerals()[-1]["text"] == agent_text(None, AgentOutcome.CLOSED)
    assert desk.slack.ephemerals()[-1]["thread_ts"] == old
    for action in ("omnibot_claim", "omnibot_resolve", "omnibot_back_to_bot"):
        assert await desk.click(action, cid, old) == 200
    await wait_until(lambda: len(desk.slack.ephemerals()) == 4, 10, "three closed notes")
    assert {e["text"] for e in desk.slack.ephemerals()} == {agent_text(None, AgentOutcome.CLOSED)}
    conversation = await store.load(cid)
    assert (conversation.state, conversation.agent) == (State.WAITING, None)
    assert "late words in the old thread" not in [m.text for m in conversation.messages]
    assert await desk.reply(new, "Hello from the new thread") == 200
    answer = await next_message(ws)
    while answer["role"] != "agent":
        answer = await next_message(ws)
    assert answer["text"] == "Hello from the new thread"
    await ws.close()


JUNK_BODIES = {
    "a JSON array": ("[1, 2]", "application/json"),
    "a JSON string": ('"event_callback"', "application/json"),
    "a JSON number": ("42", "application/json"),
    "JSON null": ("null", "application/json"),
    "payload= with an array": ("payload=" + quote("[1]"), None),
    "payload= with null": ("payload=null", None),
    "payload= with a string": ("payload=" + quote('"x"'), None),
    "payload= that is not JSON": ("payload=" + quote("{not json"), None),
    "an unknown charset": ('{"type": "url_verification"}', "application/json; charset=x-unknown"),
    "another charset": ('{"type": "url_verification"}', "application/json; charset=latin-1"),
}


@pytest.mark.parametrize("kind", list(JUNK_BODIES))
async def test_signed_junk_is_a_4xx_and_no_traceback(
    desk: Desk, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = JUNK_BODIES[kind]
    headers = signed_headers(body, content_type=content_type)
    with caplog.at_level(logging.INFO):
        response = await desk.client.post("/slack/events", data=body, headers=headers)
    assert 400 <= response.status < 500
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert (await desk.client.get("/healthz")).status == 200


async def test_bytes_that_are_not_utf8_are_a_400(desk: Desk) -> None:
    raw = b'{"type": "url_verification", "challenge": "\xff"}'
    headers = signed_headers(raw.decode("latin-1"))  # slack_sdk signs text only
    response = await desk.client.post("/slack/events", data=raw, headers=headers)
    assert response.status == 400


ODD_SHAPES: dict[str, dict[str, Any]] = {
    "actions not a list": {"actions": "nor a list"},
    "an action not an object": {"actions": ["omnibot_claim"]},
    "container not an object": {"container": "not an object"},
}


@pytest.mark.parametrize("shape", list(ODD_SHAPES))
async def test_a_signed_button_click_of_odd_shape_is_a_400(
    desk: Desk, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    payload = {**block_action("omnibot_claim", "x"), **ODD_SHAPES[shape]}
    body = form_body(payload)
    with caplog.at_level(logging.INFO):
        response = await desk.client.post("/slack/events", data=body, headers=signed_headers(body))
    assert response.status == 400
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_click_by_an_odd_user_tells_nobody_anything(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    payload = {**block_action("omnibot_claim", "x"), "user": ["not", "an", "object"]}
    body = form_body(payload)
    with caplog.at_level(logging.INFO):
        response = await desk.client.post("/slack/events", data=body, headers=signed_headers(body))
        assert response.status == 200
        await wait_until(lambda: bool(desk.slack.calls_to("chat.postEphemeral")), 10, "a try")
    assert not desk.slack.ephemerals()
    assert not [r for r in caplog.records if r.exc_info]


async def test_socket_mode_with_slack_unreachable_leaves_the_service_up(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    slack_settings: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    settings = {
        **slack_settings,
        "slack_signing_secret": None,
        "slack_app_token": APP_TOKEN,
        "slack_api_url": closed,
    }
    with caplog.at_level(logging.INFO):
        started = time.monotonic()
        client = await aiohttp_client(make_app(desk=None, **settings))
        assert time.monotonic() - started < 10  # the port opened without Slack
        response = await client.get("/healthz")
        assert response.status == 200
        assert (await response.json())["slack"] == "down"
        ws = await client.ws_connect("/webchat/ws")
        await opening(ws)
        await ws.send_json({"type": "message", "text": "where is my order?"})
        assert (await next_message(ws))["role"] == "customer"
        assert (await next_message(ws))["role"] == "bot"  # customers are answered
        await ws.close()
        await wait_until(lambda: _socket_failures(caplog) >= 2, 15, "a retry")
    assert not [r for r in caplog.records if r.exc_info]


def _socket_failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum("cannot connect to Slack over Socket Mode" in r.message for r in caplog.records)


async def test_socket_mode_connects_once_slack_is_back(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    slack_api: FakeSlack,
    slack_settings: dict[str, object],
) -> None:
    slack_api.down = True
    settings = {**slack_settings, "slack_signing_secret": None, "slack_app_token": APP_TOKEN}
    client = await aiohttp_client(make_app(desk=None, **settings))
    assert (await (await client.get("/healthz")).json())["slack"] == "down"
    slack_api.down = False
    await wait_until(lambda: bool(slack_api.sockets), 15, "the Socket Mode connection")

    async def healthy() -> bool:
        return bool((await (await client.get("/healthz")).json())["slack"] == "ok")

    await wait_until(healthy, 10, "/healthz saying slack ok")


async def test_the_desk_being_unreachable_shows_on_healthz(desk: Desk) -> None:
    assert (await (await desk.client.get("/healthz")).json())["slack"] == "ok"
    desk.slack.down = True
    ws = await desk.client.ws_connect("/webchat/ws")
    await opening(ws)
    await ws.send_json({"type": "message", "text": "I want to talk to a human"})
    await until_state(ws, "waiting")
    await wait_until(lambda: bool(desk.slack.calls), 10, "a try to open the ticket")
    response = await desk.client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["slack"] == "down"
    desk.slack.down = False
    await desk.parent()
    assert (await (await desk.client.get("/healthz")).json())["slack"] == "ok"
    await ws.close()


@pytest.mark.parametrize("token", [None, "t" * 32])
async def test_the_console_beside_slack_only_with_its_token(
    aiohttp_client: ClientFactory,
    make_app: AppFactory,
    slack_settings: dict[str, object],
    token: str | None,
) -> None:
    client = await aiohttp_client(make_app(desk=None, **slack_settings, agent_console_token=token))
    response = await client.get("/agent", allow_redirects=False)
    assert (response.status == 404) is (token is None)
