"""The report's exact figures over hand-written journal events covering every path."""

from __future__ import annotations

from bot.insight.report import QueueNow, build_report, counts, percentile
from tests.support.journal_events import (
    T0,
    H,
    all_paths,
    answered_then_quiet,
    event,
)

LATER = T0 + 100 * H
NO_QUEUE: QueueNow = {"length": 0, "longest_wait_s": None}


def test_every_path_counted_once_all_have_closed() -> None:
    report = build_report(all_paths(), T0, LATER, {"length": 2, "longest_wait_s": 90.04})
    overall = {key: value for key, value in report.items() if key in counts([])}
    assert overall == {
        "conversations": 6,
        "contained": 2,  # answered then quiet; asked then answered
        "escalated": 2,  # resolved and rated; unsure and never claimed
        "abandoned": 2,  # silent after an unsure answer; the same intent again
        "open": 0,
        "containment_rate": 0.3333,
        "first_response_p50_s": 129.0,
        "first_response_p90_s": 129.0,
        "resolution_p50_s": 1000.0,
        "resolution_p90_s": 1000.0,
        "csat_average": 4.0,
        "csat_responses": 1,
    }
    assert (report["queue_length"], report["longest_wait_s"]) == (2, 90.0)
    assert (report["since"], report["until"]) == (T0, LATER)


def test_per_channel_intent_and_article() -> None:
    report = build_report(all_paths(), T0, LATER, NO_QUEUE)
    sms, webchat = report["by_channel"]["sms"], report["by_channel"]["webchat"]
    assert (sms["conversations"], sms["contained"], sms["escalated"], sms["abandoned"]) == (
        4,
        1,
        1,
        2,
    )
    assert (sms["containment_rate"], sms["csat_average"], sms["first_response_p50_s"]) == (
        0.25,
        4.0,
        129.0,
    )
    assert (webchat["conversations"], webchat["contained"], webchat["escalated"]) == (2, 1, 1)
    assert (webchat["csat_responses"], webchat["csat_average"]) == (0, None)
    by_intent = {
        name: (c["conversations"], c["contained"]) for name, c in report["by_intent"].items()
    }
    assert by_intent == {  # the unsure guess "warranty" names no conversation left at it
        "(none)": (1, 0),
        "agent": (1, 0),
        "hours": (1, 1),
        "refund": (2, 1),
        "warranty": (1, 0),
    }
    assert list(report["by_article"]) == ["returns"]
    assert report["by_article"]["returns"]["abandoned"] == 1


def test_low_confidence_escalations_with_redacted_examples() -> None:
    report = build_report(all_paths(), T0, LATER, NO_QUEUE)
    assert report["low_confidence"] == [
        {"intent": "warranty", "count": 1, "examples": ["my thing broke [CARD]"]}
    ]


def test_open_episodes_are_left_out_of_the_rate() -> None:
    report = build_report(all_paths(), T0, T0 + 10 * H, NO_QUEUE)
    assert (report["conversations"], report["open"], report["escalated"]) == (6, 4, 2)
    assert (report["contained"], report["abandoned"], report["containment_rate"]) == (0, 0, 0.0)


def test_only_episodes_starting_in_the_period_count() -> None:
    report = build_report(all_paths(), T0 + 35, LATER, NO_QUEUE)
    assert report["conversations"] == 2  # the same intent again (40 s) and unsure (50 s)
    assert report["csat_responses"] == 0


def test_a_message_continuing_an_earlier_episode_opens_none_in_the_period() -> None:
    events = [*answered_then_quiet(), event("message", 10 * H, "c1")]
    assert build_report(events, T0 + 5 * H, LATER, NO_QUEUE)["conversations"] == 0


def test_nothing_to_count() -> None:
    report = build_report([], T0, LATER, NO_QUEUE)
    assert report["conversations"] == 0
    assert (report["containment_rate"], report["csat_average"]) == (None, None)
    assert (report["first_response_p50_s"], report["by_channel"], report["low_confidence"]) == (
        None,
        {},
        [],
    )


def test_percentiles_are_nearest_rank() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 9.0, 8.0, 7.0, 6.0]
    assert (percentile(values, 0.5), percentile(values, 0.9), percentile(values, 1.0)) == (
        5.0,
        9.0,
        10.0,
    )
    assert (percentile([7.0], 0.9), percentile([], 0.5)) == (7.0, None)
