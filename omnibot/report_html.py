"""``omnibot report --html FILE``: the report as one self-contained HTML page.

The charts (matplotlib) are inline PNGs (``<img src="data:image/png;base64,…">``), the styles
inline too: the file opens anywhere, offline, and can be mailed as it is. Example messages are
the journal's, already redacted; every text is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bot.insight.episodes import Episode
from bot.insight.report import Counts, Report

OUTCOME_COLOURS = {
    "contained": "#2e7d32",
    "abandoned": "#f9a825",
    "escalated": "#1565c0",
    "open": "#9e9e9e",
}
CSAT_SCORES = (1, 2, 3, 4, 5)
FIGURE_SIZE = (6.4, 3.2)
DPI = 96
STYLE = (
    "body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:60em}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border-bottom:1px solid #ddd;padding:.25em .75em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}img{max-width:100%}"
)
COLUMNS = (
    ("conversations", "conversations"),
    ("contained", "contained"),
    ("escalated", "escalated"),
    ("abandoned", "abandoned"),
    ("open", "open"),
    ("containment_rate", "containment"),
    ("first_response_p50_s", "first response p50"),
    ("first_response_p90_s", "first response p90"),
    ("resolution_p50_s", "resolution p50"),
    ("csat_average", "CSAT"),
    ("csat_responses", "CSAT answers"),
)


def write_html(path: Path, report: Report, episodes: Sequence[Episode]) -> Path:
    """Write the report (charts drawn from ``episodes``, those it counted) to ``path``."""
    path.write_text(render(report, episodes), encoding="utf-8")
    return path


def render(report: Report, episodes: Sequence[Episode]) -> str:
    """The page's HTML."""
    period = f"{_day(report['since'])} to {_day(report['until'])} (UTC)"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>omnibot report</title>"
        f"<style>{STYLE}</style></head><body><h1>Is the bot helping?</h1><p>{period}</p>",
        _table("Overall", {"all": report}),
        f"<p>Waiting for a person now: {report['queue_length']}, longest wait "
        f"{_value('longest_wait_s', report['longest_wait_s'])}.</p>",
        _image("Containment by channel", containment_chart(report)),
        _image("Times people took", times_chart(episodes)),
        _image("Customer satisfaction", csat_chart(episodes)),
        _table("By channel", report["by_channel"]),
        _table("By intent", report["by_intent"]),
        _table("By article", report["by_article"]),
        _low_confidence(report),
        "</body></html>",
    ]
    return "\n".join(parts)


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")


def _value(key: str, value: object) -> str:
    """A figure as the tables show it."""
    if value is None:
        return "&ndash;"
    if key == "containment_rate" and isinstance(value, float):
        return f"{value * 100:.1f} %"
    if key.endswith("_s") and isinstance(value, float):
        return f"{value / 60:.1f} min"
    return html.escape(str(value))


def _table(title: str, rows: dict[str, Counts] | dict[str, Report]) -> str:
    if not rows:
        return f"<h2>{html.escape(title)}</h2><p>Nothing to count.</p>"
    head = "".join(f"<th>{label}</th>" for _, label in COLUMNS)
    body = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{_value(key, dict(counts).get(key))}</td>" for key, _ in COLUMNS)
        + "</tr>"
        for name, counts in rows.items()
    )
    return f"<h2>{html.escape(title)}</h2><table><tr><th></th>{head}</tr>{body}</table>"


def _low_confidence(report: Report) -> str:
    items = "".join(
        f"<li><b>{html.escape(entry['intent'])}</b>: {entry['count']}"
        + "".join(f"<br><q>{html.escape(text)}</q>" for text in entry["examples"])
        + "</li>"
        for entry in report["low_confidence"]
    )
    title = "<h2>Escalated because the bot was unsure</h2>"
    return title + (f"<ul>{items}</ul>" if items else "<p>None.</p>")


def _image(title: str, figure: Figure) -> str:
    """The figure as an inline PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    alt = html.escape(title)
    return f'<h2>{alt}</h2><img alt="{alt}" src="data:image/png;base64,{data}">'


def containment_chart(report: Report) -> Figure:
    """Per channel, its conversations by outcome (stacked bars)."""
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    channels = list(report["by_channel"])
    left = [0] * len(channels)
    for outcome, colour in OUTCOME_COLOURS.items():
        values = [_outcomes(report["by_channel"][c])[outcome] for c in channels]
        axes.barh(channels, values, left=left, color=colour, label=outcome)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_xlabel("conversations")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    return figure


def _outcomes(counts: Counts) -> dict[str, int]:
    return {
        "contained": counts["contained"],
        "abandoned": counts["abandoned"],
        "escalated": counts["escalated"],
        "open": counts["open"],
    }


def times_chart(episodes: Sequence[Episode]) -> Figure:
    """The distribution of first-response and resolution times, in minutes."""
    figure, (first, resolved) = plt.subplots(1, 2, figsize=FIGURE_SIZE)
    for axes, values, title in (
        (first, [e.first_response_s for e in episodes], "first response"),
        (resolved, [e.resolution_s for e in episodes], "resolution"),
    ):
        minutes = [value / 60 for value in values if value is not None]
        axes.hist(minutes, bins=min(20, max(1, len(minutes))), color="#1565c0")
        axes.set_title(f"{title} ({len(minutes)})")
        axes.set_xlabel("minutes")
        axes.set_ylabel("conversations")
    return figure


def csat_chart(episodes: Sequence[Episode]) -> Figure:
    """How many customers gave each score."""
    scores = Counter(score for episode in episodes for score in episode.csat_scores)
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    axes.bar([str(s) for s in CSAT_SCORES], [scores[s] for s in CSAT_SCORES], color="#2e7d32")
    axes.set_xlabel("score (5 = great)")
    axes.set_ylabel("answers")
    return figure
