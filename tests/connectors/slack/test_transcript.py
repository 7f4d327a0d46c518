"""A ticket's transcript names the help-centre article a bot answer was taken from."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.article import ArticleRef
from bot.models import Message, Role
from connectors.slack.text import SlackMessage
from connectors.slack.transcript import message_line, transcript_messages

AT = datetime(2026, 11, 28, 14, 5, tzinfo=UTC).timestamp()
CARE = ArticleRef("care", "Caring for *merino*", "https://help.example.com/care?a=1&b=2", 0.9)


def lines(message: SlackMessage) -> list[str]:
    """The transcript's lines, from the text of its section blocks."""
    texts = [b["text"]["text"] for b in message[1] if b["type"] == "section" and "text" in b]
    return "\n".join(texts).split("\n")


def test_a_bot_answer_from_an_article_names_it_after_its_text() -> None:
    (transcript,) = transcript_messages(
        [
            Message(Role.CUSTOMER, "how do I wash merino?", ts=AT, channel="webchat"),
            Message(Role.BOT, "Wash it cold.", ts=AT + 60, article=CARE),
            Message(Role.CUSTOMER, "I want a person", ts=AT + 120, channel="webchat"),
        ]
    )
    link = "<https://help.example.com/care?a=1&amp;b=2|https://help.example.com/care?a=1&amp;b=2>"
    assert lines(transcript)[1:] == [
        "`14:05` *Customer* (Web chat): how do I wash merino?",
        # the title is shown as written: its asterisks are look-alikes that format nothing
        f"`14:06` *Assistant*: Wash it cold. (answered from: Caring for \u2217merino\u2217 {link})",
        "`14:07` *Customer* (Web chat): I want a person",
    ]


def test_a_later_bot_line_names_its_article_and_other_urls_are_no_links() -> None:
    trap = ArticleRef("trap", "Gift cards", "javascript:alert(1)", 0.9)
    _, blocks = message_line(Message(Role.BOT, "They never expire.", ts=AT, article=trap))
    (line,) = lines(("", blocks))
    assert line.endswith("They never expire. (answered from: Gift cards javascript:alert(1))")
    no_url = ArticleRef("k", "Gift cards", None, 0.9)
    _, blocks = message_line(Message(Role.BOT, "Never.", ts=AT, article=no_url))
    assert lines(("", blocks))[0].endswith("Never. (answered from: Gift cards)")


def test_only_a_bot_message_names_an_article() -> None:
    _, blocks = message_line(Message(Role.AGENT, "Hi", ts=AT, author="Dana", article=CARE))
    assert "answered from" not in lines(("", blocks))[0]
