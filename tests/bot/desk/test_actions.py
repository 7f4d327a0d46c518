"""The desks' contract: one table of what agents are told, and actions performed by name."""

from __future__ import annotations

import pytest

from bot.contracts import AgentAction, AgentOutcome, AgentResult, DeskActions
from bot.desk.actions import AGENT_TEXTS, HandoffActions, act, agent_text

_CONFORMS: type[DeskActions] = HandoffActions  # mypy checks the core implements the contract


class RecordingActions:
    """A desk's view of the core that records which action it was asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str | None]] = []

    def _done(self, action: AgentAction, cid: str, text: str, ticket: str | None) -> AgentResult:
        self.calls.append((action.value, cid, text, ticket))
        return AgentResult(action, AgentOutcome.DONE, "ok")

    async def conversation_of(self, ticket: str) -> str | None:
        return None

    async def claim(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        return self._done(AgentAction.CLAIM, cid, "", ticket)

    async def reply(
        self, cid: str, agent: str, text: str, ticket: str | None = None
    ) -> AgentResult:
        return self._done(AgentAction.REPLY, cid, text, ticket)

    async def note(self, cid: str, agent: str, text: str) -> AgentResult:
        return self._done(AgentAction.NOTE, cid, text, None)

    async def resolve(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        return self._done(AgentAction.RESOLVE, cid, "", ticket)

    async def back_to_bot(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        return self._done(AgentAction.BACK_TO_BOT, cid, "", ticket)


@pytest.mark.parametrize("action", list(AgentAction))
async def test_act_performs_the_named_action(action: AgentAction) -> None:
    desk = RecordingActions()
    result = await act(desk, action, "c1", "Sam", "hi", ticket="t1")
    assert result.action is action
    assert [call[0] for call in desk.calls] == [action.value]


def test_every_action_and_outcome_has_words() -> None:
    for action in AgentAction:
        for outcome in AgentOutcome:
            text = agent_text(action, outcome, agent="Dana", channel="web chat", limit=2, length=3)
            assert text != outcome.value  # worded, not the bare enum value


def test_the_refusals_read_as_before() -> None:
    too_long = agent_text(
        AgentAction.REPLY, AgentOutcome.TOO_LONG, channel="web chat", limit=2000, length=2001
    )
    assert too_long == (
        "Not sent: web chat messages hold at most 2,000 characters (yours has 2,001). "
        "Please split it."
    )
    assert agent_text(AgentAction.CLAIM, AgentOutcome.TAKEN, agent="Sam") == (
        "Sam has already claimed this conversation."
    )
    assert agent_text(None, AgentOutcome.NOT_OURS) == "This is not a ticket omnibot knows."
    assert agent_text(AgentAction.REPLY, AgentOutcome.DONE) == "Reply sent."
    assert (AgentAction.CLAIM, AgentOutcome.CLOSED) not in AGENT_TEXTS  # one CLOSED for all


def test_only_refusals_are_refused() -> None:
    refused = {o for o in AgentOutcome if AgentResult(AgentAction.CLAIM, o, "").refused}
    assert refused == {
        AgentOutcome.TAKEN,
        AgentOutcome.CLOSED,
        AgentOutcome.TOO_LONG,
        AgentOutcome.NOT_OURS,
    }
