"""What goes to Slack is masked: the ticket, the transcript, later lines; the conversation the
desk was given (what the store keeps) is not."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.contracts import TicketChange, TicketStatus
from bot.models import Address, Conversation, Customer, Message, Role
from bot.models.conversation import Escalation
from connectors.slack.blocks import ticket_blocks, ticket_view
from connectors.slack.desk import SlackDesk
from connectors.slack.transcript import message_line, transcript_messages
from tests.support.slack_fake import BOT_TOKEN, DESK_CHANNEL, FakeSlack

AT = datetime(2026, 11, 28, 14, 5, tzinfo=UTC).timestamp()
CARD_TEXT = "my card is 4242 4242 4242 4242 and order 100412 never came"
VIP = (re.compile(r"\bVIP-\d{4}\b"),)


def shown(message: tuple[str, list[dict[str, object]]]) -> str:
    """Everything a Slack message shows, fallback text and blocks."""
    return message[0] + json.dumps(message[1], ensure_ascii=False)


def test_transcript_lines_are_masked_and_order_numbers_kept() -> None:
    (transcript,) = transcript_messages(
        [
            Message(Role.CUSTOMER, CARD_TEXT, ts=AT, channel="sms"),
            Message(Role.CUSTOMER, "mail me: ana@example.com\nor +44 7700 900123", ts=AT + 60),
        ]
    )
    text = shown(transcript)
    assert "[card •••• 4242] and order 100412 never came" in text
    assert "[email a•••@example.com]" in text
    assert "[phone •••• 123]" in text
    for original in ("4242 4242 4242 4242", "ana@example.com", "7700 900123"):
        assert original not in text


def test_a_later_line_and_its_fallback_are_masked_with_the_shop_patterns() -> None:
    message = Message(Role.CUSTOMER, f"{CARD_TEXT}, member VIP-1234", ts=AT, channel="webchat")
    line = message_line(message, patterns=VIP)
    assert "4242 4242" not in shown(line)
    assert "VIP-1234" not in shown(line)
    assert "[redacted]" in line[0]  # the notification text too
    assert "VIP-1234" in message_line(message)[0]  # without the pattern it stays


def test_the_ticket_masks_address_email_reason_and_details() -> None:
    customer = Customer(
        id="abcdef0123456789",
        addresses=(Address("sms", "+15557654321"),),
        name="Ana",
        email="ana@example.com",
    )
    conversation = Conversation(
        id="c" * 32,
        customer_id=customer.id,
        customer=customer,
        last_address=Address("sms", "+15557654321"),
    )
    view = ticket_view(
        conversation,
        "asked for a person: call 020 7946 0958",
        escalated_at=AT,
        detail="pays with DE89370400440532013000 for order 100412",
    )
    text = shown(ticket_blocks(view))
    for original in ("+15557654321", "ana@example.com", "7946 0958", "DE89370400440532013000"):
        assert original not in text
    assert "[iban DE•• ••••] for order 100412" in text
    assert "SMS [phone •••• 321]" in text


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlack]:
    """A fake of Slack's Web API on a free local port."""
    async with FakeSlack() as fake:
        yield fake


async def test_the_desk_posts_masked_text_and_keeps_the_conversation(slack_api: FakeSlack) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.url, retry_handlers=[])
    desk = SlackDesk(client, DESK_CHANNEL, patterns=VIP)
    said = Message(Role.CUSTOMER, f"{CARD_TEXT} VIP-1234", ts=AT, channel="webchat")
    conversation = Conversation(
        id="c" * 32,
        customer_id="abcdef0123456789",
        messages=(said,),
        escalation=Escalation("asked for a person", at=AT, detail="ana@example.com"),
    )
    ticket = await desk.open_ticket(conversation, "asked for a person")
    await desk.post(ticket, Message(Role.CUSTOMER, "IBAN GB82 WEST 1234 5698 7654 32", ts=AT))
    await desk.update_ticket(ticket, conversation, TicketChange(TicketStatus.CLAIMED, "Dana", AT))
    sent = json.dumps([slack_api.posts(), slack_api.updates()], ensure_ascii=False)
    for original in ("4242 4242", "VIP-1234", "GB82 WEST", "ana@example.com"):
        assert original not in sent
    assert sent.count("[card •••• 4242]") == 1
    assert "[iban GB•• ••••]" in sent
    assert conversation.messages == (said,)  # what the store keeps is the original
    assert said.text == f"{CARD_TEXT} VIP-1234"
