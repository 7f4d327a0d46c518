"""Carrying a conversation across channels, as the customer asks for it in the chat.

From the web chat, "text me instead" (or the widget's "Continue by SMS") asks for a phone
number, texts a one-time code to it and links the phone once the code is typed back; later
texts from that phone land in the same conversation (two customers with history are merged:
:mod:`bot.identity.merge`). By SMS, "continue on the web" texts a single-use link that opens the web
chat on the conversation. "Stop texting me here" unlinks the phone; its history stays. Names,
numbers or e-mails typed in a message never link anyone: only the code's holder can.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.delivery.consent import Consent
from bot.delivery.outbox import Outbox
from bot.handled import Handled
from bot.identity.link_base import LinkingPart, LinkingSetup, masked
from bot.identity.merge import Merger
from bot.identity.phone_link import CARRY_OVER, TO_SMS, PhoneLink
from bot.identity.texts import LinkingTexts
from bot.identity.verification import Identity, LinkGrant
from bot.identity.web_link import WebLink
from bot.insight.journal import Journal
from bot.metrics import Metrics
from bot.models import Address, Channel, Conversation, Message, Role
from bot.models.conversation import LinkStep
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate, Store

TO_WEB = re.compile(
    r"\b(continue|carry on|switch|move|go)\b.{0,20}\b(web|website|browser|online|web ?chat)\b",
    re.IGNORECASE,
)
UNLINK = re.compile(
    r"\bstop texting me\b|\bdon'?t text me\b|\bunlink\b.{0,20}\b(number|phone)\b", re.IGNORECASE
)


class Linking(LinkingPart):
    """Recognises linking requests and their follow-ups and answers them."""

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
        services = (store, identity, merger, outbox, consent, setup, metrics, texts, journal)
        super().__init__(*services)
        self._phones = PhoneLink(*services)
        self._web = WebLink(*services)

    async def route(
        self,
        conversation: Conversation,
        message: Message,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> Conversation | Handled:
        """Handle ``message`` when it is part of linking (:attr:`Handled.DONE`); otherwise the
        conversation to answer it in as usual (a linking question the customer walked away from
        is dropped)."""
        text, channel = message.text, message.channel
        if channel == Channel.SMS and CARRY_OVER in conversation.slots:
            conversation = await self._carry_over(conversation, done, fence)
        if conversation.linking is LinkStep.PHONE:
            return await self._phones.phone(conversation, text, done, fence)
        if conversation.linking is LinkStep.CODE:
            return await self._phones.code(conversation, text, done, fence)
        if UNLINK.search(text):
            await self._unlink(conversation, done, fence)
        elif channel == Channel.WEBCHAT and TO_SMS.search(text):
            await self._phones.ask(conversation, done, fence)
        elif channel == Channel.SMS and TO_WEB.search(text):
            await self._web.send(conversation, done, fence)
        else:
            return conversation
        return Handled.DONE

    async def _carry_over(
        self, conversation: Conversation, done: MetaUpdate, fence: ConversationLock
    ) -> Conversation:
        """The first text after linking: say where the conversation stands, once."""
        slots = dict(conversation.slots)
        quote = slots.pop(CARRY_OVER)
        done["slots"] = slots
        note = Message(role=Role.BOT, text=self._texts.carried_over.format(quote=quote))
        await self._outbox.say(conversation.id, conversation.last_address, (note,), fence=fence)
        return replace(conversation, slots=slots)

    async def seal_code(self, cid: str, text: str) -> str:
        """What to store of a web chat message: a code typed while customer ``cid`` is asked
        for one is kept aside for checking and stored as a placeholder, never its digits."""
        return await self._phones.seal_code(cid, text)

    async def peek_link(self, token: str) -> LinkGrant | None:
        """What a "continue on the web" link would open (:meth:`WebLink.peek`)."""
        return await self._web.peek(token)

    async def open_link(self, token: str, address: Address) -> LinkGrant | None:
        """Redeem a "continue on the web" link for web chat ``address`` (:meth:`WebLink.open`)."""
        return await self._web.open(token, address)

    async def _unlink(
        self, conversation: Conversation, done: MetaUpdate, fence: ConversationLock
    ) -> None:
        """Detach the phone(s); replies go where the customer still is from now on."""
        customer = await self._store.customer(conversation.id)
        phones = [a for a in customer.addresses if a.channel == Channel.SMS]
        others = [a for a in customer.addresses if a.channel != Channel.SMS]
        if not phones:
            await self._reply(conversation, self._texts.nothing_linked, done, fence)
            return
        if not others:  # the phone is the only way to reach them: that is STOP's job
            await self._reply(conversation, self._texts.only_phone, done, fence)
            return
        for phone in phones:
            await self._store.remove_address(conversation.id, phone)
        text = self._texts.unlinked.format(phone=", ".join(masked(p.id) for p in phones))
        # the confirmation goes where they asked; everything after, to the web chat
        await self._reply(conversation, text, {**done, "last_address": others[0]}, fence)
