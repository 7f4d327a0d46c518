"""Verified links between a customer's addresses: one-time SMS codes and single-use web links.

Nothing here links anyone on a claim: a phone number is linked to a web chat customer only by
the code texted to that number (6 digits, 10 minutes, 5 wrong tries, then void; at most 3 codes
an hour per number and per customer, 10 an hour per IP address, a site-wide budget an hour in
all and per destination country, and only to the countries the shop texts), and an SMS customer
opens the
web chat on their conversation only through a link texted to them
(``PUBLIC_URL/?continue=<token>``: 192 random bits, 15 minutes, used once; it names the phone
it was texted to, so whoever opens it is shown whose conversation it is).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
import redis.asyncio as redis

from bot.metrics import Metrics
from bot.storage.keys import continue_key, customer_key
from bot.storage.limits import RateLimiter

CODE_DIGITS = 6
CODE_TTL_S = 600
MAX_TRIES = 5
CODES_PER_HOUR = 3
CODES_PER_IP_HOUR = 10  # one office behind one address may link a few phones, not hundreds
# Every code is a text the shop pays for: a few addresses asking codes for many numbers (SMS
# pumping) pass every per-number and per-address limit, so the whole site has a budget too.
CODES_SITE_HOUR = 100
CODES_COUNTRY_HOUR = 50  # one destination country may use half of it
ANY_COUNTRY = "*"
UNKNOWN_COUNTRY = "ZZ"  # phonenumbers' name for a region it cannot tell
SITE_KEY = "all"
LINK_TTL_S = 900
LINK_BYTES = 24  # 192 bits
LINK_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")  # token_urlsafe(LINK_BYTES)
PHONE_RE = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164
PHONE_NOISE = re.compile(r"[\s().\-/]")

log = logging.getLogger(__name__)

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


class Refusal(StrEnum):
    """Why no code was texted (the ``reason`` of ``omnibot_link_code_refusals_total``)."""

    CUSTOMER = "customer"  # this customer asked too many
    NUMBER = "number"  # too many for this number
    IP = "ip"  # too many from this address
    COUNTRY = "country"  # the hour's budget of the number's country is spent
    SITE = "site"  # the hour's budget of the whole site is spent
    COUNTRY_NOT_ALLOWED = "country_not_allowed"  # the shop does not text that country


class CodeRefusedError(Exception):
    """No code was sent: the shop does not text the number's country (``retry_after_s``
    None) or too many codes were asked (try again after ``retry_after_s``)."""

    def __init__(self, reason: Refusal, retry_after_s: int | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class CodeBudget:
    """How many codes may be texted an hour, in all and to each destination country, and
    the countries (ISO 3166 region codes) texted at all; ``countries`` None: any."""

    per_hour: int = CODES_SITE_HOUR
    per_country_hour: int = CODES_COUNTRY_HOUR
    countries: frozenset[str] | None = None

    @classmethod
    def build(
        cls,
        per_hour: int,
        per_country_hour: int,
        allowed: Iterable[str],
        shop_number: str | None,
    ) -> CodeBudget:
        """The budget from the settings: ``allowed`` countries (``*``: any); none listed, the
        shop number's own country (any when there is no number or its country is unknown)."""
        listed = frozenset(allowed)
        if ANY_COUNTRY in listed:
            return cls(per_hour, per_country_hour, None)
        if listed:
            return cls(per_hour, per_country_hour, listed)
        home = country_of(shop_number) if shop_number else UNKNOWN_COUNTRY
        if home not in phonenumbers.SUPPORTED_REGIONS:
            log.warning("phone codes may be texted to any country: set SMS_ALLOWED_COUNTRIES")
            return cls(per_hour, per_country_hour, None)
        return cls(per_hour, per_country_hour, frozenset({home}))


def country_of(phone: str) -> str:
    """The ISO 3166 region of an E.164 number (a shared calling code's main country when the
    number fits none of its regions; ``ZZ`` when unknown)."""
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return UNKNOWN_COUNTRY
    region = phonenumbers.region_code_for_number(number)
    return region or phonenumbers.region_code_for_country_code(number.country_code or 0)


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
        self._budget = budget or CodeBudget()
        self._metrics = metrics
        self._per_number = RateLimiter(client, "code-number", CODES_PER_HOUR, 3600)
        self._per_customer = RateLimiter(client, "code-customer", CODES_PER_HOUR, 3600)
        self._per_ip = RateLimiter(client, "code-ip", CODES_PER_IP_HOUR, 3600)
        self._per_country = RateLimiter(client, "code-country", self._budget.per_country_hour, 3600)
        self._site = RateLimiter(client, "code-site", self._budget.per_hour, 3600)
        self._check = client.register_script(CHECK)

    async def issue_code(self, cid: str, phone: str, ip: str | None = None) -> str:
        """A new code for linking ``phone`` to customer ``cid`` (replacing a pending one), asked
        from ``ip`` when known; the caller texts it to ``phone``. :class:`CodeRefusedError`
        when not allowed."""
        await self._allow(cid, phone, ip)
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

    async def _allow(self, cid: str, phone: str, ip: str | None) -> None:
        """Count a code against every limit; :class:`CodeRefusedError` at the first one spent.
        The shared budgets come last, so what one asker is refused does not spend them."""
        country = country_of(phone)
        allowed = self._budget.countries
        if allowed is not None and country not in allowed:
            self._refuse(Refusal.COUNTRY_NOT_ALLOWED, None)
        limits = [
            (Refusal.CUSTOMER, self._per_customer, cid),
            (Refusal.NUMBER, self._per_number, phone),
        ]
        if ip:
            limits.append((Refusal.IP, self._per_ip, ip))
        limits.append((Refusal.COUNTRY, self._per_country, country))
        limits.append((Refusal.SITE, self._site, SITE_KEY))
        for reason, limiter, key in limits:
            wait = await limiter.retry_after(key)
            if wait is not None:
                self._refuse(reason, wait)

    def _refuse(self, reason: Refusal, retry_after_s: int | None) -> None:
        if self._metrics is not None:
            self._metrics.link_code_refusals.labels(reason=reason.value).inc()
        if reason in (Refusal.SITE, Refusal.COUNTRY):  # every customer is refused meanwhile
            log.warning("phone codes refused: the hour's %s budget is spent", reason.value)
        raise CodeRefusedError(reason, retry_after_s)

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
