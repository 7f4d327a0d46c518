"""Verified links between a customer's addresses: one-time SMS codes and single-use web links.

Nothing here links anyone on a claim: a phone number is linked to a web chat customer only by
the code texted to that number (6 digits, 10 minutes, 5 wrong tries, then void; at most 3 codes
an hour per number and per customer, 10 an hour per IP address, a site-wide budget an hour in
all and per destination country, and only to the countries the shop texts:
:mod:`bot.identity.code_budget`), and an SMS customer opens the web chat on their conversation
only through a link texted to them
(``PUBLIC_URL/?continue=<token>``: 192 random bits, 15 minutes, used once; it names the phone
it was texted to, so whoever opens it is shown whose conversation it is).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as redis

from bot.identity.code_budget import CodeBudget, CodeLimits
from bot.metrics import Metrics
from bot.storage.keys import continue_key, customer_key

CODE_DIGITS = 6
CODE_TTL_S = 600
MAX_TRIES = 5
LINK_TTL_S = 900
LINK_BYTES = 24  # 192 bits
LINK_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")  # token_urlsafe(LINK_BYTES)
PHONE_RE = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164
PHONE_NOISE = re.compile(r"[\s().\-/]")

# Checks a typed code (its digest) against the pending one, counting a wrong try.
# Returns {status, phone or tries left}: 1 linked, 0 wrong, -1 expired, -2 void, -3 none.
CHECK = """
local pending = KEYS[1]
local digest, now, max_tries = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local code = redis.call('HMGET', pending, 'phone', 'digest', 'expires', 'tries')
local phone, expected, expires = code[1], code[2], code[3]
if not phone then return {-3, ''} end
if tonumber(expires) < now then
  redis.call('DEL', pending)
  return {-1, ''}
end
if expected == digest then
  redis.call('DEL', pending)
  return {1, phone}
end
local tries = redis.call('HINCRBY', pending, 'tries', 1)
if tries >= max_tries then
  redis.call('DEL', pending)
  return {-2, ''}
