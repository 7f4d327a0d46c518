"""Verified links between a customer's addresses: one-time SMS codes and single-use web links.

Nothing here links anyone on a claim: a phone number is linked to a web chat customer only by
the code texted to that number (6 digits, 10 minutes, 5 wrong tries, then void; at most 3 codes
an hour per number and per customer, 10 an hour per IP address), and an SMS customer opens the
web chat on their conversation only through a link texted to them
(``PUBLIC_URL/?continue=<token>``: 192 random bits, 15 minutes, used once).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as redis

from bot.keys import continue_key, customer_key
from bot.limits import RateLimiter

CODE_DIGITS = 6
CODE_TTL_S = 600
MAX_TRIES = 5
CODES_PER_HOUR = 3
CODES_PER_IP_HOUR = 10  # one office behind one address may link a few phones, not hundreds
LINK_TTL_S = 900
LINK_BYTES = 24  # 192 bits
LINK_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")  # token_urlsafe(LINK_BYTES)
PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164
PHONE_NOISE = re.compile(r"[\s().\-/]")

# KEYS: the pending code. ARGV: the digest offered, now, max tries.
# Returns {status, phone or tries left}: 1 linked, 0 wrong, -1 expired, -2 void, -3 none.
CHECK = """
local code = redis.call('HMGET', KEYS[1], 'phone', 'digest', 'expires', 'tries')
if not code[1] then return {-3, ''} end
if tonumber(code[3]) < tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return {-1, ''}
end
if code[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {1, code[1]}
end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return {-2, ''}
end
return {0, tostring(tonumber(ARGV[3]) - tries)}
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


class CodeRefusedError(Exception):
    """No code was sent: the number is not one (``retry_after_s`` None) or too many codes were
    asked for it or by this customer (try again after ``retry_after_s``)."""

    def __init__(self, reason: str, retry_after_s: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


def phone_number(text: str) -> str | None:
    """``text`` as an E.164 number (``+`` and 7-15 digits; ``00`` read as ``+``), or None."""
    compact = PHONE_NOISE.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact if PHONE_RE.match(compact) else None


def _digest(cid: str, code: str) -> str:
    """What is stored of a code: never the code itself."""
    return hashlib.sha256(f"{cid}:{code}".encode()).hexdigest()


class Identity:
    """Issues and checks phone codes and web links, in Redis (shared by every process)."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._per_number = RateLimiter(client, "code-number", CODES_PER_HOUR, 3600)
        self._per_customer = RateLimiter(client, "code-customer", CODES_PER_HOUR, 3600)
        self._per_ip = RateLimiter(client, "code-ip", CODES_PER_IP_HOUR, 3600)
        self._check = client.register_script(CHECK)

    async def issue_code(self, cid: str, phone: str, ip: str | None = None) -> str:
        """A new code for linking ``phone`` to customer ``cid`` (replacing a pending one), asked
        from ``ip`` when known; the caller texts it to ``phone``. :class:`CodeRefusedError`
        when not allowed."""
        limits = [(self._per_customer, cid), (self._per_number, phone)]
        if ip:
            limits.append((self._per_ip, ip))
        for limiter, key in limits:
            wait = await limiter.retry_after(key)
            if wait is not None:
                raise CodeRefusedError("too many codes", wait)
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

    async def issue_link(self, cid: str) -> str:
        """A single-use token that opens the web chat on customer ``cid``'s conversation."""
        token = secrets.token_urlsafe(LINK_BYTES)
        await self._redis.set(continue_key(token), cid, ex=LINK_TTL_S)
        return token

    async def redeem_link(self, token: str) -> str | None:
        """The customer a link token opens (None when unknown, expired or used); void after."""
        if not LINK_TOKEN_RE.match(token):
            return None
        cid = await self._redis.getdel(continue_key(token))
        return None if cid is None else str(cid)
