"""Model round trips, and the text every message is cleaned to."""

from __future__ import annotations

import json
import os

import pytest

from bot.models import Address, Channel, InboundMessage, Message, Role
from bot.models.channels import CHANNELS, WEBCHAT_MAX_CHARS, channel_info, too_long
from bot.models.messages import clean_text, message_id


def test_message_round_trips_through_its_dict() -> None:
    message = Message(role=Role.AGENT, text="hi", author="Dana", channel="webchat")
    assert Message.from_dict(message.to_dict()) == message
    assert set(message.to_dict()) == {"id", "role", "text", "ts", "author", "channel"}


def test_messages_get_distinct_ids() -> None:
    assert Message(role=Role.BOT, text="a").id != Message(role=Role.BOT, text="a").id


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("where is my order?", "where is my order?"),
        ("\ud800", "\ufffd"),  # a lone high surrogate
        ("a\udc00b", "a\ufffdb"),  # a lone low surrogate
        ("x\ud83d", "x\ufffd"),  # half of a pair at the end
        ("\ud83d\ude00!", "\U0001f600!"),  # a pair split into two code points is joined
        ("no\x00 nul\x1b[31m\x7f", "no nul[31m"),  # NUL, ESC and DEL removed
        ("line\nnext\r\n\ttab \u00e9\u4e2d", "line\nnext\r\n\ttab \u00e9\u4e2d"),
    ],
)
def test_clean_text_leaves_only_text_utf8_can_carry(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    clean_text(raw).encode("utf-8")  # would raise on any surrogate left


def test_every_message_is_cleaned_whoever_wrote_it() -> None:
    inbound = InboundMessage(Address("webchat", "t"), json.loads('"hi \\ud800"'))
    assert inbound.text == "hi \ufffd"
    agent = Message(role=Role.AGENT, text="ok\ud800\x00", author="Da\udc00na")
    assert (agent.text, agent.author) == ("ok\ufffd", "Da\ufffdna")


def test_a_message_stored_before_cleaning_is_clean_when_read() -> None:
    stored = json.loads('{"id": "1", "role": "customer", "text": "\\ud800 hi", "ts": 1.0}')
    assert Message.from_dict(stored).text == "\ufffd hi"


def test_a_channel_is_its_name_on_the_wire() -> None:
    assert Channel("webchat") is Channel.WEBCHAT
    assert f"{Channel.WEBCHAT}" == "webchat"  # in keys, labels and logs
    assert Address(Channel.SMS, "+15550001111") == Address("sms", "+15550001111")
    message = Message(role=Role.CUSTOMER, text="hi", channel=Channel.WEBCHAT)
    assert json.loads(json.dumps(message.to_dict()))["channel"] == "webchat"


def test_each_customer_channel_declares_what_it_carries() -> None:
    assert set(CHANNELS) == {Channel.SMS, Channel.WEBCHAT}  # the desk is no customer's
    assert channel_info("webchat") == CHANNELS[Channel.WEBCHAT]
    assert channel_info("desk") is None
    assert channel_info("fax") is None
    assert channel_info(None) is None
    assert {c for c, info in CHANNELS.items() if info.opt_out} == {Channel.SMS}


def test_only_a_limited_channel_refuses_a_long_text() -> None:
    limit = CHANNELS[Channel.WEBCHAT].max_chars
    assert limit == WEBCHAT_MAX_CHARS == 2000
    assert not too_long("webchat", "x" * 2000)
    assert too_long("webchat", "x" * 2001)
    assert not too_long("sms", "x" * 5000)  # split into parts by the connector
    assert not too_long(None, "x" * 5000)


def test_message_ids_are_unique_hex_and_differ_between_processes() -> None:
    """Message ids: 32 hex digits like new_id(), never repeated in a process, and a child
    process (a fork) draws its own prefix, so two processes never hand out the same id."""
    ids = [message_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child writes its next id and leaves at once
        os.write(write, message_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    os.close(read)
    assert len(theirs) == 32
    assert theirs[:16] != ids[0][:16]
