"""The development desk's memory stays bounded however many tickets a service opens."""

from __future__ import annotations

from bot.contracts import TicketChange, TicketStatus
from bot.models import Conversation, Message, Role
from connectors.console.log_desk import LogDesk


def conversation(cid: str, messages: int = 1) -> Conversation:
    texts = tuple(Message(Role.CUSTOMER, f"{cid} {i}") for i in range(messages))
    return Conversation(cid, f"customer-{cid}", messages=texts)


async def test_it_forgets_the_least_recent_ticket_past_its_cap() -> None:
    desk = LogDesk(max_tickets=3)
    first = await desk.open_ticket(conversation("a"), "asked for a person")
    others = [await desk.open_ticket(conversation(c), "asked for a person") for c in "bc"]
    await desk.post(first, Message(Role.CUSTOMER, "still here"))  # touched: now the newest
    newest = await desk.open_ticket(conversation("d"), "asked for a person")
    assert list(desk.tickets) == [others[1], first, newest]
    assert desk.tickets[first][-1].text == "still here"


async def test_a_ticket_keeps_only_its_latest_messages_and_changes() -> None:
    desk = LogDesk(max_entries=5)
    ticket = await desk.open_ticket(conversation("a", messages=8), "asked for a person")
    for i in range(3):
        await desk.post(ticket, Message(Role.CUSTOMER, f"more {i}"))
        await desk.update_ticket(ticket, conversation("a"), TicketChange(TicketStatus.CLAIMED))
    assert [m.text for m in desk.tickets[ticket]] == ["a 6", "a 7", "more 0", "more 1", "more 2"]
    assert len(desk.changes[ticket]) == 3


async def test_ten_thousand_tickets_leave_the_default_cap() -> None:
    desk = LogDesk()
    for i in range(10_000):
        ticket = await desk.open_ticket(conversation(str(i)), "asked for a person")
        await desk.update_ticket(ticket, conversation(str(i)), TicketChange(TicketStatus.WAITING))
    assert len(desk.tickets) == len(desk.changes) == 64
