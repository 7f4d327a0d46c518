"""What the steps of linking share: their services, replying, the meta of a step, masking.

The chat flow of :mod:`bot.identity.linking` is split in parts (:mod:`bot.identity.phone_link`,
:mod:`bot.identity.web_link`), each a :class:`LinkingPart` over the same services.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.delivery.consent import Consent
from bot.delivery.outbox import Outbox
from bot.identity.merge import Merger
from bot.identity.texts import LinkingTexts
from bot.identity.verification import Identity
from bot.insight.journal import EventType, Journal, JournalEvent, journal_event
from bot.metrics import Metrics
from bot.models import Conversation, Message, Role
from bot.models.conversation import LinkStep
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate, Store

CANCEL = re.compile(r"\s*(cancel|never ?mind|no thanks?|stay here)\s*[.!]?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class LinkingSetup:
    """Where the customer can go: the shop's SMS number and the web chat's public URL."""

    sms: bool
    shop_number: str | None
    public_url: str | None


class LinkingPart:
    """One part of the linking chat flow, with the services every part uses."""

    def __init__(
        self,
        store: Store,
        identity: Identity,
        merger: Merger,
        outbox: Outbox,
        consent: Consent,
        setup: LinkingSetup,
        metrics: Metrics,
        texts: LinkingTexts | None = None,
        journal: Journal | None = None,
    ) -> None:
        """``journal``: where a web chat joined by a texted link is recorded (not when None)."""
        self._store = store
        self._identity = identity
        self._merger = merger
        self._outbox = outbox
        self._consent = consent
        self._setup = setup
        self._metrics = metrics
        self._texts = texts or LinkingTexts()
        self._journal = journal

    async def _reply(
        self, conversation: Conversation, text: str, meta: MetaUpdate, fence: ConversationLock
    ) -> None:
        reply = Message(role=Role.BOT, text=text)
        await self._outbox.say(
            conversation.id, conversation.last_address, (reply,), meta, fence=fence
        )


def linked_event(cid: str, channel: str, into: str) -> JournalEvent:
    """An address of ``channel`` joined customer ``cid``, whose conversation is ``into``'s now
    (``cid`` itself, or the customer it was merged into)."""
    return journal_event(EventType.LINKED, cid, channel, into=into)


def step(step: LinkStep | None) -> MetaUpdate:
    """The meta of linking moving to ``step`` (None: over). An intent's pending question is
    dropped with it, as linking takes the conversation over (and a step kept the old way, in
    ``expect``, is cleared)."""
    return {"linking": step, "expect": None}


def masked(phone: str) -> str:
    """A phone number with all but its last 4 digits hidden (+1•••••4321)."""
    if len(phone) <= 6:
        return phone
    return phone[:2] + "•" * (len(phone) - 6) + phone[-4:]
