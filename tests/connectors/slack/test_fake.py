"""The fake of Slack's Web API against the real slack_sdk client, and the signed requests Slack
sends to an app, checked by slack_sdk's verifier and by a real slack-bolt app."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_aiohttp import AiohttpClient
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.models import Message, Role
from connectors.slack.blocks import CLAIM_ACTION, TicketView, ticket_blocks
from connectors.slack.transcript import message_line, transcript_messages
from tests.support.polling import wait_until
from tests.support.slack_fake import (
    AGENT_DISPLAY_NAME,
    AGENT_ID,
    AGENT_REAL_NAME,
    APP_ID,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    DESK_CHANNEL,
    SIGNING_SECRET,
    TEAM_DOMAIN,
    TEAM_ID,
    FakeSlack,
    block_action,
    bot_message_event,
    form_body,
    message_event,
    signed_headers,
)

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}
OLD_TS = 1_000_000_000


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    """A fake of Slack's Web API on a free local port."""
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack_api: FakeSlack) -> AsyncWebClient:
    """The real slack_sdk client pointed at the fake, without retries."""
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.url, retry_handlers=[])


async def post(client: AsyncWebClient, text: str = "hi", **kwargs: Any) -> dict[str, Any]:
    """``chat.postMessage`` to the desk channel; the answer's data."""
    response = await client.chat_postMessage(channel=DESK_CHANNEL, text=text, **kwargs)
    assert isinstance(response.data, dict)
    return response.data


async def api_error(client: AsyncWebClient, method: str, **params: Any) -> SlackApiError:
    """The SlackApiError ``method`` raises with ``params`` sent as JSON."""
    with pytest.raises(SlackApiError) as raised:
        await client.api_call(method, json=params)
    return raised.value


# ---- the Web API ------------------------------------------------------------------------------


async def test_url_is_an_api_base_url(slack_api: FakeSlack) -> None:
    assert slack_api.url.startswith("http://127.0.0.1:")
    assert slack_api.url.endswith("/api/")


async def test_auth_test_names_the_bot(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["ok"] is True
    assert (response["user"], response["user_id"], response["bot_id"], response["team_id"]) == (
        "omnibot",
        BOT_USER_ID,
        BOT_ID,
        TEAM_ID,
    )


async def test_posts_get_distinct_increasing_ts(
    slack_api: FakeSlack, client: AsyncWebClient
) -> None:
    answers = [await post(client, f"hi {n}", blocks=[SECTION]) for n in range(3)]
    stamps = [answer["ts"] for answer in answers]
    assert len(set(stamps)) == 3
    assert stamps == sorted(stamps, key=float)
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    first = answers[0]
    assert first["channel"] == DESK_CHANNEL
    assert first["message"]["text"] == "hi 0"
    assert first["message"]["bot_id"] == BOT_ID
    assert first["message"]["blocks"][0]["text"] == SECTION["text"]
    assert "block_id" in first["message"]["blocks"][0]
    assert [p["text"] for p in slack_api.posts(DESK_CHANNEL)] == ["hi 0", "hi 1", "hi 2"]


async def test_thread_replies_carry_thread_ts(slack_api: FakeSlack, client: AsyncWebClient) -> None:
    parent = (await post(client, "ticket"))["ts"]
    reply = await post(client, "transcript", thread_ts=parent)
    assert reply["message"]["thread_ts"] == parent
    assert reply["message"]["parent_user_id"] == BOT_USER_ID
    assert [p["text"] for p in slack_api.posts(thread_ts=parent)] == ["transcript"]
    assert len(slack_api.posts(channel="C0OTHER001")) == 0


async def test_rate_limit_is_retried_after_retry_after(slack_api: FakeSlack) -> None:
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=slack_api.url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack_api.fail_next("chat.postMessage", status=429, retry_after=1)
    answer = await post(client)
    assert answer["ok"] is True
    first, second = slack_api.calls_to("chat.postMessage")
    assert (first.status, first.error) == (429, "ratelimited")
    assert second.ok
    assert second.at - first.at >= 1.0
    assert len(slack_api.posts()) == 1


async def test_rate_limit_without_a_retry_handler_raises(
    slack_api: FakeSlack, client: AsyncWebClient
) -> None:
    slack_api.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await post(client)
    response = raised.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"
    assert (await post(client))["ok"] is True  # one failure only


async def test_server_error_and_its_retry(slack_api: FakeSlack, client: AsyncWebClient) -> None:
    slack_api.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as raised:
        await post(client)
    assert raised.value.response.status_code == 500
    retrying = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=slack_api.url,
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)],
    )
    slack_api.fail_next("chat.postMessage", status=500)
    assert (await post(retrying))["ok"] is True
    assert [call.status for call in slack_api.calls_to("chat.postMessage")] == [500, 500, 200]


