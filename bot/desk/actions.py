"""Agents' actions from any desk, through the hand-off, with one table of what agents are told.

:class:`HandoffActions` is the core's :class:`~bot.contracts.DeskActions`: the Slack desk and
the local console call it for a claim, a reply, a note, a resolve or a hand back, and show the
:class:`~bot.contracts.AgentResult`'s message. Their own checks stay with them (Slack's event
ids, the console's frame fields); what a customer's channel can carry, whose conversation a
ticket is and what each outcome means are decided here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.contracts import AgentAction, AgentOutcome, AgentResult, DeskActions
from bot.desk.agent_text import is_note
from bot.desk.handoff import Handoff
from bot.desk.tickets import Tickets
from bot.insight.csat import Surveys
from bot.models.channels import channel_info
from bot.storage.store import Store

ANOTHER_AGENT = "Another agent"  # a TAKEN conversation whose agent is not known
# What an agent is told of an action, by (action, outcome); (None, outcome) for any action.
AGENT_TEXTS: Mapping[tuple[AgentAction | None, AgentOutcome], str] = MappingProxyType(
    {
        (AgentAction.CLAIM, AgentOutcome.DONE): (
            "You claimed this conversation; the customer was told."
        ),
        (AgentAction.REPLY, AgentOutcome.DONE): "Reply sent.",
        (AgentAction.NOTE, AgentOutcome.DONE): (
            "Internal note added (the customer does not see it)."
        ),
        (AgentAction.RESOLVE, AgentOutcome.DONE): (
            "Resolved: the conversation is back with the bot."
        ),
        (AgentAction.BACK_TO_BOT, AgentOutcome.DONE): "The conversation is back with the bot.",
        (None, AgentOutcome.ALREADY_YOURS): "You have already claimed this conversation.",
        (None, AgentOutcome.TAKEN): "{agent} has already claimed this conversation.",
        (None, AgentOutcome.CLOSED): (
            "This conversation is closed (back with the bot): nothing reached the customer."
        ),
        (None, AgentOutcome.TOO_LONG): (
            "Not sent: {channel} messages hold at most {limit:,} characters (yours has "
            "{length:,}). Please split it."
        ),
        (None, AgentOutcome.NOT_OURS): "This is not a ticket omnibot knows.",
    }
)


def agent_text(action: AgentAction | None, outcome: AgentOutcome, **fields: object) -> str:
    """What an agent is told of ``outcome``, its placeholders filled from ``fields``."""
    text = AGENT_TEXTS.get((action, outcome)) or AGENT_TEXTS.get((None, outcome), outcome.value)
    return text.format(**fields)


class HandoffActions:
    """The core's :class:`~bot.contracts.DeskActions`: agents' actions through the hand-off."""

    def __init__(
        self, store: Store, tickets: Tickets, handoff: Handoff, surveys: Surveys | None = None
    ) -> None:
        """``surveys``: the satisfaction survey a resolve is followed by (none when None)."""
        self._store = store
        self._tickets = tickets
        self._handoff = handoff
        self._surveys = surveys

    async def conversation_of(self, ticket: str) -> str | None:
        """The conversation a desk ticket belongs to, if it is one of ours."""
        return await self._tickets.conversation_of_ticket(ticket)

    async def claim(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        """The agent takes the conversation; the customer is told."""
        outcome = await self._handoff.claim(cid, agent, ticket=ticket)
        return await self._result(AgentAction.CLAIM, cid, outcome)

    async def reply(
        self, cid: str, agent: str, text: str, ticket: str | None = None
    ) -> AgentResult:
        """The agent's words go to the customer; a reply written as a note ("note: …", any
        form :func:`is_note` knows) stays internal, as on every desk."""
        if is_note(text):
            return await self.note(cid, agent, text)
        outcome = await self._handoff.agent_reply(cid, agent, text, ticket=ticket)
        return await self._result(AgentAction.REPLY, cid, outcome, text)

    async def note(self, cid: str, agent: str, text: str) -> AgentResult:
        """An internal note, kept with the conversation, never sent to the customer."""
        outcome = await self._handoff.note(cid, agent, text)
        return await self._result(AgentAction.NOTE, cid, outcome)

    async def resolve(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        """The conversation is resolved and goes back to the bot; the customer is asked how
        it went."""
        outcome = await self._handoff.back_to_bot(cid, agent, resolved=True, ticket=ticket)
        if outcome is AgentOutcome.DONE and self._surveys is not None:
            await self._surveys.after_resolve(cid)
        return await self._result(AgentAction.RESOLVE, cid, outcome)

    async def back_to_bot(self, cid: str, agent: str, ticket: str | None = None) -> AgentResult:
        """The conversation goes back to the bot, unresolved."""
        outcome = await self._handoff.back_to_bot(cid, agent, resolved=False, ticket=ticket)
        return await self._result(AgentAction.BACK_TO_BOT, cid, outcome)

    async def _result(
        self, action: AgentAction, cid: str, outcome: AgentOutcome, text: str = ""
    ) -> AgentResult:
        """The outcome with its words; a refusal names who has the conversation, or what its
        channel holds (one more read, on these rare paths only)."""
        fields: dict[str, object] = {}
        if outcome is AgentOutcome.TAKEN:
            fields["agent"] = (await self._store.load(cid)).agent or ANOTHER_AGENT
        elif outcome is AgentOutcome.TOO_LONG:
            address = (await self._store.load(cid)).last_address
            info = channel_info(address.channel if address else None)
            fields.update(
                channel=info.name if info else "its",
                limit=info.max_chars if info and info.max_chars else len(text),
                length=len(text),
            )
        return AgentResult(action, outcome, agent_text(action, outcome, **fields))


async def act(
    actions: DeskActions,
    action: AgentAction,
    cid: str,
    agent: str,
    text: str = "",
    ticket: str | None = None,
) -> AgentResult:
    """Perform ``action`` (a desk that receives actions by name, as the console does)."""
    if action is AgentAction.CLAIM:
        return await actions.claim(cid, agent, ticket)
    if action is AgentAction.REPLY:
        return await actions.reply(cid, agent, text, ticket)
    if action is AgentAction.NOTE:
        return await actions.note(cid, agent, text)
    if action is AgentAction.RESOLVE:
        return await actions.resolve(cid, agent, ticket)
    return await actions.back_to_bot(cid, agent, ticket)
