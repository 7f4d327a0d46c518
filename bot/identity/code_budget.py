"""How many phone codes may be texted: per customer, number and IP address, and the site's
budget an hour in all and per destination country (only to the countries the shop texts).

Every code is a text the shop pays for; :class:`CodeLimits` counts each code against every
limit before :class:`bot.identity.verification.Identity` issues it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
import redis.asyncio as redis

from bot.metrics import Metrics
from bot.storage.limits import RateLimiter

CODES_PER_HOUR = 3
CODES_PER_IP_HOUR = 10  # one office behind one address may link a few phones, not hundreds
# Every code is a text the shop pays for: a few addresses asking codes for many numbers (SMS
# pumping) pass every per-number and per-address limit, so the whole site has a budget too.
CODES_SITE_HOUR = 100
CODES_COUNTRY_HOUR = 50  # one destination country may use half of it
ANY_COUNTRY = "*"
UNKNOWN_COUNTRY = "ZZ"  # phonenumbers' name for a region it cannot tell
SITE_KEY = "all"

log = logging.getLogger(__name__)


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


class CodeLimits:
    """The rate limits of phone codes, in Redis (shared by every process)."""

    def __init__(
        self, client: redis.Redis, budget: CodeBudget, metrics: Metrics | None = None
    ) -> None:
        """``metrics`` counts refusals by reason (not when None)."""
        self._budget = budget
        self._metrics = metrics
        self._per_number = RateLimiter(client, "code-number", CODES_PER_HOUR, 3600)
        self._per_customer = RateLimiter(client, "code-customer", CODES_PER_HOUR, 3600)
        self._per_ip = RateLimiter(client, "code-ip", CODES_PER_IP_HOUR, 3600)
        self._per_country = RateLimiter(client, "code-country", budget.per_country_hour, 3600)
        self._site = RateLimiter(client, "code-site", budget.per_hour, 3600)

    async def allow(self, cid: str, phone: str, ip: str | None) -> None:
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
