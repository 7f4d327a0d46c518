"""The protocols the core declares and the connectors and the intent engine implement.

One module a side: :mod:`~bot.contracts.channels` (connectors), :mod:`~bot.contracts.engine`
(the intent engine) and :mod:`~bot.contracts.desk` (agent desks). Every name is importable from
here, as ``from bot.contracts import Connector``.
"""

from __future__ import annotations

from bot.contracts.channels import (
    Connector,
    DeliveryError,
    InboundHandler,
    Sender,
    Sent,
    Unsure,
    WebLinking,
)
from bot.contracts.desk import (
    AgentAction,
    AgentDesk,
    AgentOutcome,
    AgentResult,
    DeskActions,
    TicketChange,
    TicketStatus,
)
from bot.contracts.engine import (
    TOPIC_SLOT,
    Answer,
    Context,
    IntentClassifier,
    Part,
    Prediction,
    Reading,
    Responder,
    Understanding,
)

__all__ = [
    "TOPIC_SLOT",
    "AgentAction",
    "AgentDesk",
    "AgentOutcome",
    "AgentResult",
    "Answer",
    "Connector",
    "Context",
    "DeliveryError",
    "DeskActions",
    "InboundHandler",
    "IntentClassifier",
    "Part",
    "Prediction",
    "Reading",
    "Responder",
    "Sender",
    "Sent",
    "TicketChange",
    "TicketStatus",
    "Understanding",
    "Unsure",
    "WebLinking",
]
