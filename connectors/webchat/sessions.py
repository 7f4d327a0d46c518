"""Which session a web chat handshake opens: the visitor's own, a texted link's, or a new one.

A page opened with ``?continue=<token>`` (a link texted to an SMS customer) is taken to that
customer's conversation when the visitor has no session of their own or chose to switch
(``?confirm=1``); a visitor with a session keeps it and is offered the link's conversation.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from bot.contracts import WebLinking
from bot.models import Address, Channel
from bot.storage.store import Store
from connectors.webchat.frames import FrameError, ServerFrame, error_frame, link_frame

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")
CONFIRM = "1"  # ?confirm=1: the visitor chose to switch to the link's conversation
LINK_REFUSED = FrameError(
    "link_invalid", "This link has expired or was already used. You can chat here as usual."
)

Session = tuple[str, str]  # the session token and its customer id


@dataclass(frozen=True)
class Opening:
    """The session a socket opens on, and what became of the link it came with, if any."""

    token: str
    cid: str
    notice: ServerFrame | None = None


@dataclass(frozen=True)
class Plan:
    """What a handshake asks for: the session it resumes, a link, and whether to redeem it."""

    resumed: Session | None
    link: str | None
    redeem: bool

    @property
    def new_session(self) -> bool:
        """Whether a new session is opened (counted against ``SESSIONS_PER_MINUTE``)."""
        return self.resumed is None or self.redeem


class SessionOpener:
    """Reads a handshake's query into a :class:`Plan` and opens the session it asks for."""

    def __init__(self, store: Store, links: WebLinking | None) -> None:
        """``links`` redeems and peeks at texted links (None: links are refused)."""
        self._store = store
        self._links = links

    async def plan(self, query: Mapping[str, str]) -> Plan:
        """The session a handshake resumes and the link it carries: a link is redeemed by a
        visitor without a session of their own, or by one who chose to switch (``confirm``)."""
        resumed = await self._resume(query.get("token"))
        link = query.get("continue") or None
        confirmed = query.get("confirm") == CONFIRM
        return Plan(resumed, link, link is not None and (resumed is None or confirmed))

    async def open(self, plan: Plan) -> Opening:
        """The session to open: the link's conversation when it is redeemed, else the visitor's
        own (offered the link's when they have one), else a fresh one."""
        if plan.link is not None and self._links is not None:
            if plan.redeem:
                token = secrets.token_urlsafe(24)
                grant = await self._links.open_link(plan.link, Address(Channel.WEBCHAT, token))
                if grant is not None:
                    return Opening(token, grant.cid, link_frame("link_opened", grant.phone))
            elif plan.resumed is not None:
                offered = await self._offer(plan.link, plan.resumed)
                if offered is not None:
                    return offered
        token, cid = plan.resumed or await self._fresh()
        return Opening(token, cid, None if plan.link is None else error_frame(LINK_REFUSED))

    async def _offer(self, link: str, session: Session) -> Opening | None:
        """A visitor with a session of their own keeps it and is offered the link's
        conversation (never switched silently); None when there is no such link now."""
        grant = await self._links.peek_link(link) if self._links is not None else None
        if grant is None or self._links is None:
            return None
        token, cid = session
        if grant.cid != cid:
            return Opening(token, cid, link_frame("link_offer", grant.phone))
        # already on that conversation (its holder, e.g. on a second link): nothing to ask
        await self._links.open_link(link, Address(Channel.WEBCHAT, token))
        return Opening(token, cid, link_frame("link_opened", grant.phone))

    async def _resume(self, token: str | None) -> Session | None:
        """The session a token names, or None (no token, or an unknown or malformed one)."""
        if token and TOKEN_RE.fullmatch(token):
            cid = await self._store.customer_for(Address(Channel.WEBCHAT, token))
            if cid is not None:
                return token, cid
        return None

    async def _fresh(self) -> Session:
        token = secrets.token_urlsafe(24)
        return token, await self._store.resolve(Address(Channel.WEBCHAT, token))
