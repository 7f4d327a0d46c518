"""The SMS channel through Twilio: the inbound webhook, status callbacks, and sending.

``POST /sms/twilio`` checks Twilio's signature over the public URL and every posted field,
turns the form into an :class:`InboundMessage` (keywords STOP/START/HELP as controls, MMS
media as attachments) and answers with an empty TwiML ``<Response/>`` once the message is
stored; the answer goes out later through Twilio's REST API (:mod:`connectors.sms.sender`).
``POST /sms/twilio/status`` records Twilio's delivery reports on the outbound message.

A signature alone does not make a form genuine: Twilio signs the sorted names and values
without telling which of two repeated fields came first, so a signed form can be re-cut (a
second ``From``) and reposted. Every field must therefore appear once, and the form must name
the configured account (``AccountSid``) and the shop's number (``To`` of a message, ``From``
of a status report) before anything is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from aiohttp import web
from multidict import MultiDictProxy
from twilio.request_validator import (
    RequestValidator,
    get_signature_algorithm,
)

from bot.contracts import InboundHandler, Sent, Unsure
from bot.delivery.records import DeliveryRecord
from bot.models import Address, Channel, Message
from bot.storage.store import RateLimitedError
from connectors.sms.sender import STATUS_PATH as STATUS_PATH
from connectors.sms.sender import SmsSender as SmsSender
from connectors.sms.webhook_form import ASCII_NUMBER_RE, read_form
from connectors.sms.webhook_form import parse_inbound as parse_inbound

WEBHOOK_PATH = "/sms/twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

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
        fields = await read_form(request)
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