async def test_api_error_is_http_200_with_ok_false(
    slack_api: FakeSlack, client: AsyncWebClient
) -> None:
    slack_api.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as raised:
        await post(client)
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "channel_not_found"
    assert slack_api.posts() == []


async def test_fail_next_needs_an_error_for_http_200(slack_api: FakeSlack) -> None:
    with pytest.raises(ValueError, match="error slug"):
        slack_api.fail_next("chat.postMessage")


async def test_down_until_switched_back(slack_api: FakeSlack, client: AsyncWebClient) -> None:
    slack_api.down = True
    for method in ("auth.test", "chat.postMessage"):
        error = await api_error(client, method, channel=DESK_CHANNEL, text="hi")
        assert error.response.status_code == 503
    slack_api.down = False
    assert (await post(client))["ok"] is True


async def test_wrong_or_missing_token(slack_api: FakeSlack) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack_api.url)
    error = await api_error(wrong, "auth.test")
    assert (error.response.status_code, error.response["error"]) == (200, "invalid_auth")
    missing = AsyncWebClient(base_url=slack_api.url)
    assert (await api_error(missing, "auth.test")).response["error"] == "not_authed"


async def test_unknown_method_is_404(client: AsyncWebClient) -> None:
    error = await api_error(client, "chat.teleport")
    assert (error.response.status_code, error.response["error"]) == (404, "unknown_method")


async def test_form_encoded_calls_are_parsed(slack_api: FakeSlack, client: AsyncWebClient) -> None:
    await client.api_call(
        "chat.postMessage",
        data={"channel": DESK_CHANNEL, "text": "form", "blocks": json.dumps([SECTION])},
    )
    (params,) = slack_api.posts()
    assert params == {"channel": DESK_CHANNEL, "text": "form", "blocks": [SECTION]}
    assert "token" not in params


async def test_update_replaces_the_message(slack_api: FakeSlack, client: AsyncWebClient) -> None:
    ts = (await post(client, "waiting"))["ts"]
    response = await client.chat_update(
        channel=DESK_CHANNEL, ts=ts, text="claimed", blocks=[SECTION]
    )
    assert (response["channel"], response["ts"], response["text"]) == (DESK_CHANNEL, ts, "claimed")
    assert slack_api.messages[(DESK_CHANNEL, ts)]["text"] == "claimed"
    assert [u["text"] for u in slack_api.updates()] == ["claimed"]
    error = await api_error(client, "chat.update", channel=DESK_CHANNEL, ts="1.000001", text="x")
    assert error.response["error"] == "message_not_found"


