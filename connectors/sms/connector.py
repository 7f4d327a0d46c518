"""The SMS channel through Twilio: the inbound webhook, status callbacks, and sending.

``POST /sms/twilio`` checks Twilio's signature over the public URL and every posted field,
turns the form into an :class:`InboundMessage` (keywords STOP/START/HELP as controls, MMS
media as attachments) and answers with an empty TwiML ``<Response/>`` once the message is
stored; the answer goes out later through Twilio's REST API (:mod:`connectors.sms.twilio_api`).
``POST /sms/twilio/status`` records Twilio's delivery reports on the outbound message.

A signature alone does not make a form genuine: Twilio signs the sorted names and values
without telling which of two repeated fields came first, so a signed form can be re-cut (a
second ``From``) and reposted. Every field must therefore appear once, and the form must name
the configured account (``AccountSid``) and the shop's number (``To`` of a message, ``From``
of a status report) before anything is stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import (
    RequestValidator,
    get_signature_algorithm,
)

from bot.contracts import DeliveryError, InboundHandler, Sent, Unsure
from bot.delivery.records import DeliveryRecord
from bot.models import Address, Channel, InboundMessage, Message
from bot.models.messages import Control, Media
from bot.storage.store import RateLimitedError
from connectors.sms.text import (
    MAX_BODY_CHARS,
    Keyword,
    article_body,
    choices,
    is_gsm7,
    keyword,
    segments,
    sender_kind,
    split,
)
from connectors.sms.twilio_api import Created, SendError, TwilioMessages

WEBHOOK_PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # Twilio attaches at most ten media to one message
CLOCK_SKEW_S = 2.0
FORM_TYPE = "application/x-www-form-urlencoded"
ASCII_NUMBER_RE = re.compile(r"[0-9]{1,9}")  # str.isdigit() takes "²", which int() refuses
TRIAL_PREFIX = "Sent from your Twilio trial account - "  # what a trial account's bodies carry
CONTROLS = {
    Keyword.STOP: Control.OPT_OUT,
    Keyword.START: Control.OPT_IN,
    Keyword.HELP: Control.HELP,
}

StatusHandler = Callable[[str, str, int | None], Awaitable[DeliveryRecord | None]]
"""Records a vendor status report: (vendor message id, status, error code)."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TwilioAccount:
    """What a genuine webhook names: the account, and the shop's number; with a Messaging
    Service (``service_sid``) the number is any of its pool, so only the service is checked."""

    sid: str
    number: str | None = None
    service_sid: str | None = None


class SmsSender:
    """Sends messages as SMS through Twilio's REST API."""

    def __init__(
        self, messages: Callable[[], TwilioMessages], public_url: str | None = None
    ) -> None:
        self._make_messages = messages
        self._messages: TwilioMessages | None = None
        self._callback = f"{public_url}{STATUS_PATH}" if public_url else None

    async def send(self, to: Address, message: Message, unsure: Unsure | None = None) -> Sent:
        """One create call per part (one part up to 1,600 characters), in order; after an
        ``unsure`` try, only the parts Twilio does not hold already."""
        parts = split(_outbound_text(message)) or [" "]
        client = self._client()
        sids = []
        try:
            taken = await _taken(client, to, unsure) if unsure is not None else []
            for part in parts:
                found = next((m for m in taken if m.body in (part, TRIAL_PREFIX + part)), None)
                if found is not None:  # the earlier try sent it: never twice
                    taken.remove(found)
                    sids.append(found.sid)
                    continue
                sids.append(await client.create(to.id, part, self._callback))
        except SendError as error:
            raise DeliveryError(
                str(error),
                permanent=error.permanent,
                code=error.code,
                retry_after=error.retry_after,
                maybe_sent=error.maybe_sent or bool(sids),
            ) from error
        text = "".join(parts)
        return Sent(
            vendor_id=sids[0],
            parts=len(parts),
            segments=sum(segments(part) for part in parts),
            encoding="gsm7" if is_gsm7(text) else "ucs2",
        )

    async def close(self) -> None:
        """Close the Twilio HTTP session, if one was opened."""
        if self._messages is not None:
            await self._messages.close()
            self._messages = None

    def _client(self) -> TwilioMessages:
        # built on first use: its aiohttp session must be made inside the running loop
        if self._messages is None:
            self._messages = self._make_messages()
        return self._messages


async def _taken(client: TwilioMessages, to: Address, unsure: Unsure) -> list[Created]:
    """What Twilio created for ``to`` since the unsure try began that no recorded message
    claims (Twilio dates have whole seconds; a little clock skew is allowed)."""
    since = datetime.fromtimestamp(unsure.since - CLOCK_SKEW_S, UTC)
    return [m for m in await client.recent(to.id, since) if m.sid not in unsure.known]


