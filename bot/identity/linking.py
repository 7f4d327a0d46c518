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
from dataclasses import dataclass, replace

from bot.delivery.consent import Consent
from bot.delivery.outbox import Outbox
from bot.handled import Handled
from bot.identity.merge import Merger
from bot.identity.texts import LinkingTexts
from bot.identity.verification import (
    Check,
    CodeCheck,
    CodeRefusedError,
    Identity,
    LinkGrant,
    phone_number,
)
from bot.insight.journal import EventType, Journal, JournalEvent, journal_event
from bot.metrics import Metrics
from bot.models import Address, Channel, Conversation, Message, Role
from bot.models.conversation import LinkStep
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate, Store

CARRY_OVER = "carried_over_from_web"  # slot: what the customer last asked on the web
QUOTE_CHARS = 80
TO_SMS = re.compile(
    r"\b(text|sms|txt)\s+me\b"
    r"|\b(continue|carry on|switch|move|go)\b.{0,20}\b(sms|texts?|texting)\b",
    re.IGNORECASE,
)
TO_WEB = re.compile(
    r"\b(continue|carry on|switch|move|go)\b.{0,20}\b(web|website|browser|online|web ?chat)\b",
    re.IGNORECASE,
)
UNLINK = re.compile(
    r"\bstop texting me\b|\bdon'?t text me\b|\bunlink\b.{0,20}\b(number|phone)\b", re.IGNORECASE
)
CANCEL = re.compile(r"\s*(cancel|never ?mind|no thanks?|stay here)\s*[.!]?\s*", re.IGNORECASE)
CODE = re.compile(r"\s*(\d{6})\s*\.?\s*")


@dataclass(frozen=True)
class LinkingSetup:
    """Where the customer can go: the shop's SMS number and the web chat's public URL."""

    sms: bool
    shop_number: str | None
    public_url: str | None


