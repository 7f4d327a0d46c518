"""The SMS bench's figures: ack latency, failed acks, replies and the verdict."""

from __future__ import annotations

import argparse

import pytest

from bench.sms_figures import Measured, ack_figures, figures
from bench.sms_webhooks import Ack, Webhook
from tests.support.twilio_fake import Call

A, B = "+15552000001", "+15552000002"
HOOKS = [
    Webhook("s1", A, b"", {}, False),
    Webhook("s2", B, b"", {}, False),
    Webhook("s1", A, b"", {}, True),
    Webhook("s3", A, b"", {}, False),
]
# Acks 10 ms after their due times, the last one refused.
ACKS = [Ack(0.0, 0.0, 0.01, True, 200), Ack(1.0, 1.0, 1.01, True, 200)]
ACKS += [Ack(2.0, 2.0, 2.01, True, 200), Ack(3.0, 3.0, 3.01, False, 503)]


def reply(to: str, at: float) -> Call:
    """A message created at the fake."""
    return Call({"To": to, "Body": "..."}, at, 201, "SMx")


def test_the_figures_fail_a_run_with_a_failed_ack() -> None:
    assert ack_figures(ACKS)["errors"] == 1
    args = argparse.Namespace(rate=1.0, seconds=4.0, customers=2, p99_ms=50.0)
    calls = [reply(A, 0.5), reply(B, 1.25), reply(A, 3.5)]
    result = figures(args, HOOKS, Measured(ACKS, calls, {"duplicate": 1.0}, {}, 0.4, 0.2))
    assert (result["webhooks"], result["retries"], result["replies_created"]) == (4, 1, 3)
    assert result["ack_p99_ms"] == pytest.approx(10.0)
    assert result["server_cpu_cores"] == pytest.approx(0.4 / 3, abs=1e-3)
    assert result["error_statuses"] == [503]
    assert result["passed"] is False


def test_a_clean_run_passes() -> None:
    acks = [*ACKS[:3], Ack(3.0, 3.0, 3.01, True, 200)]
    args = argparse.Namespace(rate=1.0, seconds=4.0, customers=2, p99_ms=50.0)
    calls = [reply(A, 0.5), reply(B, 1.25), reply(A, 3.5)]
    result = figures(args, HOOKS, Measured(acks, calls, {}, {}, 0.4, 0.2))
    assert (result["errors"], result["replies_missing"], result["passed"]) == (0, 0, True)
    assert result["last_reply_after_last_send_s"] == pytest.approx(0.5)
