"""Phone codes and web links: expiry, tries, rate limits, replay, bad input."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from bot.identity.code_budget import (
    CODES_PER_HOUR,
    CODES_PER_IP_HOUR,
    CodeBudget,
    CodeRefusedError,
    Refusal,
    country_of,
)
from bot.identity.verification import (
    CODE_TTL_S,
    LINK_TTL_S,
    MAX_TRIES,
    Check,
    Identity,
    LinkGrant,
    phone_number,
)
from bot.metrics import Metrics
from bot.storage.keys import continue_key, customer_key
from omnibot.settings import Settings, SettingsError
from tests.conftest import ON_SERVER_AND_CLUSTER

PHONE = "+15557654321"


@pytest.fixture
def identity(redis_client: aioredis.Redis) -> Identity:
    return Identity(redis_client)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@ON_SERVER_AND_CLUSTER
async def test_the_right_code_links_once(identity: Identity) -> None:
    code = await identity.issue_code("web", PHONE)
    assert len(code) == 6
    assert code.isdigit()
    assert await identity.pending_phone("web") == PHONE
    checked = await identity.check_code("web", f" {code} ")
    assert (checked.outcome, checked.phone) == (Check.LINKED, PHONE)
    assert (await identity.check_code("web", code)).outcome is Check.NONE  # used up


async def test_the_code_is_not_stored_and_belongs_to_its_customer(
    identity: Identity, redis_client: aioredis.Redis
) -> None:
    code = await identity.issue_code("web", PHONE)
    stored = await redis_client.hgetall(customer_key("web", "code"))
    assert code not in "".join(str(value) for value in stored.values())
    assert (await identity.check_code("someone-else", code)).outcome is Check.NONE


@ON_SERVER_AND_CLUSTER
async def test_wrong_codes_count_down_and_the_fifth_voids_it(identity: Identity) -> None:
    code = await identity.issue_code("web", PHONE)
    lefts = [(await identity.check_code("web", wrong(code))).tries_left for _ in range(4)]
    assert lefts == [MAX_TRIES - n for n in range(1, 5)]
    assert (await identity.check_code("web", wrong(code))).outcome is Check.VOID
    assert (await identity.check_code("web", code)).outcome is Check.NONE  # even the right one


async def test_an_expired_code_is_refused(identity: Identity, redis_client: aioredis.Redis) -> None:
    code = await identity.issue_code("web", PHONE)
    ttl = await redis_client.ttl(customer_key("web", "code"))
    assert CODE_TTL_S - 5 <= ttl <= CODE_TTL_S
    await redis_client.hset(customer_key("web", "code"), "expires", "1")  # ten minutes later
    assert (await identity.check_code("web", code)).outcome is Check.EXPIRED
    assert (await identity.check_code("web", code)).outcome is Check.NONE


async def test_a_new_code_replaces_the_pending_one(identity: Identity) -> None:
    first = await identity.issue_code("web", PHONE)
    second = await identity.issue_code("web", "+15550001111")
    if first != second:
        assert (await identity.check_code("web", first)).outcome is Check.WRONG
    checked = await identity.check_code("web", second)
    assert (checked.outcome, checked.phone) == (Check.LINKED, "+15550001111")


@ON_SERVER_AND_CLUSTER
async def test_codes_are_limited_per_customer_and_per_number(identity: Identity) -> None:
    for n in range(CODES_PER_HOUR):
        await identity.issue_code("web", f"+1555000{n:04d}")
    with pytest.raises(CodeRefusedError) as caught:
        await identity.issue_code("web", "+15559999999")
    assert caught.value.retry_after_s is not None
    assert 0 < caught.value.retry_after_s <= 3600
    for n in range(CODES_PER_HOUR):  # other customers, one number
        await identity.issue_code(f"session-{n}", PHONE)
    with pytest.raises(CodeRefusedError):
        await identity.issue_code("yet-another", PHONE)


@ON_SERVER_AND_CLUSTER
async def test_a_link_opens_its_customer_once(
    identity: Identity, redis_client: aioredis.Redis
) -> None:
    token = await identity.issue_link("sms-customer", PHONE)
    assert len(token) >= 22  # at least 128 bits
    assert LINK_TTL_S - 5 <= await redis_client.ttl(continue_key(token)) <= LINK_TTL_S
    assert await identity.redeem_link(token) == LinkGrant("sms-customer", PHONE)
    assert await identity.redeem_link(token) is None


async def test_peeking_at_a_link_leaves_it_usable(identity: Identity) -> None:
    token = await identity.issue_link("sms-customer", PHONE)
    for _ in range(2):
        assert await identity.peek_link(token) == LinkGrant("sms-customer", PHONE)
    assert await identity.redeem_link(token) == LinkGrant("sms-customer", PHONE)
    assert await identity.peek_link(token) is None


async def test_a_link_issued_before_links_named_a_phone_still_opens(
    identity: Identity, redis_client: aioredis.Redis
) -> None:
    token = "L" * 32
    await redis_client.set(continue_key(token), "sms-customer", ex=LINK_TTL_S)
    assert await identity.redeem_link(token) == LinkGrant("sms-customer", None)


@pytest.mark.parametrize(
    "token", ["", "x", "../../etc", "a" * 33, "a" * 31 + "!", "A" * 32, " " + "b" * 31]
)
async def test_malformed_guessed_or_unknown_tokens_open_nothing(
    identity: Identity, token: str
) -> None:
    await identity.issue_link("sms-customer", PHONE)
    assert await identity.peek_link(token) is None
    assert await identity.redeem_link(token) is None


async def test_a_conversation_opened_by_a_link_is_marked_with_its_phone(
    identity: Identity, redis_client: aioredis.Redis
) -> None:
    assert await identity.opened_by_link("sms-customer") is None
    await identity.mark_opened_by_link("sms-customer", PHONE, ttl_s=3600)
    assert await identity.opened_by_link("sms-customer") == PHONE
    assert 3595 <= await redis_client.ttl(customer_key("sms-customer", "via_link")) <= 3600
    await identity.mark_opened_by_link("old-link", None, ttl_s=3600)
    assert await identity.opened_by_link("old-link") == ""


async def test_typed_codes_are_kept_once_and_taken_once(identity: Identity) -> None:
    for code in ("123456", "123456", "654321"):  # a resend after a reconnect adds nothing
        await identity.keep_typed("web", code)
    assert await identity.take_typed("web") == ["123456", "654321"]
    assert await identity.take_typed("web") == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("+1 (555) 765-4321", "+15557654321"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+33.6.12.34.56.78", "+33612345678"),
        ("555-1234", None),
        ("+0123456789", None),
        ("call me", None),
        ("+1555765432112345678", None),
    ],
)
def test_phone_numbers_are_read_as_e164(text: str, number: str | None) -> None:
    assert phone_number(text) == number


async def test_codes_are_limited_per_ip_address(identity: Identity) -> None:
    for n in range(CODES_PER_IP_HOUR):
        await identity.issue_code(f"visitor-{n}", f"+1555100{n:04d}", ip="203.0.113.9")
    with pytest.raises(CodeRefusedError):
        await identity.issue_code("one-more", "+15559990000", ip="203.0.113.9")
    await identity.issue_code("one-more", "+15559990000", ip="198.51.100.1")  # others go on


def refusals(metrics: Metrics, reason: Refusal) -> float:
    value = metrics.registry.get_sample_value(
        "omnibot_link_code_refusals_total", {"reason": reason.value}
    )
    return value or 0.0


@ON_SERVER_AND_CLUSTER
async def test_sms_pumping_from_a_few_addresses_stops_at_the_site_budget(
    redis_client: aioredis.Redis,
) -> None:
    metrics = Metrics()
    identity = Identity(redis_client, CodeBudget(per_hour=5, per_country_hour=100), metrics)
    sent, refused = 0, []
    for n in range(30):  # 3 addresses, 30 customers, 30 numbers: no per-asker limit binds
        try:
            await identity.issue_code(f"bot-{n}", f"+1555200{n:04d}", ip=f"203.0.113.{n % 3}")
            sent += 1
        except CodeRefusedError as error:
            refused.append(error)
    assert sent == 5
    assert {error.reason for error in refused} == {Refusal.SITE}
    assert all(0 < (error.retry_after_s or 0) <= 3600 for error in refused)
    assert refusals(metrics, Refusal.SITE) == 25


async def test_each_destination_country_has_its_own_budget(redis_client: aioredis.Redis) -> None:
    metrics = Metrics()
    identity = Identity(redis_client, CodeBudget(per_hour=100, per_country_hour=2), metrics)
    await identity.issue_code("a", "+447700900001")
    await identity.issue_code("b", "+447700900002")
    with pytest.raises(CodeRefusedError) as caught:
        await identity.issue_code("c", "+447700900003")
    assert caught.value.reason is Refusal.COUNTRY
    await identity.issue_code("c", "+4915112345678")  # Germany still has its budget
    assert refusals(metrics, Refusal.COUNTRY) == 1


@pytest.mark.parametrize("number", ["+447700900123", "+18765551234", "+4915112345678"])
async def test_numbers_in_countries_the_shop_does_not_text_get_no_code(
    redis_client: aioredis.Redis, number: str
) -> None:
    metrics = Metrics()
    identity = Identity(redis_client, CodeBudget(per_hour=1, countries=frozenset({"US"})), metrics)
    for n in range(5):
        with pytest.raises(CodeRefusedError) as caught:
            await identity.issue_code(f"visitor-{n}", number)
        assert (caught.value.reason, caught.value.retry_after_s) == (
            Refusal.COUNTRY_NOT_ALLOWED,
            None,
        )
    assert await identity.pending_phone("visitor-0") is None
    assert refusals(metrics, Refusal.COUNTRY_NOT_ALLOWED) == 5
    await identity.issue_code("visitor-0", PHONE)  # refusals did not spend the site budget


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+15557654321", "US"),  # a fictional 555 number: +1's main country
        ("+18765551234", "JM"),  # +1, but Jamaica
        ("+14165551234", "CA"),
        ("+447700900123", "GB"),
        ("+4915112345678", "DE"),
        ("+80012345678", "001"),  # non-geographic: in no country's list
        ("+99912345678", "ZZ"),
    ],
)
def test_the_country_of_a_number(number: str, country: str) -> None:
    assert country_of(number) == country


@pytest.mark.parametrize(
    ("allowed", "shop", "countries"),
    [
        ((), "+15550000100", frozenset({"US"})),  # by default: the shop number's country
        ((), "+447700900123", frozenset({"GB"})),
        (("GB", "DE"), "+15550000100", frozenset({"GB", "DE"})),
        (("*",), "+15550000100", None),
        ((), None, None),  # a Messaging Service alone: no home country to take
        ((), "72345", None),  # a short code
    ],
)
def test_the_countries_texted(
    allowed: tuple[str, ...], shop: str | None, countries: frozenset[str] | None
) -> None:
    budget = CodeBudget.build(100, 50, allowed, shop)
    assert (budget.per_hour, budget.per_country_hour, budget.countries) == (100, 50, countries)


def test_allowed_countries_are_checked_at_start_up() -> None:
    environ = {"SMS_ALLOWED_COUNTRIES": "us, gb,DE"}
    assert Settings.from_env(environ, env_file=None).sms_allowed_countries == ("US", "GB", "DE")
    with pytest.raises(SettingsError, match="SMS_ALLOWED_COUNTRIES"):
        Settings.from_env({"SMS_ALLOWED_COUNTRIES": "US,UK"}, env_file=None)  # UK is GB
