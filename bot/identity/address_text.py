"""Customer addresses as people write them (``+447700900123``, ``webchat:<visitor id>``), and
as an audit line shows them: masked."""

from __future__ import annotations

from bot.identity.verification import phone_number
from bot.models import Address, Channel
from bot.models.channels import CHANNELS

PHONE_SHOWN = 4  # the digits of a number an audit line shows
ID_SHOWN = 4  # the characters of another address's id it shows


class AddressFormError(ValueError):
    """Text that is no customer address (``+<digits>`` or ``<channel>:<id>``)."""

    def __init__(self, text: str) -> None:
        super().__init__(
            f"not a customer address: {text!r} (a phone number such as +447700900123, "
            "or webchat:<visitor id>)"
        )


def parse_address(text: str) -> Address:
    """A customer address from how people write it: a phone number (SMS), or
    ``<channel>:<id>`` for a customer channel (``webchat:<visitor id>``, ``sms:+44...``)."""
    text = text.strip()
    channel, sep, rest = text.partition(":")
    if sep and channel in {c.value for c in CHANNELS} and rest.strip():
        if channel == Channel.SMS:
            return _phone(rest, text)
        return Address(channel, rest.strip())
    return _phone(text, text)


def _phone(number: str, text: str) -> Address:
    phone = phone_number(number)
    if phone is None:
        raise AddressFormError(text)
    return Address(Channel.SMS.value, str(phone))


def mask(address: Address) -> str:
    """An address as an audit line shows it: most of the number or id hidden."""
    ident = address.id
    if address.channel == Channel.SMS and len(ident) > PHONE_SHOWN + 2:
        shown = ident[:2] + "•" * (len(ident) - PHONE_SHOWN - 2) + ident[-PHONE_SHOWN:]
    else:
        shown = ident[:ID_SHOWN] + "…" if len(ident) > ID_SHOWN else "…"
    return f"{address.channel}:{shown}"
