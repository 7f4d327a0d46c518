"""Episodes cut out of hand-written journal events, one path of a conversation per test."""

from __future__ import annotations

from bot.insight.episodes import EPISODE_WINDOW_S, Episode, Outcome, split_episodes
from bot.insight.journal import JournalEvent
from tests.support.journal_events import (
    T0,
    H,
    abandoned_after_unsure,
    all_paths,
    answered_then_quiet,
    asked_then_answered,
    escalated_resolved_rated,
    event,
    same_intent_again,
    unsure_escalation,
)

LATER = T0 + 100 * H  # every path's episode has closed by then


def only(events: list[JournalEvent], now: float = LATER) -> Episode:
    episodes = split_episodes(events, now)
    assert len(episodes) == 1
    return episodes[0]


def test_an_answer_is_contained_once_72_hours_pass_without_a_message() -> None:
    assert only(answered_then_quiet(), T0 + 72 * H - 1).outcome is Outcome.OPEN
    episode = only(answered_then_quiet(), T0 + 72 * H)
    assert episode.outcome is Outcome.CONTAINED
    assert episode.end == T0 + EPISODE_WINDOW_S
    assert (episode.cid, episode.channel, episode.intent) == ("c1", "sms", "hours")


def test_asked_then_answered_is_contained() -> None:
    episode = only(asked_then_answered())
    assert episode.outcome is Outcome.CONTAINED
    assert episode.end == T0 + 60 + EPISODE_WINDOW_S  # 72 h after the last message
    assert (episode.channel, episode.intent) == ("webchat", "refund")


def test_escalated_claimed_replied_resolved_and_rated() -> None:
    episode = only(escalated_resolved_rated())  # the survey's "4" opens no episode
    assert episode.outcome is Outcome.ESCALATED
    assert episode.end == T0 + 1021  # resolved
    assert episode.first_response_s == 129  # escalated at 21, first agent reply at 150
    assert episode.resolution_s == 1000
    assert episode.csat_scores == [4]


def test_silence_after_an_unsure_answer_is_abandoned() -> None:
    episode = only(abandoned_after_unsure())
    assert episode.outcome is Outcome.ABANDONED
    assert episode.intent == ""  # an article answer names none, an unsure guess is no name
    assert episode.articles == ["returns"]


def test_the_same_intent_again_within_72_hours_is_not_contained() -> None:
    assert only(same_intent_again()).outcome is Outcome.ABANDONED
    other = same_intent_again()
    other[-1] = event("answered", 41 + H, "c5", by="intent", intent="hours", confidence=0.9)
    assert only(other).outcome is Outcome.CONTAINED  # another question, answered


def test_the_same_article_again_is_not_contained_either() -> None:
    events = [
        event("message", 0, "c7"),
        event("answered", 1, "c7", by="article", article="returns"),
        event("message", 99, "c7"),
        event("answered", 100, "c7", by="article", article="returns"),
    ]
    assert only(events).outcome is Outcome.ABANDONED


def test_two_articles_with_the_same_guessed_intent_are_two_topics() -> None:
    events = [
        event("message", 0, "c7"),
        event("answered", 1, "c7", by="article", article="returns", intent="oos"),
        event("message", 99, "c7"),
        event("answered", 100, "c7", by="article", article="delivery", intent="oos"),
    ]
    assert only(events).outcome is Outcome.CONTAINED


def test_an_unsure_escalation_is_escalated_without_any_response() -> None:
    episode = only(unsure_escalation())
    assert episode.outcome is Outcome.ESCALATED
    assert (episode.first_response_s, episode.resolution_s, episode.csat_scores) == (None, None, [])


def test_an_episode_still_open() -> None:
    episode = only(answered_then_quiet(), T0 + 2 * H)
    assert (episode.outcome, episode.end) == (Outcome.OPEN, None)


def test_a_message_within_72_hours_continues_and_one_after_starts_anew() -> None:
    events = [
        *answered_then_quiet(),
        event("message", 71 * H, "c1"),
        event("message", 71 * H + EPISODE_WINDOW_S, "c1", "webchat"),
    ]
    first, second = split_episodes(events, T0 + 300 * H)
    assert (first.start, first.last_message, first.outcome) == (T0, T0 + 71 * H, Outcome.CONTAINED)
    assert (second.start, second.channel) == (T0 + 71 * H + EPISODE_WINDOW_S, "webchat")
    assert second.outcome is Outcome.ABANDONED  # nothing answered it


def test_a_message_after_a_resolution_starts_a_new_episode() -> None:
    events = [*escalated_resolved_rated(), event("message", 2000, "c3")]
    first, second = split_episodes(events, LATER)
    assert (first.end, first.csat_scores) == (T0 + 1021, [4])
    assert (second.start, second.csat_scores) == (T0 + 2000, [])


def test_a_survey_answer_without_a_message_id_is_the_message_before_it() -> None:
    events = [
        *escalated_resolved_rated()[:-2],
        event("message", 1100, "c3"),
        event("csat_answered", 1100, "c3", score=5),
    ]
    assert only(events).csat_scores == [5]


def test_events_before_a_customers_first_message_belong_to_no_episode() -> None:
    events = [event("resolved", 0, "c8", agent="ana"), *answered_then_quiet()]
    assert [e.cid for e in split_episodes(events, LATER)] == ["c1"]


def test_customers_are_split_apart_and_episodes_ordered_by_start() -> None:
    episodes = split_episodes(all_paths(), LATER)
    assert [e.cid for e in episodes] == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert [e.outcome.value for e in episodes] == [
        "contained",
        "contained",
        "escalated",
        "abandoned",
        "abandoned",
        "escalated",
    ]


def test_events_at_or_after_now_are_not_seen() -> None:
    assert split_episodes(answered_then_quiet(), T0) == []
