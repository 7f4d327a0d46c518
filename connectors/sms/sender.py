"""Sending SMS through Twilio's REST API (:mod:`connectors.sms.twilio_api`): a message's text
cut into parts, each created once, even when an earlier try's outcome was unknown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.contracts import DeliveryError, Sent, Unsure
from bot.models import Address, Message
from connectors.sms.text import article_body, choices, is_gsm7, segments, split
from connectors.sms.twilio_api import Created, SendError, TwilioMessages

# Twilio's status callback for the messages sent (served by connectors.sms.connector)
STATUS_PATH = "/sms/twilio/status"
CLOCK_SKEW_S = 2.0
TRIAL_PREFIX = "Sent from your Twilio trial account - "  # what a trial account's bodies carry


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
        sids: list[str] = []
        try:
            await self._create(to, parts, unsure, sids)
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

    async def _create(
        self, to: Address, parts: list[str], unsure: Unsure | None, sids: list[str]
    ) -> None:
        """Create each part in order, appending its message id to ``sids`` (which therefore
        tells, when a create fails, whether some parts went out already)."""
        client = self._client()
        taken = await _taken(client, to, unsure) if unsure is not None else []
        for part in parts:
            found = next((m for m in taken if m.body in (part, TRIAL_PREFIX + part)), None)
            if found is not None:  # the earlier try sent it: never twice
                taken.remove(found)
                sids.append(found.sid)
                continue
            sids.append(await client.create(to.id, part, self._callback))

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
