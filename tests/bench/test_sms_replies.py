"""The SMS benches' reply check: one reply per original message, none for a retry."""

from __future__ import annotations

import pytest

from bench.sms_replies import replies_check
from bench.sms_webhooks import Ack, Webhook
from tests.support.twilio_fake import Call

A, B = "+15552000001", "+15552000002"


def hook(sid: str, sender: str, retry: bool = False) -> Webhook:
    """A webhook as the plan gives it (its form left empty: the check reads sender and retry)."""
    return Webhook(sid, sender, b"", {}, retry)


def ack(due: float, ok: bool = True) -> Ack:
    """An ack 10 ms after its due time."""
    return Ack(due, due, due + 0.01, ok, 200 if ok else 503)


def reply(to: str, at: float) -> Call:
    """A message created at the fake."""
    return Call({"To": to, "Body": "..."}, at, 201, "SMx")


HOOKS = [hook("s1", A), hook("s2", B), hook("s1", A, retry=True), hook("s3", A)]
ACKS = [ack(0.0), ack(1.0), ack(2.0), ack(3.0, ok=False)]


def test_replies_pair_with_messages_in_order() -> None:
    check = replies_check(HOOKS, ACKS, [reply(A, 0.5), reply(B, 1.25), reply(A, 3.5)])
    assert (check["missing"], check["extra"]) == (0, 0)
    assert sorted(check["answer_s"]) == pytest.approx([0.25, 0.5, 0.5])


def test_a_missing_and_a_doubled_reply_are_counted() -> None:
    check = replies_check(HOOKS, ACKS, [reply(A, 0.5), reply(B, 1.2), reply(B, 2.2)])
    assert (check["missing"], check["extra"]) == (1, 1)
    assert check["answer_s"] == []
