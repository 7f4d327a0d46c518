"""How a conversation's meta hash and history list are encoded in Redis, both ways."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import TypedDict

from bot.events import message_event
from bot.models import Address, Conversation, Customer, Message, MessageDict, Role, State, Survey
from bot.models.conversation import PROFILE_FIELDS, Escalation, LinkStep

ATTRIBUTE = "attr:"  # prefix of a free attribute's field in the profile hash
IP_FIELD = "ip"
# Before linking had its own field, its step was kept in ``expect`` as "link:phone"/"link:code":
# such meta still loads as that step (and the flow's next write clears the old value).
LEGACY_LINK_PREFIX = "link:"
# A customer's message is numbered inside the accept script (bot/storage/scripts.py ACCEPT,
# ``numbered_head .. seq .. numbered_tail``), so its stored JSON starts with its number: this
# module owns that byte format, both the parts the script joins (:func:`numbered_parts`) and
# the test for a message's number (:func:`has_number`). Stored data keeps this exact prefix.
NUMBERED_HEAD = '{"seq": '
_SAMPLE: MessageDict = {"id": "", "role": Role.BOT.value, "text": "", "ts": 0.0}
# a message event around a message's JSON (bot.events owns the event's format)
EVENT_HEAD, _, EVENT_TAIL = message_event(_SAMPLE).partition(json.dumps(_SAMPLE))
# A conversation's recent messages are loaded again at each of its turns: the stored JSON of
# the last few thousand is kept decoded (a message is immutable, its JSON names it: its id).
DECODED_MESSAGES = 4096


class MetaUpdate(TypedDict, total=False):
    """Conversation fields to change in one write; ``None`` clears a field."""

    state: State
    misunderstood: int
    ticket: str | None
    agent: str | None
    last_address: Address
    expect: str | None
    linking: LinkStep | None
    slots: dict[str, str] | None
    answered: int
    escalation: Escalation | None
    previous_ticket: str | None
    notified_at: float
    csat: Survey | None  # the satisfaction survey pending (bot.insight.csat)


def encode_meta(update: MetaUpdate) -> tuple[dict[str, str], list[str]]:
    """The hash fields to set and those to delete for ``update``."""
    values: dict[str, str | None] = {}
    for name, value in update.items():
        if name == "last_address":
            assert isinstance(value, Address)
            values.update(last_channel=value.channel, last_id=value.id)
        elif name in ("slots", "escalation", "csat"):
            values[name] = (
                None
                if value is None
                else json.dumps(asdict(value) if isinstance(value, Escalation | Survey) else value)
            )
        else:
            values[name] = None if value is None else str(value)
    return (
        {k: v for k, v in values.items() if v is not None},
        [k for k, v in values.items() if v is None],
    )


def numbered_parts(message: Message) -> tuple[str, str]:
    """The two parts of ``message``'s stored JSON the accept script puts its number between."""
    assert message.seq is None, "the accept script numbers a message"
    return NUMBERED_HEAD, ", " + json.dumps(message.to_dict())[1:]


def has_number(item: str, seq: int) -> bool:
    """Whether ``item``, a message's stored JSON, is the message numbered ``seq``."""
    return item.startswith(f"{NUMBERED_HEAD}{seq},")


def decode_customer(cid: str, profile: Mapping[str, str], members: Iterable[str]) -> Customer:
    """Customer ``cid`` from its profile hash and address set."""
    addresses = tuple(sorted(Address(*m.split(":", 1)) for m in members))
    attributes = {
        name[len(ATTRIBUTE) :]: value
        for name, value in profile.items()
        if name.startswith(ATTRIBUTE)
    }
    known = {name: profile.get(name) for name in PROFILE_FIELDS}
    return Customer(
        id=cid, addresses=addresses, attributes=attributes, ip=profile.get(IP_FIELD), **known
    )


@functools.lru_cache(maxsize=DECODED_MESSAGES)
def decode_message(item: str) -> Message:
    """A message from its stored JSON."""
    return Message.from_dict(json.loads(item))


def decode_conversation(
    cid: str, meta: Mapping[str, str], raw: Sequence[str], customer: Customer | None = None
) -> Conversation:
    """The conversation of customer ``cid`` from its meta hash and (part of) its history."""
    last = None
    expect, linking = meta.get("expect"), meta.get("linking")
    if expect is not None and expect.startswith(LEGACY_LINK_PREFIX):
        linking = linking or expect.removeprefix(LEGACY_LINK_PREFIX)
        expect = None
    if meta.get("last_channel") and meta.get("last_id"):
        last = Address(meta["last_channel"], meta["last_id"])
    return Conversation(
        id=cid,
        customer_id=cid,
        state=State(meta.get("state", State.BOT.value)),
        messages=tuple(decode_message(item) for item in raw),
        misunderstood=int(meta.get("misunderstood", 0)),
        ticket=meta.get("ticket"),
        agent=meta.get("agent"),
        last_address=last,
        expect=expect,
        linking=LinkStep(linking) if linking else None,
        slots=json.loads(meta.get("slots") or "{}"),
        answered=int(meta.get("answered", 0)),
        escalation=Escalation(**json.loads(meta["escalation"])) if "escalation" in meta else None,
        previous_ticket=meta.get("previous_ticket"),
        notified_at=float(meta.get("notified_at", 0.0)),
        survey=Survey(**json.loads(meta["csat"])) if "csat" in meta else None,
        customer=customer,
    )


def covers_pending(meta: Mapping[str, str], raw: Sequence[str], complete: bool) -> bool:
    """Whether ``raw`` (the newest part of a history) holds every unanswered message.

    ``complete``: ``raw`` is the whole history.
    """
    answered, received = int(meta.get("answered", 0)), int(meta.get("received", 0))
    if complete or received <= answered:
        return True
    return any(has_number(item, answered + 1) for item in raw)