end
return {0, tostring(max_tries - tries)}
"""


class Check(StrEnum):
    """What became of a code the customer typed."""

    LINKED = "linked"
    WRONG = "wrong"
    EXPIRED = "expired"
    VOID = "void"  # too many wrong tries
    NONE = "none"  # no code pending


@dataclass(frozen=True)
class CodeCheck:
    """A checked code: the outcome, the verified phone (LINKED), the tries left (WRONG)."""

    outcome: Check
    phone: str | None = None
    tries_left: int = 0


@dataclass(frozen=True)
class LinkGrant:
    """What a "continue on the web" link opens: customer ``cid``'s conversation, texted to
    ``phone`` (None for a link issued before links named their phone)."""

    cid: str
    phone: str | None


def phone_number(text: str) -> str | None:
    """``text`` as an E.164 number (``+`` and 7-15 digits; ``00`` read as ``+``), or None."""
    compact = PHONE_NOISE.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact if PHONE_RE.fullmatch(compact) else None


def _digest(cid: str, code: str) -> str:
    """What is stored of a code: never the code itself."""
    return hashlib.sha256(f"{cid}:{code}".encode()).hexdigest()


class Identity:
    """Issues and checks phone codes and web links, in Redis (shared by every process)."""

    def __init__(
        self,
        client: redis.Redis,
        budget: CodeBudget | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._redis = client
        self._limits = CodeLimits(client, budget or CodeBudget(), metrics)
        self._check = client.register_script(CHECK)

    async def issue_code(self, cid: str, phone: str, ip: str | None = None) -> str:
        """A new code for linking ``phone`` to customer ``cid`` (replacing a pending one), asked
        from ``ip`` when known; the caller texts it to ``phone``. :class:`CodeRefusedError`
        when not allowed."""
        await self._limits.allow(cid, phone, ip)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        key = customer_key(cid, "code")
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(
            key,
            mapping={
                "phone": phone,
                "digest": _digest(cid, code),
                "expires": str(time.time() + CODE_TTL_S),
                "tries": "0",
            },
        )
        pipe.expire(key, CODE_TTL_S)
        await pipe.execute()
        return code

    async def pending_phone(self, cid: str) -> str | None:
        """The number a code is pending for, if one is."""
        phone = await self._redis.hget(customer_key(cid, "code"), "phone")
        return None if phone is None else str(phone)

    async def check_code(self, cid: str, code: str) -> CodeCheck:
        """Check a code the customer typed (each wrong one counts; the fifth voids it)."""
        offered = _digest(cid, code.strip())
        status, value = await self._check(
            keys=[customer_key(cid, "code")], args=[offered, time.time(), MAX_TRIES]
        )
        outcome = {1: Check.LINKED, 0: Check.WRONG, -1: Check.EXPIRED, -2: Check.VOID}.get(
            int(status), Check.NONE
        )
        if outcome is Check.LINKED:
            return CodeCheck(outcome, phone=str(value))
        if outcome is Check.WRONG:
            return CodeCheck(outcome, tries_left=int(value))
        return CodeCheck(outcome)

    async def cancel_code(self, cid: str) -> None:
        """Drop a pending code."""
        await self._redis.delete(customer_key(cid, "code"))

    async def issue_link(self, cid: str, phone: str) -> str:
        """A single-use token that opens the web chat on customer ``cid``'s conversation, for
        the holder of ``phone`` (the number it is texted to, shown to whoever opens it)."""
        token = secrets.token_urlsafe(LINK_BYTES)
        grant = json.dumps({"cid": cid, "phone": phone})
        await self._redis.set(continue_key(token), grant, ex=LINK_TTL_S)
        return token

    async def peek_link(self, token: str) -> LinkGrant | None:
        """What a link token would open (None when unknown, expired or used), leaving it
        unused: a visitor is asked before it is redeemed."""
        if not LINK_TOKEN_RE.fullmatch(token):
            return None
        return _grant(await self._redis.get(continue_key(token)))

    async def redeem_link(self, token: str) -> LinkGrant | None:
        """What a link token opens (None when unknown, expired or used); void after."""
        if not LINK_TOKEN_RE.fullmatch(token):
            return None
        return _grant(await self._redis.getdel(continue_key(token)))

    async def mark_opened_by_link(self, cid: str, phone: str | None, ttl_s: int) -> None:
        """Remember that customer ``cid``'s conversation was opened on the web by a link texted
        to ``phone`` (kept ``ttl_s``, the customer's lifetime): no other phone is linked to it."""
        await self._redis.set(customer_key(cid, "via_link"), phone or "", ex=ttl_s)

    async def opened_by_link(self, cid: str) -> str | None:
        """The phone whose link opened customer ``cid``'s conversation on the web ("" when the
        link named none), or None when no link did."""
        phone = await self._redis.get(customer_key(cid, "via_link"))
        return None if phone is None else str(phone)

    async def keep_typed(self, cid: str, code: str) -> None:
        """Keep a code customer ``cid`` typed aside until it is checked (the history stores a
        placeholder): a set, so a message resent after a reconnect adds nothing."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(customer_key(cid, "typed"), code)
        pipe.expire(customer_key(cid, "typed"), CODE_TTL_S)
        await pipe.execute()

    async def take_typed(self, cid: str) -> list[str]:
        """The codes customer ``cid`` typed and nobody checked yet, removed."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.smembers(customer_key(cid, "typed"))
        pipe.delete(customer_key(cid, "typed"))
        codes, _ = await pipe.execute()
        return sorted(str(code) for code in codes)


def _grant(stored: object) -> LinkGrant | None:
    """A stored link's grant; a bare customer id is a link issued before links named a phone."""
    if stored is None:
        return None
    text = str(stored)
    if not text.startswith("{"):
        return LinkGrant(text, None)
    data = json.loads(text)
    return LinkGrant(str(data["cid"]), data.get("phone"))