async def test_ephemeral_returns_message_ts(slack_api: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.chat_postEphemeral(
        channel=DESK_CHANNEL, user=AGENT_ID, text="Claimed by someone else"
    )
    assert float(response["message_ts"]) > 0
    assert slack_api.ephemerals() == [
        {"channel": DESK_CHANNEL, "user": AGENT_ID, "text": "Claimed by someone else"}
    ]


async def test_users_info_from_the_table(slack_api: FakeSlack, client: AsyncWebClient) -> None:
    user = (await client.users_info(user=AGENT_ID))["user"]
    assert (user["id"], user["real_name"]) == (AGENT_ID, AGENT_REAL_NAME)
    assert user["profile"]["display_name"] == AGENT_DISPLAY_NAME
    slack_api.add_user("U0AGENT002", "Fox Mulder")
    other = (await client.users_info(user="U0AGENT002"))["user"]
    assert (other["profile"]["real_name"], other["profile"]["display_name"]) == ("Fox Mulder", "")
    error = await api_error(client, "users.info", user="U0NOBODY01")
    assert error.response["error"] == "user_not_found"


async def test_permalinks(client: AsyncWebClient) -> None:
    parent = (await post(client, "ticket"))["ts"]
    reply = (await post(client, "line", thread_ts=parent))["ts"]
    top = await client.chat_getPermalink(channel=DESK_CHANNEL, message_ts=parent)
    base = f"https://{TEAM_DOMAIN}.slack.com/archives/{DESK_CHANNEL}/p"
    assert top["permalink"] == base + parent.replace(".", "")
    threaded = await client.chat_getPermalink(channel=DESK_CHANNEL, message_ts=reply)
    assert threaded["permalink"] == (
        base + reply.replace(".", "") + f"?thread_ts={parent}&cid={DESK_CHANNEL}"
    )


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"channel": DESK_CHANNEL}, "no_text"),
        ({"text": "hi"}, "channel_not_found"),
        ({"channel": DESK_CHANNEL, "text": "hi", "blocks": [SECTION] * 51}, "invalid_blocks"),
        (
            {
                "channel": DESK_CHANNEL,
                "text": "hi",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
            },
            "invalid_blocks",
        ),
        (
            {
                "channel": DESK_CHANNEL,
                "text": "hi",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}] * 5,
            },
            "msg_blocks_too_long",
        ),
        (
            {"channel": DESK_CHANNEL, "text": "hi", "blocks": {"type": "section"}},
            "invalid_blocks_format",
        ),
    ],
)
async def test_messages_are_checked_as_slack_does(
    client: AsyncWebClient, params: dict[str, Any], error: str
) -> None:
    assert (await api_error(client, "chat.postMessage", **params)).response["error"] == error


async def test_the_desk_messages_post_cleanly(slack_api: FakeSlack, client: AsyncWebClient) -> None:
    """The ticket, a long transcript and a huge later line: all within what Slack accepts."""
    view = TicketView(
        "c" * 32,
        "Ana (1a2b3c4d)",
        "sms",
        "+15557654321",
        "asked for a person",
        time.time(),
        intent="order_status",
        confidence=0.42,
    )
    text, blocks = ticket_blocks(view)
    parent = (await post(client, text, blocks=blocks))["ts"]
    history = [
        Message(Role.CUSTOMER, f"line {i} " + "& <x> " * (i % 300), ts=time.time())
        for i in range(600)
    ]
    thread = [*transcript_messages(history), message_line(Message(Role.CUSTOMER, "y " * 30_000))]
    for text, blocks in thread:
        await post(client, text, blocks=blocks, thread_ts=parent)
    assert len(slack_api.posts(thread_ts=parent)) == len(thread)


# ---- what Slack sends to the app --------------------------------------------------------------


def test_signed_headers_verify_with_slack_sdk() -> None:
    body = json.dumps(message_event(DESK_CHANNEL, None, AGENT_ID, "hello"))
    headers = signed_headers(body, SIGNING_SECRET)
    verifier = SignatureVerifier(SIGNING_SECRET)
    timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert verifier.is_valid(body, timestamp, signature)
    assert verifier.is_valid_request(body, headers)
    assert headers["Content-Type"] == "application/json"
    assert not SignatureVerifier("another-secret").is_valid(body, timestamp, signature)
    assert not verifier.is_valid(body + " ", timestamp, signature)
    stale = signed_headers(body, SIGNING_SECRET, timestamp=OLD_TS)
    assert not verifier.is_valid_request(body, stale)
    form = form_body(block_action(CLAIM_ACTION, "c1"))
    assert signed_headers(form, SIGNING_SECRET)["Content-Type"] == (
        "application/x-www-form-urlencoded"
    )


