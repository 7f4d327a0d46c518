"""``omnibot report`` on the test Redis: events written with the journal, the report printed as
JSON with exact figures, as text, and as one self-contained HTML page."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from bot.desk.tickets import Tickets
from bot.insight.journal import Journal
from bot.storage.client import connect
from omnibot import report_cli
from omnibot.cli import parser
from omnibot.settings import Settings
from tests.support.journal_events import T0, H, all_paths

AS_OF = datetime.fromtimestamp(T0 + 100 * H, UTC).isoformat()


def parse(*argv: str) -> argparse.Namespace:
    """``argv`` read by the ``omnibot`` command's own grammar."""
    return parser().parse_args(list(argv))


async def _seed(url: str) -> None:
    client = connect(url, cluster=False)
    try:
        journal = Journal(client)
        for event in all_paths():
            await journal.add(event["cid"], event)
        await Tickets(client).mark_open("c9", T0 + 100 * H - 300)  # waiting 5 minutes
    finally:
        await client.aclose()


@pytest.fixture
def journal_written(redis_url: str) -> Iterator[None]:
    """Every path's events in the journal, one customer waiting; flushed after the test."""
    asyncio.run(_seed(redis_url))
    yield
    redis.Redis.from_url(redis_url).flushall()


def test_json_has_the_exact_figures(
    settings: Settings, journal_written: None, capsys: pytest.CaptureFixture[str]
) -> None:
    report_cli.run(settings, parse("report", "--since", "7d", "--as-of", AS_OF, "--json"))
    report = json.loads(capsys.readouterr().out)
    figures = ("conversations", "contained", "escalated", "abandoned", "open")
    assert [report[key] for key in figures] == [6, 2, 2, 2, 0]
    assert report["containment_rate"] == 0.3333
    assert (report["first_response_p50_s"], report["first_response_p90_s"]) == (129.0, 129.0)
    assert (report["resolution_p50_s"], report["csat_average"], report["csat_responses"]) == (
        1000.0,
        4.0,
        1,
    )
    assert report["by_channel"]["sms"]["conversations"] == 4
    assert report["by_intent"]["refund"]["contained"] == 1
    assert (report["queue_length"], report["longest_wait_s"]) == (1, 300.0)


def test_a_shorter_period_counts_fewer(
    settings: Settings, journal_written: None, capsys: pytest.CaptureFixture[str]
) -> None:
    since = datetime.fromtimestamp(T0 + 35, UTC).isoformat()
    report_cli.run(settings, parse("report", "--since", since, "--as-of", AS_OF, "--json"))
    assert json.loads(capsys.readouterr().out)["conversations"] == 2


def test_text_names_the_figures(
    settings: Settings, journal_written: None, capsys: pytest.CaptureFixture[str]
) -> None:
    report_cli.run(settings, parse("report", "--as-of", AS_OF))
    out = capsys.readouterr().out
    assert "containment rate  33.3 %" in out
    assert "first response    p50 2m 09s" in out
    assert "warranty (1): my thing broke [CARD]" in out


def test_html_is_one_page_with_inline_charts(
    settings: Settings, journal_written: None, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    report_cli.run(settings, parse("report", "--as-of", AS_OF, "--html", str(page)))
    text = page.read_text(encoding="utf-8")
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', text)) == 3
    assert not re.search(r'(src|href)="(?!data:)', text)  # nothing fetched from elsewhere
    assert "my thing broke [CARD]" in text
    assert list(tmp_path.iterdir()) == [page]


def test_a_period_it_cannot_read_is_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        report_cli.run(settings, parse("report", "--since", "last week"))
    assert stopped.value.code == 2
    assert "omnibot: --since:" in capsys.readouterr().err
