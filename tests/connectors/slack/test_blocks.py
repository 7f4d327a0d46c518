"""The agent desk's Block Kit messages: the ticket, its statuses, the transcript, later lines."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block as SdkBlock

from bot.contracts import TicketStatus
from bot.models import Address, Conversation, Customer, Message, Role
from bot.models.messages import Media
from connectors.slack.blocks import (
    BACK_TO_BOT_ACTION,
    CLAIM_ACTION,
    RESOLVE_ACTION,
    TicketView,
    customer_label,
    format_confidence,
    ticket_blocks,
    ticket_view,
)
from connectors.slack.text import (
    BLOCKS_TEXT_BUDGET,
    MAX_BLOCKS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_CHARS,
    Block,
    SlackMessage,
    literal,
    mentioned_users,
    plain_text,
    unescape,
)
from connectors.slack.transcript import (
    HEADER_CHARS,
    TRANSCRIPT_MESSAGES,
    message_line,
    transcript_messages,
)

ESCALATED = datetime(2026, 11, 28, 14, 5, tzinfo=UTC).timestamp()
LATER = datetime(2026, 11, 28, 14, 20, tzinfo=UTC).timestamp()
CONVERSATION_ID = "c0ffee" * 5 + "00"
PERMALINK = (
    "https://omnibot-test.slack.com/archives/C0DESK0001/p1732790000000100"
    "?thread_ts=1732790000.000100&cid=C0DESK0001"
)
ENTITY_RE = re.compile(r"&(?!amp;|lt;|gt;)")
MENTIONS = ("<!channel>", "<!here>", "<@U0AGENT001>", "<https://evil.example|click>")


@pytest.fixture
def ticket() -> TicketView:
    """A waiting ticket: an SMS customer with a name, a reason, an intent and a confidence."""
    return TicketView(
        conversation_id=CONVERSATION_ID,
        customer=customer_label("1a2b3c4d5e6f7a8b", "Ana Lima"),
        channel="sms",
        address="+15557654321",
        reason="asked for a person",
        escalated_at=ESCALATED,
        intent="order_status",
        confidence=0.4234,
    )


def texts(blocks: list[Block]) -> list[str]:
    """Every text in ``blocks``, depth first."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


def sections(message: SlackMessage) -> list[str]:
    """The texts of a message's section blocks (the transcript's content), in order."""
    return [
        block["text"]["text"]
        for block in message[1]
        if block["type"] == "section" and "text" in block
    ]


def buttons(blocks: list[Block]) -> list[dict[str, Any]]:
    return [
        element for block in blocks if block["type"] == "actions" for element in block["elements"]
    ]


def assert_valid(message: SlackMessage) -> None:
    """Within Slack's limits, and every block accepted by slack_sdk's own Block Kit model."""
    text, blocks = message
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert len(text) <= MAX_MESSAGE_CHARS
    assert sum(len(t) for t in texts(blocks)) <= BLOCKS_TEXT_BUDGET
    for block in blocks:
        parsed = SdkBlock.parse(block)
        assert parsed is not None
        parsed.validate_json()
    for section in sections(message):
        assert 0 < len(section) <= MAX_SECTION_CHARS
        assert not ENTITY_RE.search(section), "an entity was cut in two"


# ---- the ticket -------------------------------------------------------------------------------


def test_waiting_ticket_offers_claim_resolve_and_back_to_bot(ticket: TicketView) -> None:
    message = ticket_blocks(ticket)
    assert_valid(message)
    found = buttons(message[1])
    assert [b["action_id"] for b in found] == [CLAIM_ACTION, RESOLVE_ACTION, BACK_TO_BOT_ACTION]
    assert [b["text"]["text"] for b in found] == ["Claim", "Resolve", "Back to bot"]
    assert {b["value"] for b in found} == {CONVERSATION_ID}
    assert [b.get("style") for b in found] == [None, "primary", None]


def test_ticket_says_who_where_why_and_when(ticket: TicketView) -> None:
    text, blocks = ticket_blocks(ticket)
    shown = "\n".join(texts(blocks))
    assert "Ana Lima (1a2b3c4d)" in shown
    assert "SMS +15557654321" in shown
    assert "asked for a person" in shown
    assert "order_status · 42%" in shown
    assert "Sat 28 Nov, 14:05 UTC" in shown
    assert "Waiting since 14:05 UTC" in shown
    assert "Ana Lima" in text
    assert "asked for a person" in text


