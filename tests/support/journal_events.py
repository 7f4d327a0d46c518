"""Hand-written journal events for the report's tests: one per path a conversation takes."""

from __future__ import annotations

from typing import Any, cast

from bot.insight.journal import JournalEvent

H = 3600.0
T0 = 1_700_000_000.0  # a fixed start: the tests never read the clock


def event(kind: str, at: float, cid: str, channel: str = "sms", **fields: Any) -> JournalEvent:
    """An event ``at`` seconds after ``T0``."""
    return cast(
        JournalEvent, {"type": kind, "at": T0 + at, "cid": cid, "channel": channel, **fields}
    )


def answered_then_quiet() -> list[JournalEvent]:
    """Answered by intent, then nothing: contained once 72 h have passed."""
    return [
        event("message", 0, "c1", message="m1"),
        event("answered", 1, "c1", by="intent", intent="hours", confidence=0.9),
    ]


def asked_then_answered() -> list[JournalEvent]:
    """Unsure first (asked to rephrase), then answered: contained."""
    return [
        event("message", 10, "c2", "webchat"),
        event("asked", 11, "c2", "webchat", intent="refund", confidence=0.3, text="uh money?"),
        event("message", 60, "c2", "webchat"),
        event("answered", 61, "c2", "webchat", by="intent", intent="refund", confidence=0.8),
    ]


def escalated_resolved_rated() -> list[JournalEvent]:
    """Handed to people, claimed, replied to twice, resolved, rated 4 by a bare digit."""
    return [
        event("message", 20, "c3", message="m3"),
        event("escalated", 21, "c3", reason="asked_for_person", intent="agent"),
        event("claimed", 100, "c3", agent="ana"),
        event("agent_reply", 150, "c3", agent="ana"),
        event("agent_reply", 300, "c3", agent="ana"),
        event("resolved", 1021, "c3", agent="ana"),
        event("csat_asked", 1021, "c3", after="resolve"),
        event("message", 1100, "c3", message="m4"),
        event("csat_answered", 1100, "c3", score=4, message="m4"),
    ]


def abandoned_after_unsure() -> list[JournalEvent]:
    """Answered once, then unsure about the next message, then silence: abandoned."""
    return [
        event("message", 30, "c4"),
        event("answered", 31, "c4", by="article", article="returns", intent="oos", confidence=0.3),
        event("message", 90, "c4"),
        event("asked", 91, "c4", intent="warranty", confidence=0.2, text="is it [EMAIL]"),
    ]


def same_intent_again() -> list[JournalEvent]:
    """Answered, then the same intent again within 72 h: the answer did not help."""
    return [
        event("message", 40, "c5"),
        event("answered", 41, "c5", by="intent", intent="refund", confidence=0.9),
        event("message", 40 + H, "c5"),
        event("answered", 41 + H, "c5", by="intent", intent="refund", confidence=0.9),
    ]


def unsure_escalation() -> list[JournalEvent]:
    """Escalated because the bot was unsure; never claimed."""
    return [
        event("message", 50, "c6", "webchat"),
        event(
            "escalated",
            51,
            "c6",
            "webchat",
            reason="unsure",
            intent="warranty",
            confidence=0.2,
            text="my thing broke [CARD]",
        ),
    ]


def all_paths() -> list[JournalEvent]:
    """Every path above, in time order."""
    events = [
        *answered_then_quiet(),
        *asked_then_answered(),
        *escalated_resolved_rated(),
        *abandoned_after_unsure(),
        *same_intent_again(),
        *unsure_escalation(),
    ]
    return sorted(events, key=lambda e: e["at"])
