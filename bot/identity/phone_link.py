"""Linking a phone from the web chat: ask for the number, text it a code, link it once the code
is typed back (merging when the phone has a customer of its own, :mod:`bot.identity.merge`)."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.handled import Handled
from bot.identity.code_budget import CodeRefusedError
from bot.identity.link_base import CANCEL, LinkingPart, linked_event, masked, step
from bot.identity.verification import Check, CodeCheck, phone_number
from bot.models import Address, Channel, Conversation, Message, Role
from bot.models.conversation import LinkStep
from bot.storage.lock import ConversationLock
from bot.storage.store import MetaUpdate

CARRY_OVER = "carried_over_from_web"  # slot: what the customer last asked on the web
QUOTE_CHARS = 80
TO_SMS = re.compile(
    r"\b(text|sms|txt)\s+me\b"
    r"|\b(continue|carry on|switch|move|go)\b.{0,20}\b(sms|texts?|texting)\b",
    re.IGNORECASE,
)
CODE = re.compile(r"\s*(\d{6})\s*\.?\s*")


class PhoneLink(LinkingPart):
    """The steps of linking a phone by a texted code, from asking for it to linking it."""

    def _walked_away(self, conversation: Conversation, done: MetaUpdate) -> Conversation:
        done.update(step(None))
        return replace(conversation, linking=None, expect=None)

    async def ask(
        self, conversation: Conversation, done: MetaUpdate, fence: ConversationLock
    ) -> None:
        if not self._setup.sms:
            await self._reply(conversation, self._texts.no_sms, done, fence)
            return
        if await self._kept_for_link(conversation, None, done, fence):
            return
        await self._reply(
            conversation, self._texts.ask_phone, {**done, **step(LinkStep.PHONE)}, fence
        )

    async def phone(
        self, conversation: Conversation, text: str, done: MetaUpdate, fence: ConversationLock
    ) -> Conversation | Handled:
        if CANCEL.fullmatch(text):
            await self._reply(conversation, self._texts.cancelled, {**done, **step(None)}, fence)
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
        await self._reply(conversation, text, {**done, **step(None)}, fence)
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
        stop: MetaUpdate = {**done, **step(None)}
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
            {**done, **step(LinkStep.CODE)},
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

    async def code(
        self, conversation: Conversation, text: str, done: MetaUpdate, fence: ConversationLock
    ) -> Conversation | Handled:
        if CANCEL.fullmatch(text):
            await self._identity.cancel_code(conversation.id)
            await self._reply(conversation, self._texts.cancelled, {**done, **step(None)}, fence)
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
            await self._reply(conversation, said, {**done, **step(None)}, fence)

    async def _linked(
        self, conversation: Conversation, phone: str, done: MetaUpdate, fence: ConversationLock
    ) -> None:
        """Link the phone (merging when it has a customer of its own) and say so where the
        customer is, in the conversation that holds everything from now on."""
        if await self._kept_for_link(conversation, phone, done, fence):
            return
        survivor = await self._attach(conversation.id, phone)
        reply = Message(role=Role.BOT, text=self._linked_text(phone))
        meta: MetaUpdate = {**done, **step(None)}
        quote = last_question(conversation, self._texts.code_entered)
        # the link's event goes with the write that moves past the code: written once
        event = linked_event(conversation.id, Channel.SMS, survivor)
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

    async def _attach(self, cid: str, phone: str) -> str:
        """Link ``phone`` to customer ``cid`` (merging when it has a customer of its own) and
        count it; the customer whose conversation holds everything now."""
        address = Address(Channel.SMS, phone)
        owner = await self._store.customer_for(address)
        before = await self._store.customer(cid)
        survivor = await self._merger.attach(cid, address)
        await self._store.remember(survivor, {"phone": phone})
        merged = owner is not None and owner != cid
        self._metrics.links.labels(channel=Channel.SMS, merged=str(merged).lower()).inc()
        if Channel.SMS not in {a.channel for a in before.addresses}:
            self._metrics.multichannel.inc()
        return survivor

    def _linked_text(self, phone: str) -> str:
        """The confirmation that ``phone`` is linked, with where to text the shop."""
        shop = self._setup.shop_number
        where = self._texts.text_us.format(shop=shop) if shop else self._texts.text_us_anywhere
        return self._texts.linked.format(phone=masked(phone), where=where)


def last_question(conversation: Conversation, placeholder: str) -> str | None:
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
