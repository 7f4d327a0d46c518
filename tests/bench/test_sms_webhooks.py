"""The SMS benches' load plan: signed webhooks, retries of earlier MessageSids, follow-ups."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs

from bench.service import PUBLIC_URL
from bench.sms_webhooks import ORDER_NUMBERS, ORDER_QUESTION, RETRY_WINDOW, make_webhook, plan
from connectors.sms.connector import WEBHOOK_PATH
from tests.support.twilio_fake import signature


def fields(body: bytes) -> dict[str, str]:
    """A posted form's fields."""
    return {name: values[0] for name, values in parse_qs(body.decode()).items()}


def test_a_webhook_is_signed_for_the_public_url() -> None:
    hook = make_webhook("SM1", "+15552000001", "hi there")
    form = fields(hook.body)
    assert (form["MessageSid"], form["From"], form["Body"]) == ("SM1", "+15552000001", "hi there")
    assert hook.headers.items() >= signature(PUBLIC_URL + WEBHOOK_PATH, form).items()
    assert not hook.retry


def test_retries_repost_a_recent_original_and_the_share_holds() -> None:
    hooks = plan(2000, 50, 0.2, seed=3)
    retries = [hook for hook in hooks if hook.retry]
    assert 300 < len(retries) < 500
    originals = [hook.sid for hook in hooks if not hook.retry]
    assert len(set(originals)) == len(originals)
    for index, hook in enumerate(hooks):
        if hook.retry:
            earlier = [h.sid for h in hooks[:index] if not h.retry][-RETRY_WINDOW:]
            assert hook.sid in earlier


def test_where_is_my_order_is_followed_by_an_order_number() -> None:
    hooks = [hook for hook in plan(500, 5, 0.0, seed=1) if not hook.retry]
    last: dict[str, str] = {}
    follow_ups = 0
    for hook in hooks:
        form = fields(hook.body)
        if last.get(form["From"]) == ORDER_QUESTION:
            assert form["Body"] in {f"it's {number}" for number in ORDER_NUMBERS}
            follow_ups += 1
        last[form["From"]] = form["Body"]
    assert follow_ups > 0
    assert max(Counter(fields(hook.body)["From"] for hook in hooks).values()) > 1


def test_the_plan_is_the_seeds() -> None:
    assert [h.sid for h in plan(50, 10, 0.1, seed=7)] == [h.sid for h in plan(50, 10, 0.1, seed=7)]
    assert [h.sid for h in plan(50, 10, 0.1, seed=7)] != [h.sid for h in plan(50, 10, 0.1, seed=8)]
