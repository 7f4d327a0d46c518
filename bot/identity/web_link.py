"""Continuing on the web: a single-use link texted to the phone opens the web chat on the
conversation (:meth:`bot.identity.verification.Identity.issue_link` makes its token)."""

from __future__ import annotations

from dataclasses import replace

from bot.identity.link_base import LinkingPart, linked_event
from bot.identity.verification import LinkGrant
from bot.models import Address, Channel, Conversation, Message, Role
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate


class WebLink(LinkingPart):
    """Texts "continue on the web" links and redeems them when the web chat opens one."""

    async def peek(self, token: str) -> LinkGrant | None:
        """What a "continue on the web" link would open (the customer it now belongs to and the
        phone it was texted to), leaving it unused; None for an unknown, expired or used one."""
        grant = await self._identity.peek_link(token)
        if grant is None:
            return None
        return LinkGrant(await self._merger.merged_into(grant.cid) or grant.cid, grant.phone)

    async def open(self, token: str, address: Address) -> LinkGrant | None:
        """Redeem a "continue on the web" link for web chat ``address``: the customer it now
        belongs to and the phone it was texted to, or None (unknown, expired or used link).
        The conversation is marked as opened by a link: no other phone is linked to it."""
        grant = await self._identity.redeem_link(token)
        if grant is None:
            return None
        cid = await self._merger.merged_into(grant.cid) or grant.cid
        before = await self._store.customer(cid)
        await self._store.add_address(cid, address)
        await self._identity.mark_opened_by_link(cid, grant.phone, self._store.ttl_s)
        if self._journal is not None:  # no conversation script here: written after the link
            await self._journal.add(cid, linked_event(cid, Channel.WEBCHAT, cid))
        self._metrics.links.labels(channel=Channel.WEBCHAT, merged="false").inc()
        if Channel.WEBCHAT not in {a.channel for a in before.addresses}:
            self._metrics.multichannel.inc()
        return LinkGrant(cid, grant.phone)

    async def send(
        self, conversation: Conversation, done: MetaUpdate, fence: ConversationLock
    ) -> None:
        base, to = self._setup.public_url, conversation.last_address
        if not base or to is None or to.channel != Channel.SMS:
            await self._reply(conversation, self._texts.no_web, done, fence)
            return
        token = await self._identity.issue_link(conversation.id, to.id)
        url = f"{base.rstrip('/')}/?continue={token}"
        note = Message(role=Role.BOT, text=self._texts.link_note)
        link = replace(note, text=self._texts.link_sms.format(url=url))
        # the history keeps the note; only the phone gets the link itself
        await self._outbox.say(
            conversation.id, None, (note,), done, private=((to, link),), fence=fence
        )