def test_message_event_envelope() -> None:
    envelope = message_event(
        DESK_CHANNEL,
        "1732790000.000100",
        AGENT_ID,
        "on it",
        event_id="Ev0000000001",
        ts="1732790100.000200",
    )
    assert envelope["type"] == "event_callback"
    assert (envelope["team_id"], envelope["api_app_id"], envelope["event_id"]) == (
        TEAM_ID,
        APP_ID,
        "Ev0000000001",
    )
    assert envelope["event_time"] == 1732790100
    event = envelope["event"]
    assert (event["type"], event["channel"], event["channel_type"]) == (
        "message",
        DESK_CHANNEL,
        "channel",
    )
    assert (event["user"], event["text"], event["ts"]) == (AGENT_ID, "on it", "1732790100.000200")
    assert event["thread_ts"] == "1732790000.000100"
    assert "bot_id" not in event
    assert "thread_ts" not in message_event(DESK_CHANNEL, None, AGENT_ID, "x")["event"]


def test_bot_message_events() -> None:
    own = bot_message_event(DESK_CHANNEL, "1732790000.000100", "transcript")["event"]
    assert (own["bot_id"], own["user"], own["app_id"]) == (BOT_ID, BOT_USER_ID, APP_ID)
    assert "subtype" not in own
    legacy = bot_message_event(DESK_CHANNEL, None, "hook", bot_id="B0OTHER001", legacy=True)[
        "event"
    ]
    assert (legacy["subtype"], legacy["bot_id"]) == ("bot_message", "B0OTHER001")
    assert "user" not in legacy


def test_block_action_payload() -> None:
    payload = block_action(
        CLAIM_ACTION,
        "conv-1",
        AGENT_ID,
        "dana",
        DESK_CHANNEL,
        "1732790000.000100",
        thread_ts=None,
        label="Claim",
    )
    (sent,) = parse_qs(form_body(payload))["payload"]
    decoded = json.loads(sent)
    assert decoded == payload
    assert decoded["type"] == "block_actions"
    assert decoded["user"]["id"] == AGENT_ID
    assert decoded["container"] == {
        "type": "message",
        "message_ts": "1732790000.000100",
        "channel_id": DESK_CHANNEL,
        "is_ephemeral": False,
    }
    assert decoded["response_url"].startswith("https://hooks.slack.com/actions/")
    assert decoded["trigger_id"]
    assert decoded["message"]["ts"] == "1732790000.000100"
    (action,) = decoded["actions"]
    assert (action["type"], action["action_id"], action["value"]) == (
        "button",
        CLAIM_ACTION,
        "conv-1",
    )
    in_thread = block_action(CLAIM_ACTION, "conv-1", thread_ts="1732790000.000100")
    assert in_thread["container"]["thread_ts"] == "1732790000.000100"


async def test_a_bolt_app_accepts_the_signed_requests(
    slack_api: FakeSlack, aiohttp_client: AiohttpClient
) -> None:
    """A real slack-bolt app, on the fake, routes the builders' events and button clicks."""
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.url),
        signing_secret=SIGNING_SECRET,
    )
    texts: list[str] = []
    claims: list[str] = []

    @app.event("message")
    async def on_message(event: dict[str, Any]) -> None:
        texts.append(event["text"])

    @app.action(CLAIM_ACTION)
    async def on_claim(ack: AsyncAck, action: dict[str, Any]) -> None:
        await ack()
        claims.append(action["value"])

    http = await aiohttp_client(app.web_app())

    async def send(body: str, secret: str = SIGNING_SECRET) -> int:
        response = await http.post(
            "/slack/events", data=body.encode(), headers=signed_headers(body, secret)
        )
        return response.status

    parent = "1732790000.000100"
    assert await send(json.dumps(bot_message_event(DESK_CHANNEL, parent, "own post"))) == 200
    assert await send(json.dumps(message_event(DESK_CHANNEL, parent, AGENT_ID, "hi"))) == 200
    assert await send(form_body(block_action(CLAIM_ACTION, "conv-1"))) == 200
    await wait_until(
        lambda: texts == ["hi"] and claims == ["conv-1"], timeout_s=5, what="the listeners ran"
    )
    assert (
        await send(
            json.dumps(message_event(DESK_CHANNEL, parent, AGENT_ID, "x")), secret="not-the-secret"
        )
        == 401
    )
    assert slack_api.calls_to("auth.test")
