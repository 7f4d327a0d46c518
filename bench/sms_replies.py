"""The SMS benches' reply counting: the fake Twilio's message-create calls and the service's
own count of inbound SMS, checked against the webhooks posted.

Exactly one reply per distinct MessageSid must reach the fake (the questions are ones the bot
answers itself), none for a retry.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import aiohttp

from bench.sms_webhooks import Ack, Webhook
from tests.support.twilio_fake import Call, FakeTwilio

SETTLE_S = 1.0  # after the expected replies arrived, how long to watch for extra ones
POLL_S = 0.05


async def wait_for_replies(
    fake: FakeTwilio, baseline: int, expected: int, timeout_s: float
) -> None:
    """Until ``expected`` messages were created after the first ``baseline`` calls, then
    ``SETTLE_S`` more for extra ones (or ``timeout_s`` in all)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sum(call.status == 201 for call in fake.calls[baseline:]) >= expected:
            await asyncio.sleep(SETTLE_S)
            return
        await asyncio.sleep(POLL_S)


async def inbound_counts(session: aiohttp.ClientSession, root: str) -> dict[str, float]:
    """The service's own count of inbound SMS by outcome (``/metrics``)."""
    async with session.get(f"{root}/metrics") as response:
        text = await response.text()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("omnibot_inbound_messages_total{") and 'channel="sms"' in line:
            outcome = re.search(r'outcome="([^"]+)"', line)
            if outcome:
                counts[outcome.group(1)] = float(line.rsplit(" ", 1)[1])
    return counts


def replies_check(
    hooks: Sequence[Webhook], acks: Sequence[Ack], replies: Sequence[Call]
) -> dict[str, Any]:
    """Missing and extra replies per customer, and the time from each message's due time to
    its reply (the k-th reply to a customer paired with their k-th message)."""
    asked: dict[str, list[float]] = defaultdict(list)
    for hook, ack in zip(hooks, acks, strict=True):
        if not hook.retry:
            asked[hook.sender].append(ack.due)
    answered: dict[str, list[float]] = defaultdict(list)
    for call in replies:
        answered[call["To"]].append(call.at)
    missing = extra = 0
    answer_s: list[float] = []
    for sender in asked.keys() | answered.keys():
        dues, ats = asked.get(sender, []), answered.get(sender, [])
        missing += max(0, len(dues) - len(ats))
        extra += max(0, len(ats) - len(dues))
        if len(dues) == len(ats):
            answer_s.extend(at - due for due, at in zip(dues, ats, strict=True))
    return {"missing": missing, "extra": extra, "answer_s": answer_s}
