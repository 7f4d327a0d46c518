"""Twilio's webhook forms: the posted body read as text fields (:func:`read_form`), and a
verified "a message comes in" form turned into an :class:`InboundMessage`
(:func:`parse_inbound`: keywords STOP/START/HELP as controls, MMS media as attachments).
A form that is not one is an HTTP error: 400, or 415 for another body type."""

from __future__ import annotations

import re

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from bot.models import Address, Channel, InboundMessage
from bot.models.messages import Control, Media
from connectors.sms.text import MAX_BODY_CHARS, Keyword, keyword, sender_kind

MAX_MEDIA = 10  # Twilio attaches at most ten media to one message
FORM_TYPE = "application/x-www-form-urlencoded"
ASCII_NUMBER_RE = re.compile(r"[0-9]{1,9}")  # str.isdigit() takes "²", which int() refuses
CONTROLS = {
    Keyword.STOP: Control.OPT_OUT,
    Keyword.START: Control.OPT_IN,
    Keyword.HELP: Control.HELP,
}


def parse_inbound(form: MultiDictProxy[str]) -> InboundMessage:
    """The inbound message of a verified webhook form; 400 for a form that is not one."""
    sid, sender = form.get("MessageSid", ""), form.get("From", "")
    body = form.get("Body", "")
    if not sid:
        raise web.HTTPBadRequest(text="MessageSid is required")
    if not sender:
        raise web.HTTPBadRequest(text="From is required")
    if sender_kind(sender) is None:
        raise web.HTTPBadRequest(text="From is not a phone number, short code or sender id")
    if len(body) > MAX_BODY_CHARS:
        raise web.HTTPBadRequest(text=f"Body is longer than {MAX_BODY_CHARS} characters")
    media = _media(form)
    if not body.strip() and not media:
        raise web.HTTPBadRequest(text="the message has neither text nor media")
    found = keyword(body)
    return InboundMessage(
        Address(Channel.SMS, sender),
        body.strip(),
        dedup_id=sid,
        media=media,
        control=CONTROLS[found] if found and not media else None,
    )


async def read_form(request: web.Request) -> MultiDictProxy[str]:
    """The text fields of a form-encoded body; 415 for another type or an unknown charset,
    400 for bytes the charset cannot decode or a file upload."""
    if request.content_type != FORM_TYPE:
        raise web.HTTPUnsupportedMediaType(text="expected a form-encoded body")
    try:
        form = await request.post()
    except LookupError:  # aiohttp decodes with the charset as named: an unknown one
        raise web.HTTPUnsupportedMediaType(text="unknown charset") from None
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text="the body does not decode in its charset") from None
    return MultiDictProxy(_text_fields(form))


def _media(form: MultiDictProxy[str]) -> tuple[Media, ...]:
    count = form.get("NumMedia", "0")
    if not ASCII_NUMBER_RE.fullmatch(count) or int(count) > MAX_MEDIA:
        raise web.HTTPBadRequest(text=f"NumMedia must be a number from 0 to {MAX_MEDIA}")
    media = []
    for i in range(int(count)):
        url = form.get(f"MediaUrl{i}")
        if not url or not url.startswith(("https://", "http://")):
            raise web.HTTPBadRequest(text=f"MediaUrl{i} is missing or not a URL")
        media.append(Media(url, form.get(f"MediaContentType{i}", "application/octet-stream")))
    return tuple(media)


def _text_fields(
    form: MultiDictProxy[str | bytes | bytearray | web.FileField],
) -> MultiDict[str]:
    """Only text fields (a file upload is not something Twilio sends)."""
    fields: MultiDict[str] = MultiDict()
    for name, value in form.items():
        if not isinstance(value, str):
            raise web.HTTPBadRequest(text="file uploads are not accepted")
        fields.add(name, value)
    return fields