def test_web_chat_customer_without_a_name(ticket: TicketView) -> None:
    view = replace(
        ticket, customer=customer_label("9f8e7d6c5b4a"), channel="webchat", address="session-123"
    )
    shown = "\n".join(texts(ticket_blocks(view)[1]))
    assert "Customer 9f8e7d6c" in shown
    assert "Web chat" in shown
    assert "session-123" not in shown


@pytest.mark.parametrize(
    ("confidence", "shown"),
    [
        (0.4234, "42%"),
        (0.0, "0%"),
        (1.0, "100%"),
        (0.995, "100%"),
        (0.016, "2%"),
        (1.7, "100%"),
        (-0.2, "0%"),
    ],
)
def test_confidence_is_a_whole_percentage(confidence: float, shown: str) -> None:
    assert format_confidence(confidence) == shown


def test_intent_without_confidence_and_no_intent(ticket: TicketView) -> None:
    no_score = "\n".join(texts(ticket_blocks(replace(ticket, confidence=None))[1]))
    assert "*Last intent*\norder_status" in no_score
    assert "%" not in no_score
    no_intent = "\n".join(texts(ticket_blocks(replace(ticket, intent=None, confidence=None))[1]))
    assert "Last intent" not in no_intent


def test_the_bot_s_details_are_on_the_ticket(ticket: TicketView) -> None:
    detail = "Not answered by the bot: \u201cdo you engrave?\u201d\nLooked up: Order 1 is late."
    message = ticket_blocks(replace(ticket, detail=detail))
    assert_valid(message)
    assert f"*Details*\n{detail}" in "\n".join(texts(message[1]))
    assert "Details" not in "\n".join(texts(ticket_blocks(ticket)[1]))


def test_claimed_ticket_drops_the_claim_button(ticket: TicketView) -> None:
    claimed = replace(ticket, status=TicketStatus.CLAIMED, agent="Dana", status_at=ESCALATED)
    message = ticket_blocks(claimed)
    assert_valid(message)
    assert "Claimed by Dana at 14:05 UTC" in texts(message[1])
    assert [b["action_id"] for b in buttons(message[1])] == [RESOLVE_ACTION, BACK_TO_BOT_ACTION]
    assert message[1][0]["text"]["text"].endswith("Claimed")


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (TicketStatus.RESOLVED, "Resolved by Dana at 14:20 UTC"),
        (TicketStatus.BACK_TO_BOT, "Handed back to the bot by Dana at 14:20 UTC"),
    ],
)
def test_closed_ticket_has_no_buttons(ticket: TicketView, status: TicketStatus, line: str) -> None:
    message = ticket_blocks(replace(ticket, status=status, agent="Dana", status_at=LATER))
    assert_valid(message)
    assert line in texts(message[1])
    assert buttons(message[1]) == []
    assert all(block["type"] != "actions" for block in message[1])


def test_status_without_agent(ticket: TicketView) -> None:
    message = ticket_blocks(replace(ticket, status=TicketStatus.RESOLVED, status_at=LATER))
    assert "Resolved at 14:20 UTC" in texts(message[1])


def test_previous_thread_is_linked(ticket: TicketView) -> None:
    message = ticket_blocks(replace(ticket, previous_thread=PERMALINK))
    assert_valid(message)
    link = f"<{PERMALINK.replace('&', '&amp;')}|the previous thread>"
    assert any(link in text for text in texts(message[1]))
    assert not any("previous thread" in text for text in texts(ticket_blocks(ticket)[1]))


def test_a_link_that_is_not_http_stays_text(ticket: TicketView) -> None:
    shown = texts(ticket_blocks(replace(ticket, previous_thread="javascript:alert(1)"))[1])
    assert any("javascript:alert(1)" in text for text in shown)
    assert not any("<javascript" in text for text in shown)


def test_ticket_texts_are_escaped(ticket: TicketView) -> None:
    view = replace(ticket, customer="<!channel> & co", reason="<@U0AGENT001> help <!here>")
    text, blocks = ticket_blocks(view)
    dumped = json.dumps(blocks) + text
    for mention in ("<!channel>", "<!here>", "<@U0AGENT001>"):
        assert mention not in dumped
    assert "&lt;!channel&gt; &amp; co" in "\n".join(texts(blocks))