class Linking:
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
        self._store = store
        self._identity = identity
        self._merger = merger
        self._outbox = outbox
        self._consent = consent
        self._setup = setup
        self._metrics = metrics
        self._texts = texts or LinkingTexts()
        self._journal = journal

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
            return await self._phone(conversation, text, done, fence)
        if conversation.linking is LinkStep.CODE:
            return await self._code(conversation, text, done, fence)
        if UNLINK.search(text):
            await self._unlink(conversation, done, fence)
        elif channel == Channel.WEBCHAT and TO_SMS.search(text):
            await self._ask_phone(conversation, done, fence)
        elif channel == Channel.SMS and TO_WEB.search(text):
            await self._send_link(conversation, done, fence)
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

    async def _reply(
        self, conversation: Conversation, text: str, meta: MetaUpdate, fence: ConversationLock
    ) -> None:
        reply = Message(role=Role.BOT, text=text)
        await self._outbox.say(
            conversation.id, conversation.last_address, (reply,), meta, fence=fence
        )

    def _walked_away(self, conversation: Conversation, done: MetaUpdate) -> Conversation:
        done.update(_step(None))
        return replace(conversation, linking=None, expect=None)

    async def _ask_phone(
        self, conversation: Conversation, done: MetaUpdate, fence: ConversationLock
    ) -> None:
        if not self._setup.sms:
            await self._reply(conversation, self._texts.no_sms, done, fence)
            return
        if await self._kept_for_link(conversation, None, done, fence):
            return
        await self._reply(
            conversation, self._texts.ask_phone, {**done, **_step(LinkStep.PHONE)}, fence
        )

    async def _phone(
        self, conversation: Conversation, text: str, done: MetaUpdate, fence: ConversationLock
    ) -> Conversation | Handled:
        if CANCEL.fullmatch(text):
            await self._reply(conversation, self._texts.cancelled, {**done, **_step(None)}, fence)
            return Handled.DONE
        phone = phone_number(text)
        if phone is None:
            if not any(c.isdigit() for c in text):
                return self._walked_away(conversation, done)
            await self._reply(conversation, self._texts.bad_phone, done, fence)
            return Handled.DONE
        await self._send_code(conversation, phone, done, fence)
        return Handled.DONE

    async def _kept_for_link(
        self,
        conversation: Conversation,
        phone: str | None,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> bool:
        """Refuse (True) to link ``phone`` (any phone when None) to a conversation a texted link
        opened on the web, unless it is the phone the link was texted to: whoever opened the
        link may not be its holder, and merging their phone would show them, or show the link's
        holder, the other's conversation."""
        holder = await self._identity.opened_by_link(conversation.id)
        if holder is None or (phone is not None and phone == holder):
            return False
        self._metrics.link_codes.labels(result="refused").inc()
        text = self._texts.link_holder_only.format(phone=masked(holder) or "that number")
        await self._reply(conversation, text, {**done, **_step(None)}, fence)
        return True

    def _refused_text(self, error: CodeRefusedError) -> str:
        """Why no code was texted: a country the shop does not text, or too many codes."""
        if error.retry_after_s is None:
            return self._texts.no_country
        return self._texts.too_many.format(minutes=max(1, round(error.retry_after_s / 60)))

    async def _send_code(
        self, conversation: Conversation, phone: str, done: MetaUpdate, fence: ConversationLock
    ) -> None:
        if await self._kept_for_link(conversation, phone, done, fence):
            return
        stop: MetaUpdate = {**done, **_step(None)}
        if await self._consent.opted_out(Address(Channel.SMS, phone)):
            self._metrics.link_codes.labels(result="refused").inc()
            shop = self._setup.shop_number or "our number"
            await self._reply(conversation, self._texts.opted_out.format(shop=shop), stop, fence)
            return
        try:
            ip = conversation.customer.ip if conversation.customer else None
            code = await self._identity.issue_code(conversation.id, phone, ip)
        except CodeRefusedError as error:
            self._metrics.link_codes.labels(result="refused").inc()
            await self._reply(conversation, self._refused_text(error), stop, fence)
            return
        self._metrics.link_codes.labels(result="sent").inc()
        note = Message(role=Role.BOT, text=self._texts.code_sent.format(phone=masked(phone)))
        sms = Message(role=Role.BOT, text=self._texts.code_sms.format(code=code))
        await self._outbox.say(
            conversation.id,
            conversation.last_address,
            (note,),
            {**done, **_step(LinkStep.CODE)},
            private=((Address(Channel.SMS, phone), sms),),
            fence=fence,
        )

    async def seal_code(self, cid: str, text: str) -> str:
        """What to store of a web chat message: a code typed while customer ``cid`` is asked
        for one is kept aside for checking and stored as a placeholder, never its digits."""
        typed = CODE.fullmatch(text)
        if typed is None or (await self._store.recent(cid)).linking is not LinkStep.CODE:
            return text
        await self._identity.keep_typed(cid, typed.group(1))
        return self._texts.code_entered

    async def _typed(self, cid: str, text: str) -> list[str]:
        """The codes a message carries: those kept aside for its placeholder, or its digits."""
        if text == self._texts.code_entered:
            return await self._identity.take_typed(cid)
        typed = CODE.fullmatch(text)
        return [] if typed is None else [typed.group(1)]

    async def _code(
        self, conversation: Conversation, text: str, done: MetaUpdate, fence: ConversationLock
    ) -> Conversation | Handled:
        if CANCEL.fullmatch(text):
            await self._identity.cancel_code(conversation.id)
            await self._reply(conversation, self._texts.cancelled, {**done, **_step(None)}, fence)
            return Handled.DONE
        codes = await self._typed(conversation.id, text)
        if not codes:
            if text != self._texts.code_entered and not any(c.isdigit() for c in text):
                return self._walked_away(conversation, done)
            phone = await self._identity.pending_phone(conversation.id)
            await self._reply(
                conversation, self._texts.ask_code.format(phone=masked(phone or "")), done, fence
            )
            return Handled.DONE
        checked = await self._check(conversation.id, codes)
        self._metrics.link_codes.labels(result=checked.outcome.value).inc()
        await self._checked(conversation, checked, done, fence)
        return Handled.DONE

    async def _check(self, cid: str, codes: list[str]) -> CodeCheck:
        """Check the typed codes in turn (each wrong one counts) until one is not wrong."""
        checked = CodeCheck(Check.NONE)
        for code in codes:
            checked = await self._identity.check_code(cid, code)
            if checked.outcome is not Check.WRONG:
                break
        return checked

    async def _checked(
        self,
        conversation: Conversation,
        checked: CodeCheck,
        done: MetaUpdate,
        fence: ConversationLock,
    ) -> None:
        """Link the phone, or say why not."""
        if checked.outcome is Check.LINKED and checked.phone is not None:
            await self._linked(conversation, checked.phone, done, fence)
        elif checked.outcome is Check.WRONG:
            tries = checked.tries_left
            text = self._texts.wrong_code.format(
                tries=tries, tries_word="try" if tries == 1 else "tries"
            )
            await self._reply(conversation, text, done, fence)
        else:
            said = {
                Check.EXPIRED: self._texts.expired_code,
                Check.VOID: self._texts.void_code,
            }.get(checked.outcome, self._texts.no_code)
            await self._reply(conversation, said, {**done, **_step(None)}, fence)

    async def _linked(
        self, conversation: Conversation, phone: str, done: MetaUpdate, fence: ConversationLock
    ) -> None:
        """Link the phone (merging when it has a customer of its own) and say so where the
        customer is, in the conversation that holds everything from now on."""
        if await self._kept_for_link(conversation, phone, done, fence):
            return
        address = Address(Channel.SMS, phone)
        owner = await self._store.customer_for(address)
        before = await self._store.customer(conversation.id)
        survivor = await self._merger.attach(conversation.id, address)
        await self._store.remember(survivor, {"phone": phone})
        merged = owner is not None and owner != conversation.id
        self._metrics.links.labels(channel=Channel.SMS, merged=str(merged).lower()).inc()
        if Channel.SMS not in {a.channel for a in before.addresses}:
            self._metrics.multichannel.inc()
        shop = self._setup.shop_number
        where = self._texts.text_us.format(shop=shop) if shop else self._texts.text_us_anywhere
        text = self._texts.linked.format(phone=masked(phone), where=where)
        reply = Message(role=Role.BOT, text=text)
        meta: MetaUpdate = {**done, **_step(None)}
        quote = _last_question(conversation, self._texts.code_entered)
        # the link's event goes with the write that moves past the code: written once
        event = _linked_event(conversation.id, Channel.SMS, survivor)
        if survivor == conversation.id:
            if quote:
                meta["slots"] = {**conversation.slots, CARRY_OVER: quote}
            await self._outbox.say(
                conversation.id,
                conversation.last_address,
                (reply,),
                meta,
                fence=fence,
                events=(event,),
            )
            return
        # the phone's conversation had an open ticket and holds everything now
        await self._store.record(conversation.id, meta=meta, fence=fence, events=(event,))
        here: MetaUpdate = {}
        if conversation.last_address is not None:
            here["last_address"] = conversation.last_address
        if quote:
            kept = await self._store.recent(survivor)
            here["slots"] = {**kept.slots, CARRY_OVER: quote}
        await self._outbox.say(survivor, conversation.last_address, (reply,), here)

    async def peek_link(self, token: str) -> LinkGrant | None:
        """What a "continue on the web" link would open (the customer it now belongs to and the
        phone it was texted to), leaving it unused; None for an unknown, expired or used one."""
        grant = await self._identity.peek_link(token)
        if grant is None:
            return None
        return LinkGrant(await self._merger.merged_into(grant.cid) or grant.cid, grant.phone)

    async def open_link(self, token: str, address: Address) -> LinkGrant | None:
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
            await self._journal.add(cid, _linked_event(cid, Channel.WEBCHAT, cid))
        self._metrics.links.labels(channel=Channel.WEBCHAT, merged="false").inc()
        if Channel.WEBCHAT not in {a.channel for a in before.addresses}:
            self._metrics.multichannel.inc()
        return LinkGrant(cid, grant.phone)

    async def _send_link(
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


def _linked_event(cid: str, channel: str, into: str) -> JournalEvent:
    """An address of ``channel`` joined customer ``cid``, whose conversation is ``into``'s now
    (``cid`` itself, or the customer it was merged into)."""
    return journal_event(EventType.LINKED, cid, channel, into=into)


def _step(step: LinkStep | None) -> MetaUpdate:
    """The meta of linking moving to ``step`` (None: over). An intent's pending question is
    dropped with it, as linking takes the conversation over (and a step kept the old way, in
    ``expect``, is cleared)."""
    return {"linking": step, "expect": None}


def _last_question(conversation: Conversation, placeholder: str) -> str | None:
    """What the customer last asked on the web before asking to link (shortened); neither
    linking's own steps nor a typed code's ``placeholder``."""
    for message in reversed(conversation.messages):
        text = message.text.strip()
        if message.role is not Role.CUSTOMER or message.channel != Channel.WEBCHAT or not text:
            continue
        if (
            TO_SMS.search(text)
            or CODE.fullmatch(text)
            or phone_number(text)
            or CANCEL.fullmatch(text)
        ):
            continue
        if text == placeholder:
            continue
        return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
    return None


def masked(phone: str) -> str:
    """A phone number with all but its last 4 digits hidden (+1•••••4321)."""
    if len(phone) <= 6:
        return phone
    return phone[:2] + "•" * (len(phone) - 6) + phone[-4:]
