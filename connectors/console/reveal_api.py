"""A masked message's original, for an agent who needs it: the console's reveal API.

``POST /agent/api/conversations/{conversation}/messages/{message}/original`` answers
``{"conversation", "message", "text"}`` with the message's (or internal note's) text as stored,
its personal data unmasked (the console shows it masked, :mod:`connectors.console.masking`).

Guarded like the other console APIs (the console token as a bearer header, or a signed-in
console session; a foreign ``Origin`` is refused, so another site cannot reveal with an agent's
cookie). Every reveal is recorded before the text leaves: a ``revealed`` event in the journal
(``agent``: the caller's fingerprint, :func:`~connectors.console.auth.caller`; ``message``: the
message id) and an audit line in the log naming the caller, the conversation and the message,
never the text. When the event cannot be written, nothing is revealed (503).
"""

from __future__ import annotations

import logging
import re

import redis.asyncio as redis
from aiohttp import web

from bot.desk.tickets import Tickets
from bot.insight.journal import EventType, Journal, journal_event
from bot.models import Message
from bot.storage.store import Store
from connectors.console.auth import ORIGIN_TEXT, Guard
from connectors.console.frames import CONVERSATION_RE
from connectors.console.privacy_api import NO_STORE, admit, http_error

ORIGINAL_PATH = "/agent/api/conversations/{conversation}/messages/{message}/original"
MESSAGE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # fullmatch: the ids the store gives
UNKNOWN_TEXT = "there is no such message in this conversation"
UNAVAILABLE_TEXT = "the message cannot be read right now; try again shortly"

log = logging.getLogger(__name__)


class RevealApi:
    """The route of a message's original, recorded in the journal and the log."""

    def __init__(self, store: Store, tickets: Tickets, journal: Journal, guard: Guard) -> None:
        self._store = store
        self._tickets = tickets
        self._journal = journal
        self._guard = guard

    def routes(self) -> list[web.AbstractRouteDef]:
        """``POST …/messages/{message}/original``."""
        return [web.post(ORIGINAL_PATH, self.original)]

    async def original(self, request: web.Request) -> web.Response:
        """The message's stored text, once its reveal is recorded."""
        if not self._guard.origin_allowed(request):
            raise http_error(403, ORIGIN_TEXT)
        who = await admit(self._guard, request, UNAVAILABLE_TEXT)
        cid, mid = request.match_info["conversation"], request.match_info["message"]
        try:
            found = await self._find(cid, mid)
            if found is None:
                return _not_found()
            channel = found.channel or ""
            event = journal_event(EventType.REVEALED, cid, channel, agent=who, message=mid)
            await self._journal.add(cid, event)
        except (redis.ConnectionError, redis.TimeoutError):
            raise http_error(503, UNAVAILABLE_TEXT) from None
        log.info(
            "message revealed by %s from %s: conversation %s message %s",
            who,
            request.remote,
            cid,
            mid,
        )
        body = {"conversation": cid, "message": mid, "text": found.text}
        return web.json_response(body, headers=NO_STORE)

    async def _find(self, cid: str, mid: str) -> Message | None:
        """The conversation's message or internal note ``mid``; None when there is none."""
        if not (CONVERSATION_RE.fullmatch(cid) and MESSAGE_RE.fullmatch(mid)):
            return None
        conversation = await self._store.load(cid)
        found = next((m for m in conversation.messages if m.id == mid), None)
        if found is None:
            found = next((n for n in await self._tickets.notes(cid) if n.id == mid), None)
        return found


def _not_found() -> web.Response:
    return web.json_response({"error": UNKNOWN_TEXT}, status=404, headers=NO_STORE)
