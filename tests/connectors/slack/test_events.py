"""The Slack desk against the fake Web API: what a ticket's thread opens with, and whether
Slack could be reached (what /healthz reports)."""

from __future__ import annotations

import json

import pytest

from bot.contracts import DeliveryError
from bot.models import Address, Conversation, Message, Role
from connectors.slack.desk import SlackDesk
from tests.support.slack_fake import BOT_TOKEN, DESK_CHANNEL, FakeSlack

CONSOLE = "https://support.example.com/agent"
CID = "c0ffee" * 5 + "00"


def long_conversation(count: int) -> Conversation:
    """A web chat conversation of ``count`` customer messages, escalated."""
    messages = tuple(
        Message(Role.CUSTOMER, f"message {i}", ts=1_764_000_000 + i) for i in range(count)
    )
    return Conversation(
        CID, "1a2b3c4d5e6f", messages=messages, last_address=Address("webchat", "s1")
    )


def desk(slack: FakeSlack, history_url: str | None = CONSOLE) -> SlackDesk:
    return SlackDesk.connect(BOT_TOKEN, slack.url, DESK_CHANNEL, history_url=history_url)


async def test_a_500_message_escalation_is_two_posts_linking_the_whole_conversation(
    slack_api: FakeSlack,
) -> None:
    ticket = await desk(slack_api).open_ticket(long_conversation(500), "asked for a person")
    parent = ticket.split(":", 1)[1]
    assert len(slack_api.posts()) == 2  # the ticket and one transcript post
    [transcript] = slack_api.posts(DESK_CHANNEL, parent)
    shown = json.dumps(transcript["blocks"])
    assert f"<{CONSOLE}#{CID}|the whole conversation>" in shown
    assert "470 earlier messages are not shown here" in shown
    assert "message 469" not in shown
    assert "message 470" in shown
    assert "message 499" in shown


async def test_without_a_console_the_earlier_messages_are_counted(slack_api: FakeSlack) -> None:
    await desk(slack_api, history_url=None).open_ticket(long_conversation(40), "why")
    shown = json.dumps(slack_api.posts()[-1]["blocks"])
    assert "10 earlier messages are not shown here" in shown
    assert "<http" not in shown


async def test_reachable_follows_the_last_call(slack_api: FakeSlack) -> None:
    slack = desk(slack_api)
    ticket = await slack.open_ticket(long_conversation(1), "why")
    assert slack.reachable
    slack_api.down = True
    with pytest.raises(DeliveryError):
        await slack.post(ticket, Message(Role.CUSTOMER, "hello?"))
    assert not slack.reachable
    slack_api.down = False
    slack_api.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(DeliveryError):  # Slack answered: it is there, it refused
        await slack.post(ticket, Message(Role.CUSTOMER, "hello?"))
    assert slack.reachable
