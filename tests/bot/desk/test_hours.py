"""AGENT_HOURS: parsing, open or not, the next opening."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.desk.hours import AgentHours

BERLIN = AgentHours.parse("Mon-Fri 09:00-18:00 Europe/Berlin")


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (datetime(2026, 11, 30, 8, 30, tzinfo=UTC), True),  # Monday 09:30 in Berlin
        (datetime(2026, 11, 30, 7, 59, tzinfo=UTC), False),  # Monday 08:59 in Berlin
        (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), False),  # Monday 18:00: closed
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), False),  # Saturday
    ],
)
def test_open_within_the_days_and_hours_in_their_zone(when: datetime, is_open: bool) -> None:
    assert BERLIN.is_open(when) is is_open


def test_the_next_opening_skips_the_weekend() -> None:
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    assert BERLIN.next_opening(friday_evening) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert BERLIN.describe_opening(friday_evening) == "Monday at 09:00 (Europe/Berlin)"


def test_several_spans_and_utc_by_default() -> None:
    hours = AgentHours.parse("Mon-Fri 09:00-17:00; Sat 10:00-14:00")
    assert hours.zone.key == "UTC"
    assert hours.is_open(datetime(2026, 11, 28, 11, 0, tzinfo=UTC))
    assert hours.next_opening(datetime(2026, 11, 28, 15, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "weekdays 9-5",
        "Mon-Fri 18:00-09:00",
        "Mon-Fri 09:00-18:00 Mars/Olympus",
        "Xyz 09:00-10:00",
    ],
)
def test_bad_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is the input itself
        AgentHours.parse(text)
