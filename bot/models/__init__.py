"""Frozen value types shared by the core, the connectors and the intent engine.

Channels and addresses in :mod:`bot.models.channels`, messages in :mod:`bot.models.messages`,
the customer and their conversation in :mod:`bot.models.conversation`. The types most modules
use are importable from here; the rest from their own module.
"""

from bot.models.channels import Address, Channel
from bot.models.conversation import Conversation, Customer, State, Survey
from bot.models.messages import InboundMessage, Message, MessageDict, Outcome, Role, new_id

__all__ = [
    "Address",
    "Channel",
    "Conversation",
    "Customer",
    "InboundMessage",
    "Message",
    "MessageDict",
    "Outcome",
    "Role",
    "State",
    "Survey",
    "new_id",
]
