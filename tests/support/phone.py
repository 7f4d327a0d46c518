"""A customer's phone in scenario tests: signed Twilio webhooks in, the fake Twilio's
message-create calls out."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from bot.models import Address
from omnibot.services import SERVICES
from tests.conftest import PUBLIC_URL
from tests.support.polling import work_done
from tests.support.twilio_fake import FakeTwilio, inbound_form, signature

WEBHOOK = f"{PUBLIC_URL}/sms/twilio"
CUSTOMER = "+15557654321"
_sids = itertools.count(1)


class Phone:
    """A customer's phone texting the shop through Twilio."""

    def __init__(
        self, client: Any, app: web.Application, twilio: FakeTwilio, number: str = CUSTOMER
    ) -> None:
        self.client, self.app, self.twilio, self.number = client, app, twilio, number

    async def text(
        self, body: str, sid: str | None = None, media: tuple[tuple[str, str], ...] = ()
    ) -> int:
        """Post the webhook for one message; the response status."""
        form = inbound_form(sid or f"SM{next(_sids):032d}", self.number, body, media=media)
        response = await self.client.post(
            "/sms/twilio", data=form, headers=signature(WEBHOOK, form)
        )
        return int(response.status)

    async def settle(self) -> None:
        """Wait until the service has answered everything it accepted."""
        await work_done(self.app)

    def received(self) -> list[str]:
        """The bodies Twilio was asked to send to this phone."""
        return [call["Body"] for call in self.twilio.sent if call["To"] == self.number]

    async def conversation_id(self) -> str:
        cid = await self.app[SERVICES].store.customer_for(Address("sms", self.number))
        assert cid is not None
        return cid