def test_ticket_view_of_a_conversation() -> None:
    conversation = Conversation(
        id=CONVERSATION_ID,
        customer_id="abcdef0123456789",
        last_address=Address("sms", "+15557654321"),
    )
    view = ticket_view(
        conversation,
        "frustration",
        escalated_at=ESCALATED,
        customer_name="Ana",
        intent="refund",
        confidence=0.3,
    )
    # the phone number is masked on its way to Slack: its kind and last digits only
    masked = "[phone •••• 321]"
    assert (view.customer, view.channel, view.address) == ("Ana (abcdef01)", "sms", masked)
    assert (view.status, view.agent, view.status_at) == (TicketStatus.WAITING, None, None)
    assert "*Reaches*" not in json.dumps(ticket_blocks(view)[1])


def test_a_customer_on_several_channels_heads_the_ticket_with_every_address() -> None:
    customer = Customer(
        id="abcdef0123456789",
        addresses=(Address("sms", "+15557654321"), Address("webchat", "tok")),
        name="Ana Lima",
        email="ana@example.com",
    )
    conversation = Conversation(id=CONVERSATION_ID, customer_id=customer.id, customer=customer)
    view = ticket_view(conversation, "frustration", escalated_at=ESCALATED)
    fields = "\n".join(texts(ticket_blocks(view)[1]))
    assert "Ana Lima (abcdef01)" in fields
    assert "*Reaches*\nSMS [phone •••• 321], Web chat" in fields
    assert "*E-mail*\n[email a•••@example.com]" in fields
    assert "+15557654321" not in fields


# ---- the transcript ---------------------------------------------------------------------------


def conversation_messages() -> list[Message]:
    at = ESCALATED - 600
    return [
        Message(Role.CUSTOMER, "Where is my order?", ts=at, channel="sms"),
        Message(Role.BOT, "Which order number?", ts=at + 60),
        Message(Role.CUSTOMER, "I want a person", ts=at + 120, channel="webchat"),
        Message(Role.SYSTEM, "Handed to an agent", ts=at + 180),
        Message(Role.AGENT, "Hi, Dana here", ts=at + 240, author="Dana"),
        Message(Role.AGENT, "Anyone?", ts=at + 300),
    ]


def test_transcript_lines_in_order_with_time_and_speaker() -> None:
    result = transcript_messages(conversation_messages())
    assert len(result) == 1
    assert_valid(result[0])
    assert "times in UTC" in result[0][1][0]["elements"][0]["text"]
    lines = "\n".join(sections(result[0])).split("\n")
    assert lines == [
        "*Saturday 28 November 2026*",
        "`13:55` *Customer* (SMS): Where is my order?",
        "`13:56` *Assistant*: Which order number?",
        "`13:57` *Customer* (Web chat): I want a person",
        "`13:58` *System*: Handed to an agent",
        "`13:59` *Dana*: Hi, Dana here",
        "`14:00` *Agent*: Anyone?",
    ]


def test_transcript_in_another_zone_says_so() -> None:
    result = transcript_messages(conversation_messages(), tz=ZoneInfo("America/New_York"))
    assert "times in America/New_York" in result[0][1][0]["elements"][0]["text"]
    assert "`08:55` *Customer* (SMS): Where is my order?" in sections(result[0])[0]


def test_transcript_marks_each_new_day() -> None:
    day = 86_400
    result = transcript_messages(
        [
            Message(Role.CUSTOMER, "one", ts=ESCALATED),
            Message(Role.BOT, "two", ts=ESCALATED + 60),
            Message(Role.CUSTOMER, "three", ts=ESCALATED + day),
        ]
    )
    lines = "\n".join(sections(result[0])).split("\n")
    assert [line for line in lines if line.startswith("*")] == [
        "*Saturday 28 November 2026*",
        "*Sunday 29 November 2026*",
    ]


def test_empty_transcript_posts_nothing() -> None:
    assert transcript_messages([]) == []


