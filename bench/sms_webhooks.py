"""The SMS benches' load: signed inbound-SMS webhooks, planned and posted open loop.

``plan`` draws questions from random customers (a share of them Twilio retries, an already
posted MessageSid posted again); ``send_open_loop`` posts webhook ``i`` at ``start + i / rate``
whatever happened to earlier ones, and each :class:`Ack` keeps its due time, so a late send
counts against the service, not for it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp

from bench.service import PUBLIC_URL, SHOP_NUMBER
from connectors.sms.connector import WEBHOOK_PATH
from tests.support.twilio_fake import AUTH_TOKEN, inbound_form, signature

REQUEST_TIMEOUT_S = 10.0
WARMUP_MESSAGES = 20
RETRY_WINDOW = 400  # a retry re-posts one of the last this-many original webhooks
ORDER_QUESTION = "where is my order?"
ORDER_NUMBERS = ("100234", "100377", "100412", "100598", "100655")  # the bundled sample orders
# Questions the bot answers itself (a confident intent, no escalation), so every one of them
# gets exactly one reply; "where is my order?" is followed by the customer's order number.
QUESTIONS = (
    ORDER_QUESTION,
    "where is order 100377?",
    "how long is delivery to Canada?",
    "what are your opening hours?",
    "I want to return my shoes",
    "can I pay with PayPal?",
    "how much does delivery cost?",
    "when will I get my refund?",
    "where is your nearest store?",
    "can I pick up my order in store?",
    "do you have these jeans in size 32?",
    "I need to cancel my order",
    "can I change my delivery address?",
    "I forgot my password",
    "how long does shipping take?",
    "hi there",
    "thanks a lot",
)


@dataclass(frozen=True)
class Webhook:
    """One inbound-SMS webhook to post: the encoded signed form and what it stands for."""

    sid: str
    sender: str
    body: bytes
    headers: dict[str, str]
    retry: bool


@dataclass(frozen=True)
class Ack:
    """How one webhook went: its due time, when it was sent and answered, and whether 200."""

    due: float
    sent: float
    done: float
    ok: bool
    status: int  # 0: no HTTP answer


def make_webhook(sid: str, sender: str, text: str, retry: bool = False) -> Webhook:
    """A webhook Twilio would post for ``text`` from ``sender``, signed for ``PUBLIC_URL``."""
    form = inbound_form(sid, sender, text, to=SHOP_NUMBER)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **signature(PUBLIC_URL + WEBHOOK_PATH, form, AUTH_TOKEN),
    }
    return Webhook(sid, sender, urlencode(form).encode(), headers, retry)


def plan(
    count: int, customers: int, retry_share: float, seed: int, prefix: str = "+1555"
) -> list[Webhook]:
    """``count`` webhooks: questions from random customers, ``retry_share`` of them retries."""
    rng = random.Random(seed)
    numbers = [f"{prefix}{2_000_000 + i:07d}" for i in range(customers)]
    follow_up: dict[str, str] = {}
    originals: list[Webhook] = []
    hooks: list[Webhook] = []
    for _ in range(count):
        if originals and rng.random() < retry_share:
            again = rng.choice(originals[-RETRY_WINDOW:])
            hooks.append(Webhook(again.sid, again.sender, again.body, again.headers, True))
            continue
        sender = rng.choice(numbers)
        text = follow_up.pop(sender, None) or rng.choice(QUESTIONS)
        if text == ORDER_QUESTION:
            follow_up[sender] = f"it's {rng.choice(ORDER_NUMBERS)}"
        hook = make_webhook(f"SM{rng.getrandbits(128):032x}", sender, text)
        originals.append(hook)
        hooks.append(hook)
    return hooks


async def post(session: aiohttp.ClientSession, url: str, hook: Webhook, due: float) -> Ack:
    """Post one webhook; its ack counts as good only as HTTP 200 with a TwiML body."""
    sent = time.monotonic()
    status, ok = 0, False
    try:
        async with session.post(url, data=hook.body, headers=hook.headers) as response:
            text = await response.text()
            status = response.status
            ok = status == 200 and "<Response" in text
    except (aiohttp.ClientError, TimeoutError):
        pass
    return Ack(due, sent, time.monotonic(), ok, status)


async def send_open_loop(
    session: aiohttp.ClientSession, url: str, hooks: Sequence[Webhook], rate: float
) -> list[Ack]:
    """Post ``hooks[i]`` at ``start + i / rate``, never waiting for earlier answers."""
    tasks: list[asyncio.Task[Ack]] = []
    start = time.monotonic() + 0.05
    for i, hook in enumerate(hooks):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(session, url, hook, due)))
    await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 5)
    acks = []
    for i, task in enumerate(tasks):
        if task.done():
            acks.append(task.result())
        else:
            task.cancel()
            due = start + i / rate
            acks.append(Ack(due, due, time.monotonic(), False, 0))
    return acks
