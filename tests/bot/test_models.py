"""Model round trips."""

from __future__ import annotations

from bot.models import Message, Role


def test_message_round_trips_through_its_dict() -> None:
    message = Message(role=Role.AGENT, text="hi", author="Dana", channel="webchat")
    assert Message.from_dict(message.to_dict()) == message
    assert set(message.to_dict()) == {"id", "role", "text", "ts", "author", "channel"}


def test_messages_get_distinct_ids() -> None:
    assert Message(role=Role.BOT, text="a").id != Message(role=Role.BOT, text="a").id