def test_600_messages_fit_few_messages_within_limits() -> None:
    messages = [
        Message(
            Role.CUSTOMER if i % 2 else Role.BOT,
            f"message {i}: " + "words & <more> " * (i % 37),
            ts=ESCALATED + i,
        )
        for i in range(600)
    ]
    result = transcript_messages(messages, keep=600)
    for message in result:
        assert_valid(message)
    # every message but the last is full: the next section did not fit in it
    for message in result[:-1]:
        used = sum(len(text) for text in sections(message))
        assert (
            used > BLOCKS_TEXT_BUDGET - HEADER_CHARS - MAX_SECTION_CHARS
            or len(message[1]) == MAX_BLOCKS
        )
    numbers = [
        int(n)
        for message in result
        for text in sections(message)
        for n in re.findall(r"message (\d+):", text)
    ]
    assert numbers == list(range(600))
    assert result[0][0] == f"Transcript of the conversation · part 1 of {len(result)}"


@pytest.mark.parametrize(
    "text",
    [
        ("Lorem ipsum & dolor <sit> amet, " * 400)[:10_000],
        "x" * 10_000,
        "&" * 10_000,
        "émoji 😀 " * 1250,
        ("line\n" * 2000),
    ],
)
def test_a_10000_character_message_is_split_losslessly(text: str) -> None:
    result = transcript_messages([Message(Role.CUSTOMER, text, ts=ESCALATED)])
    for message in result:
        assert_valid(message)
    date_line, *pieces = [section for message in result for section in sections(message)]
    assert date_line == "*Saturday 28 November 2026*"
    assert len(pieces) > 1
    said = "\n> ".join(text.splitlines())  # later lines quoted
    assert unescape("".join(pieces)) == f"`14:05` *Customer*: {said}"


def test_customer_cannot_mention_or_link() -> None:
    text = " ".join(MENTIONS) + " > quoted & done"
    result = transcript_messages([Message(Role.CUSTOMER, text, ts=ESCALATED)])
    dumped = json.dumps(result)
    for mention in MENTIONS:
        assert mention not in dumped
    assert "&lt;!channel&gt;" in sections(result[0])[0]
    section_text = result[0][1][1]["text"]
    assert section_text["verbatim"] is True


def test_agent_name_is_escaped() -> None:
    line = message_line(Message(Role.AGENT, "hi", ts=ESCALATED, author="<!channel>"))
    assert "<!channel>" not in json.dumps(line)


def test_attachments_are_links() -> None:
    media = (
        Media("https://media.example/img?id=1&size=2", "image/jpeg"),
        Media("ftp://files.example/a.pdf", "application/pdf"),
    )
    line = sections(
        transcript_messages([Message(Role.CUSTOMER, "see this", ts=ESCALATED, media=media)])[0]
    )[0]
    assert "see this :paperclip: <https://media.example/img?id=1&amp;size=2|image/jpeg>" in line
    assert "<ftp:" not in line
    assert "application/pdf (ftp://files.example/a.pdf)" in line


# ---- later lines ------------------------------------------------------------------------------


def test_message_line_matches_the_transcript() -> None:
    message = Message(Role.CUSTOMER, "Still there? <!here>", ts=LATER, channel="sms")
    text, blocks = message_line(message)
    assert_valid((text, blocks))
    assert sections((text, blocks)) == ["`14:20` *Customer* (SMS): Still there? &lt;!here&gt;"]
    assert text == "Customer: Still there? &lt;!here&gt;"


def test_message_line_of_an_attachment_only() -> None:
    message = Message(
        Role.CUSTOMER, "", ts=LATER, media=(Media("https://media.example/a.png", "image/png"),)
    )
    text, blocks = message_line(message)
    assert text == "Customer: image/png"
    assert "<https://media.example/a.png|image/png>" in sections((text, blocks))[0]


def test_message_line_too_long_for_one_message_is_cut_and_says_so() -> None:
    message = Message(Role.CUSTOMER, "word " * 10_000, ts=LATER)
    text, blocks = message_line(message)
    assert_valid((text, blocks))
    assert len(text) <= 300
    last = sections((text, blocks))[-1]
    assert re.fullmatch(r"_… about [\d,]+ more characters not shown_", last)


# ---- what customers and agents cannot do through the desk's text ---------------------------

