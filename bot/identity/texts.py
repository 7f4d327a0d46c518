"""What the customer is told while their conversation moves across channels: the ``linking``
part of the catalogue :class:`bot.texts.Texts` (replaceable with it, or alone:
``Linking(texts=LinkingTexts(...))``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkingTexts:
    """What the customer is told along the way."""

    ask_phone: str = (
        "Sure. What's your mobile number, with the country code (e.g. +1 555 123 4567)? "
        "I'll text you a 6-digit code to check it's yours."
    )
    bad_phone: str = (
        "That doesn't look like a mobile number. Please give it with the country code, "
        'e.g. +1 555 123 4567, or say "cancel".'
    )
    code_sent: str = "I've texted a 6-digit code to {phone}. Type it here (it's valid 10 minutes)."
    code_sms: str = "{code} is your code to continue your chat by text. It expires in 10 minutes."
    code_entered: str = "(code entered)"  # stored in place of a typed code
    link_holder_only: str = (
        "This chat was opened from a link texted to {phone}, so I can't link another number to"
        " it. To carry on by text, text us from {phone}."
    )
    ask_code: str = 'Please type the 6-digit code I texted to {phone}, or say "cancel".'
    wrong_code: str = "That code isn't right. {tries} more {tries_word} left."
    expired_code: str = 'That code has expired. Say "text me instead" for a new one.'
    void_code: str = (
        'Too many wrong codes, so that one no longer works. Say "text me instead" to start over.'
    )
    no_code: str = 'There\'s no code waiting for you. Say "text me instead" to get one.'
    too_many: str = "Too many codes were asked for. Please try again in about {minutes} minutes."
    no_country: str = "I can't text numbers in that country, sorry. We can carry on in this chat."
    opted_out: str = (
        "That number asked us not to text it (STOP). Text START to {shop}, then ask again."
    )
    linked: str = "Done: {phone} is linked. {where} and we'll carry on right where we are."
    text_us: str = "Text us at {shop}"
    text_us_anywhere: str = "Reply to our texts"
    carried_over: str = 'Carrying on from our web chat, where you wrote: "{quote}"'
    cancelled: str = "OK, we'll stay here."
    no_sms: str = "Texting isn't available here, sorry. We can carry on in this chat."
    link_sms: str = (
        "Continue our conversation on the web (the link works once, for 15 minutes): {url}"
    )
    link_note: str = "Texted a link to continue on the web (works once, for 15 minutes)."
    no_web: str = "The web chat isn't available from here, sorry. We can carry on by text."
    unlinked: str = "Done: we won't text {phone} about this conversation any more."
    nothing_linked: str = "No phone is linked to this chat."
    only_phone: str = "This number is how we reach you. To stop all texts from us, reply STOP."
