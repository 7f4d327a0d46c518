"""The chaos suite's own logic, without processes: its command line, the per-conversation
checks against what Redis stored, the result object and the verdict."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.chaos.__main__ import arguments
from bench.chaos.faults import clear_of_judged, recovering
from bench.chaos.model import Ask, Conv, Event, Options, Stored
from bench.chaos.results import EventRow, judged_recovery
from bench.chaos.verify import COUNTS, Counts, Failure, check, total
from bench.questions import Question
from bench.stats import percentile, rounded


def asked(texts: list[str], answers: list[str]) -> Conv:
    """A web chat conversation whose client sent ``texts`` and got ``answers``."""
    asks = []
    for k, text in enumerate(texts):
        ask = Ask(k, Question("t", "intent", text), f"c0-q{k}", first_sent=float(k), acked=True)
        if k < len(answers):
            ask.answer, ask.answered_at = answers[k], k + 0.5
        asks.append(ask)
    return Conv(0, "webchat", asks, "token")


def history(*pairs: tuple[str, str]) -> list[dict[str, object]]:
    return [{"role": role, "text": text, "seq": n} for n, (role, text) in enumerate(pairs)]


def test_the_command_line_fills_the_options_and_refuses_nonsense(tmp_path: Path) -> None:
    options = arguments(["--conversations", "60", "--vendor-outage", "10", "--json"])
    assert options == Options(conversations=60, vendor_outage=10.0, json=True)
    assert arguments(["--workdir", str(tmp_path)]).workdir == tmp_path
    with pytest.raises(SystemExit):
        arguments(["--kill-at", "1"])


def test_a_conversation_stored_as_sent_passes_every_check() -> None:
    conv = asked(["a", "b"], ["A", "B"])
    stored = Stored(
        "c1", history(("customer", "a"), ("bot", "A"), ("customer", "b"), ("bot", "B")), {}
    )
    assert not check(conv, stored, []).failed


def test_lost_doubled_and_mismatched_messages_are_counted() -> None:
    conv = asked(["a", "b"], ["A", "X"])
    doubled = Stored("c1", history(("customer", "a"), ("customer", "a"), ("bot", "A")), {})
    counts = check(conv, doubled, [])
    assert (counts.lost, counts.doubled) == (1, 1)  # "b" acknowledged, never stored
    wrong = Stored(
        "c1", history(("customer", "a"), ("bot", "A"), ("customer", "b"), ("bot", "B")), {}
    )
    assert check(conv, wrong, []).reordered == 1  # the client got X, B was stored


def test_counts_sum_and_a_failing_row_keeps_only_what_is_not_zero() -> None:
    one, two = Counts(lost=1, no_customer=True), Counts(doubled=2)
    summed = total([one, two])
    assert [getattr(summed, name) for name in COUNTS] == [1, 2, 0, 0, 0]
    assert summed.detail() == {"sms_sent_twice": 0, "not_sent_stored": 0, "no_customer": 1}
    row = Failure(3, "sms", "+1557", None, one, [(1.5, "kill")]).to_json()
    assert row == {
        "conversation": 3,
        "channel": "sms",
        "address": "+1557",
        "cid": None,
        "lost": 1,
        "no_customer": True,
        "repeated_texts": [[1.5, "kill"]],
    }


def test_only_the_kill_and_the_redis_restart_are_judged_for_recovery() -> None:
    rows = [
        EventRow("none", 1, 1, 99.0),
        EventRow("kill", 2, 3, 12.0, slowest_in_flight_s=16.0),
        EventRow("redis", 0, 0, None, slowest_in_flight_s=None),
        EventRow("vendor", 5, 9, 40.0, slowest_in_flight_s=45.0),
    ]
    assert judged_recovery(rows) == 16.0
    assert rows[0].to_json() == {
        "event": "none",
        "messages_retried": 1,
        "retries": 1,
        "slowest_recovery_s": 99.0,
    }


def test_stats() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert math.isnan(percentile([], 0.5))
    assert rounded({"a": [1.23456, math.nan]}) == {"a": [1.235, None]}


def test_the_vendor_outage_waits_out_the_judged_recoveries() -> None:
    kill, redis, vendor = Event("kill", 0.2), Event("redis", 0.4), Event("vendor", 0.6)
    events = [kill, redis, vendor]
    assert clear_of_judged(kill, events, recovering=3)  # judged events never wait
    assert not clear_of_judged(vendor, events, recovering=0)  # the kill has not fired yet
    kill.fired_at, redis.fired_at = 10.0, 20.0
    assert not clear_of_judged(vendor, events, recovering=1)  # a message still recovering
    assert clear_of_judged(vendor, events, recovering=0)
    assert clear_of_judged(vendor, [vendor], recovering=0)  # no judged event switched on


def test_only_messages_that_needed_a_retry_and_wait_count_as_recovering() -> None:
    conv = asked(["a", "b", "c"], ["A"])
    conv.asks[0].failures.append(1.0)  # retried, answered
    conv.asks[1].failures.append(2.0)  # retried, waiting
    assert recovering([conv]) == 1


def test_an_sms_answer_is_compared_as_the_sms_channel_words_it() -> None:
    conv = asked(["a"], ["Say again?\n1. Talk to a person"])
    conv.channel = "sms"
    answer = {"role": "bot", "text": "Say again?", "id": "b", "ts": 1.0}
    answer["options"] = ["Talk to a person"]
    question = {"role": "customer", "text": "a", "id": "q", "ts": 0.5, "seq": 1}
    stored = Stored("c1", [question, answer], {})
    assert not check(conv, stored, []).failed
    conv.asks[0].answer = "Say again?"  # the options left out: not what was sent
    assert check(conv, stored, []).reordered == 1