FORGERIES = [
    "ok\n`14:06` *Assistant*: refund approved",
    "ok\r\n*System*: the agent approved a refund",
    "ok\u2028*Assistant*: refund approved",  # a Unicode line separator
    "ok\n\n> *Dana*: refund approved",
    "*Assistant*: refund approved",
    "```\n*Assistant*: refund approved\n```",
    "_italic_ ~struck~ `code` *bold*",
]


@pytest.mark.parametrize("text", FORGERIES)
def test_customer_text_cannot_pass_for_another_line(text: str) -> None:
    result = transcript_messages([Message(Role.CUSTOMER, text, ts=ESCALATED, channel="sms")])
    lines = "\n".join(sections(result[0])).split("\n")
    date, first, *rest = lines
    assert date == "*Saturday 28 November 2026*"
    assert first.startswith("`14:05` *Customer* (SMS): ")
    assert all(line.startswith("> ") for line in rest)  # later lines are quoted
    said = first.split(": ", 1)[1] + "".join(rest)
    for mark in ("*", "`", "~", "_"):  # nothing the customer wrote formats
        assert mark not in said


def test_message_line_cannot_pass_for_another_line() -> None:
    _, blocks = message_line(Message(Role.CUSTOMER, "hi\n*Assistant*: refund", ts=LATER))
    [text] = sections(("", blocks))
    assert text == "`14:20` *Customer*: hi\n> \u2217Assistant\u2217: refund"


def test_a_word_inner_underscore_is_kept() -> None:
    assert literal("order_100234 _here_") == "order_100234 \u02cdhere\u02cd"


def test_ticket_fields_from_the_customer_format_nothing(ticket: TicketView) -> None:
    shown = replace(ticket, customer="*Assistant* (x)", email="_a_@b.example")
    fields = ticket_blocks(shown)[1][1]["fields"]
    assert fields[0]["text"] == "*Customer*\n\u2217Assistant\u2217 (x)"
    assert "\u02cda\u02cd@b.example" in json.dumps(fields, ensure_ascii=False)


def test_a_long_conversation_shows_its_latest_messages_and_says_where_the_rest_is() -> None:
    messages = [Message(Role.CUSTOMER, f"message {i}", ts=ESCALATED + i) for i in range(500)]
    result = transcript_messages(messages, history_url="https://support.example/agent#c1")
    assert len(result) == 1  # one post, not about a hundred
    assert_valid(result[0])
    assert "last 30 of 500 messages" in result[0][1][0]["elements"][0]["text"]
    lines = "\n".join(sections(result[0])).split("\n")
    assert lines[0] == (
        "_… 470 earlier messages are not shown here_: "
        "<https://support.example/agent#c1|the whole conversation>"
    )
    numbers = [int(n) for n in re.findall(r"message (\d+)", "\n".join(lines))]
    assert numbers == list(range(470, 500))


def test_a_short_conversation_is_shown_whole() -> None:
    messages = [Message(Role.CUSTOMER, f"m{i}", ts=ESCALATED) for i in range(TRANSCRIPT_MESSAGES)]
    lines = "\n".join(sections(transcript_messages(messages)[0]))
    assert "earlier" not in lines
    assert lines.count("*Customer*") == TRANSCRIPT_MESSAGES


def test_earlier_messages_without_a_place_to_read_them() -> None:
    messages = [Message(Role.CUSTOMER, f"m{i}", ts=ESCALATED) for i in range(31)]
    first = sections(transcript_messages(messages)[0])[0].split("\n")[0]
    assert first == "_… 1 earlier message is not shown here_"


def test_agent_markup_becomes_plain_words() -> None:
    raw = (
        "Hi <@U0AGENT002>, see <https://shop.example/o?a=1&amp;b=2|your order>, "
        "<https://shop.example/faq>, <mailto:help@shop.example|help@shop.example>, "
        "<#C0DESK0001|support-desk>, <!here> &lt;3 &amp; more"
    )
    assert mentioned_users(raw) == {"U0AGENT002"}
    assert plain_text(raw, {"U0AGENT002": "Sam"}) == (
        "Hi Sam, see your order (https://shop.example/o?a=1&b=2), "
        "https://shop.example/faq, help@shop.example, #support-desk, @here <3 & more"
    )


def test_an_unknown_mention_keeps_its_label_or_id() -> None:
    assert plain_text("<@U1|sam> and <@U2>", {}) == "sam and U2"
