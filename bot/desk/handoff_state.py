"""What each step of the hand-off writes: the conversation's fields at the hand-off and back
with the bot, the journal's events of agents' actions, and whether an agent's action can
still reach the customer."""

from __future__ import annotations

from bot.contracts import Prediction
from bot.insight import decisions
from bot.insight.journal import EventType, JournalEvent, journal_event
from bot.models import Conversation, State
from bot.models.conversation import Escalation
from bot.storage.store import MetaUpdate


def escalation_of(reason: str, prediction: Prediction | None, detail: str | None) -> Escalation:
    """Why the conversation goes to the agents, with the bot's last guess (for the ticket)."""
    return Escalation(
        reason,
        intent=prediction.intent if prediction else None,
        confidence=prediction.confidence if prediction else None,
        detail=detail,
    )


def waiting_meta(escalation: Escalation) -> MetaUpdate:
    """The conversation's fields at the hand-off: waiting for an agent, no ticket yet."""
    return {
        "state": State.WAITING,
        "misunderstood": 0,
        "escalation": escalation,
        "ticket": None,
        "notified_at": 0.0,  # the next message is acknowledged at once
    }


def back_to_bot_meta(conversation: Conversation) -> MetaUpdate:
    """The conversation's fields once back with the bot: no agent, the ticket kept as the
    previous one."""
    return {
        "agent": None,
        "ticket": None,
        "escalation": None,
        "previous_ticket": conversation.ticket or conversation.previous_ticket,
    }


def agent_event(kind: EventType, conversation: Conversation, agent: str | None) -> JournalEvent:
    """An agent's action on the conversation, for the journal."""
    return journal_event(
        kind, conversation.id, decisions.channel_of(conversation), agent=agent or None
    )


def closed_to_agent(conversation: Conversation, ticket: str | None) -> bool:
    """Whether an agent's action cannot reach the customer: the conversation is back with the
    bot, or ``ticket`` is not its open ticket (a resolved one; the conversation may have been
    escalated again since, and that newer ticket is not the old thread's to answer)."""
    return conversation.state is State.BOT or (ticket is not None and conversation.ticket != ticket)
