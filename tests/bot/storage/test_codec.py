"""The stored forms of messages and meta, both ways, without Redis."""

from __future__ import annotations

import json

from bot.models import Message, Role
from bot.models.conversation import LinkStep
from bot.storage.codec import (
    EVENT_HEAD,
    EVENT_TAIL,
    covers_pending,
    decode_conversation,
    decode_message,
    encode_meta,
    has_number,
    numbered_parts,
)

# A customer's message as omnibot stored it before the format got one owner: data in Redis
# must stay readable.
STORED = (
    '{"seq": 12, "id": "m1", "role": "customer", "text": "hi", "ts": 1765432100.123456, '
    '"channel": "sms"}'
)


def numbered(message: Message, seq: int) -> str:
    """What the accept script stores: the parts joined around the number."""
    head, tail = numbered_parts(message)
    return f"{head}{seq}{tail}"


def test_a_numbered_message_is_its_json_with_the_number_first() -> None:
    message = Message(role=Role.CUSTOMER, text="hi", id="m1", ts=1765432100.123456, channel="sms")
    assert numbered(message, 12) == STORED
    decoded = Message.from_dict(json.loads(numbered(message, 12)))
    assert decoded.seq == 12
    assert decoded.ts == message.ts


def test_a_message_is_found_by_its_number_not_a_longer_one() -> None:
    assert has_number(STORED, 12)
    assert not has_number(STORED, 1)
    assert not has_number(STORED, 123)
    assert not has_number('{"id": "m1", "role": "bot", "text": "x", "ts": 1.0}', 12)


def test_the_unanswered_message_must_be_among_those_read() -> None:
    meta = {"answered": "11", "received": "13"}
    assert covers_pending(meta, [STORED], complete=False)
    assert not covers_pending({**meta, "answered": "12"}, [STORED], complete=False)
    assert covers_pending({**meta, "answered": "12"}, [STORED], complete=True)
    assert covers_pending({"answered": "13", "received": "13"}, [], complete=False)


def test_a_message_event_wraps_the_stored_json() -> None:
    event = json.loads(EVENT_HEAD + STORED + EVENT_TAIL)
    assert event == {"type": "message", "message": json.loads(STORED)}


def test_linking_has_its_own_field_beside_an_intents_question() -> None:
    values, cleared = encode_meta({"linking": LinkStep.CODE, "expect": None})
    assert (values, cleared) == ({"linking": "code"}, ["expect"])
    conversation = decode_conversation("c", {"linking": "code", "expect": "order_status"}, [])
    assert (conversation.linking, conversation.expect) == (LinkStep.CODE, "order_status")


def test_a_linking_step_stored_in_expect_still_loads_as_the_step() -> None:
    for stored, step in (("link:phone", LinkStep.PHONE), ("link:code", LinkStep.CODE)):
        conversation = decode_conversation("c", {"expect": stored}, [])
        assert (conversation.linking, conversation.expect) == (step, None)
    assert decode_conversation("c", {"expect": "order_status"}, []).linking is None


def test_a_history_loaded_again_reuses_its_decoded_messages() -> None:
    older = json.dumps(Message(Role.BOT, "Where is it going?", id="b1", ts=1.0).to_dict())
    first = decode_conversation("c1", {}, [STORED, older])
    again = decode_conversation("c1", {"answered": "12"}, [STORED, older])
    assert again.messages == first.messages
    assert all(a is b for a, b in zip(again.messages, first.messages, strict=True))
    assert decode_message(STORED).text == "hi"
    assert decode_message(STORED.replace('"hi"', '"hello"')).text == "hello"
