"""One outbound entry and one try of it: the queue's item, one send, and what a try must know
when an earlier one may have reached the vendor."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from bot.contracts import DeliveryError, Sender, Sent, Unsure
from bot.delivery.log import Result
from bot.delivery.records import DeliveryRecord
from bot.models import Address, Message, MessageDict


class OutboundEntry(TypedDict):
    """One queued outbound message; ``since``: when a try began whose outcome is not known
    yet (set before each try, cleared when a failure shows nothing was sent); ``attempts`` and
    ``retry_at``: its failed tries and backoff (kept by :mod:`bot.storage.queue`)."""

    to: list[str]  # [channel, id]
    message: MessageDict
    attempts: int
    since: NotRequired[float]
    retry_at: NotRequired[float]


def unsure_of(entry: OutboundEntry, records: dict[str, DeliveryRecord]) -> Unsure | Result:
    """After a try that began at ``entry["since"]`` and never settled (its process died, or
    the vendor's answer was lost): SENT when that try's send is recorded (only the entry's
    removal was cut short), else what the sender must ask the vendor. ``records``: the
    conversation's delivery records by message id."""
    others = dict(records)
    own = others.pop(entry["message"]["id"], None)
    if own is not None and own["status"] != "failed" and "vendor_id" in own:
        return Result.SENT
    known = frozenset(r["vendor_id"] for r in others.values() if "vendor_id" in r)
    return Unsure(entry.get("since", 0.0), known)


async def try_once(
    sender: Sender, to: Address, message: Message, unsure: Unsure | None
) -> Sent | DeliveryError | None:
    """One send; any failure comes back as a :class:`DeliveryError` (unknown ones: retried,
    after asking the vendor what it took)."""
    try:
        return await sender.send(to, message, unsure)
    except DeliveryError as error:
        return error
    except Exception as exc:  # a sender bug or an unexpected vendor failure: retry it
        return DeliveryError(repr(exc), maybe_sent=True)