class SmsConnector:
    """Carries conversations over SMS with Twilio: webhooks in, :class:`SmsSender` out."""

    channel: ClassVar[str] = Channel.SMS

    def __init__(
        self,
        sender: SmsSender,
        submit: InboundHandler,
        report: StatusHandler,
        auth_token: str,
        public_url: str | None = None,
        *,
        account: TwilioAccount,
    ) -> None:
        self.sender = sender
        self._submit = submit
        self._report = report
        self._validator = RequestValidator(auth_token)
        self._public_url = public_url
        self._account = account

    def routes(self) -> list[web.AbstractRouteDef]:
        """The inbound webhook and the status callback."""
        return [web.post(WEBHOOK_PATH, self.inbound), web.post(STATUS_PATH, self.status)]

    async def send(self, to: Address, message: Message, unsure: Unsure | None = None) -> Sent:
        """Send ``message`` by SMS (see :class:`SmsSender`)."""
        return await self.sender.send(to, message, unsure)

    async def inbound(self, request: web.Request) -> web.Response:
        """Twilio's "a message comes in" webhook."""
        form = await self._signed_form(request, shop_field="To")
        inbound = parse_inbound(form)
        try:
            await self._submit(inbound)
        except RateLimitedError as error:
            log.warning("refused an SMS: the number is over its message rate limit")
            raise web.HTTPTooManyRequests(
                text="too many messages", headers={"Retry-After": str(error.retry_after_s)}
            ) from None
        except Exception:
            log.exception("an inbound SMS could not be stored")
            raise web.HTTPServiceUnavailable(
                text="try again later", headers={"Retry-After": "5"}
            ) from None
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def status(self, request: web.Request) -> web.Response:
        """Twilio's status callback for an outbound message."""
        form = await self._signed_form(request, shop_field="From")
        sid, status = form.get("MessageSid"), form.get("MessageStatus")
        if not sid or not status:
            raise web.HTTPBadRequest(text="MessageSid and MessageStatus are required")
        code = form.get("ErrorCode", "")
        if code and not ASCII_NUMBER_RE.fullmatch(code):
            raise web.HTTPBadRequest(text="ErrorCode must be a number")
        await self._report(sid, status, int(code) if code else None)
        return web.Response(status=204)

    async def _signed_form(self, request: web.Request, shop_field: str) -> MultiDictProxy[str]:
        """The posted form, once Twilio's signature over it is verified (403 otherwise), each
        field is there once (400) and it names this account and shop (403)."""
        fields = await _read_form(request)
        signature = request.headers.get("X-Twilio-Signature", "")
        algorithm = get_signature_algorithm(
            request.headers.get("X-Twilio-Webhooks-Signature-Settings")
        )
        if not signature or not self._validator.validate(
            self._signed_url(request), fields, signature, algorithm
        ):
            log.warning("refused an unsigned or mis-signed request to %s", request.path)
            raise web.HTTPForbidden(text="invalid Twilio signature")
        repeated = sorted({name for name in fields if len(fields.getall(name)) > 1})
        if repeated:
            log.warning("refused a signed form with repeated fields %r", repeated)
            raise web.HTTPBadRequest(text=f"repeated fields: {', '.join(repeated)}")
        self._check_account(fields, shop_field)
        return fields

    def _check_account(self, fields: MultiDictProxy[str], shop_field: str) -> None:
        """403 unless the form is about this account and the shop's number (or service)."""
        account = self._account
        wrong = []
        if fields.get("AccountSid") != account.sid:
            wrong.append("AccountSid")
        if account.service_sid:
            service = fields.get("MessagingServiceSid")
            if service is not None and service != account.service_sid:
                wrong.append("MessagingServiceSid")
        elif account.number and fields.get(shop_field) != account.number:
            wrong.append(shop_field)
        if wrong:
            log.warning("refused a signed form naming another account or number: %s", wrong)
            raise web.HTTPForbidden(text=f"not this account's: {', '.join(wrong)}")

    def _signed_url(self, request: web.Request) -> str:
        """The URL Twilio signed: the public one when configured (behind a proxy, the
        request's own URL is not what Twilio called)."""
        if self._public_url:
            return f"{self._public_url}{request.path_qs}"
        return str(request.url)


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


async def _read_form(request: web.Request) -> MultiDictProxy[str]:
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


def _outbound_text(message: Message) -> str:
    """The SMS text of a message: its words (with the article they came from, trimmed to fit
    its link), its options numbered (a reply of just the number chooses one; a rating's
    scores as "Reply 1-5"), then links to its attachments."""
    article = message.article
    text = (
        message.text if article is None else article_body(message.text, article.title, article.url)
    )
    links = [media.url for media in message.media]
    return "\n".join([text, *choices(message.options), *links])
