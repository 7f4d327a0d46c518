"""``action_order_status``: looks an order up by the number the customer gives.

Anyone who gives a number learns the order's status word; its details (tracking, delivery
notes) go only to the customer the order belongs to: the order's ``phone`` must be the phone
omnibot verified for them (the ``verified_phone`` slot: the number they text from, or the one
they linked by code from the web chat). Anyone else is told how to verify.

Where the orders file comes from depends on who runs the action:

- in omnibot's process (:class:`intents.action_runner.InProcessActions`), from the runner's
  configuration (the service's ``ORDERS_PATH`` setting, ``.env`` included), else the bundled
  sample; the action itself reads no environment variable;
- on a separate rasa-sdk action server (``python -m rasa_sdk --actions intents.actions``), which
  builds the action without arguments, from that server process's own ``ORDERS_PATH``
  environment variable (no ``.env``), else the bundled sample.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from intents.action_call import HANDOFF_SLOT, VERIFIED_PHONE_SLOT
from intents.entities.order_numbers import ORDER_NUMBER

ORDERS_PATH_ENV = "ORDERS_PATH"
DEFAULT_ORDERS_PATH = Path(__file__).resolve().parent / "orders.json"
ASK_TEXT = "Sure, I can check that. What's your order number? It's in your confirmation email."
UNKNOWN_TEXT = (
    "I couldn't find order {number}. Could you check the number? "
    "It's the 5 to 10 digits in your confirmation email."
)
STILL_UNKNOWN_TEXT = "I can't find order {number} either."
NOT_FOUND_SLOT = "order_not_found"  # the number last looked up in vain
NOT_FOUND_REASON = "the order number was not found"
STATUS_TEXT = "Order {number} is {status}. {detail}"
VERIFY_TEXT = (
    "Order {number} is {status}. For tracking and delivery details, please show it's your "
    'order: text us from the phone number on the order, or choose "Continue by SMS" in the chat.'
)
GREETING = "Hi {name}, "
NOT_DIGITS = re.compile(r"\D")


def orders_path_from_env() -> Path:
    """The orders file of an action server process: ``ORDERS_PATH``, else the bundled sample."""
    return Path(os.environ.get(ORDERS_PATH_ENV) or DEFAULT_ORDERS_PATH)


def load_orders(path: Path) -> dict[str, dict[str, str]]:
    """Orders by number from a JSON object
    ``{"<number>": {"status": ..., "detail": ..., "phone": "<the customer's, E.164>"}}``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(number): {k: str(v) for k, v in order.items()} for number, order in data.items()}


class ActionOrderStatus(Action):  # type: ignore[misc]
    """Answers "where is my order?" from the orders file, asking for the number when needed.

    ``orders_path`` None (how an action server builds it) means :func:`orders_path_from_env`,
    read on each run.
    """

    def __init__(self, orders_path: Path | None = None) -> None:
        self._orders_path = orders_path

    def name(self) -> str:
        """The action's name in the catalogue and on the action server."""
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Reply with the order's status, or ask for (again) the order number."""
        text = str(tracker.latest_message.get("text") or "")
        match = ORDER_NUMBER.search(text)
        if match is None:
            if tracker.get_slot("requested_slot") == "order_number":
                return [SlotSet("requested_slot", None)]  # not an answer to us: let it be
            dispatcher.utter_message(text=ASK_TEXT)
            return [SlotSet("requested_slot", "order_number")]
        number = match.group(1)
        order = load_orders(self._orders_path or orders_path_from_env()).get(number)
        if order is None:
            return self._not_found(number, dispatcher, tracker)
        dispatcher.utter_message(text=order_text(number, order, tracker))
        return [
            SlotSet("order_number", number),
            SlotSet("requested_slot", None),
            SlotSet(NOT_FOUND_SLOT, None),
        ]

    def _not_found(
        self, number: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        """Ask to check the number; a second number not found goes to a person, who can look
        further than the orders file."""
        if tracker.get_slot(NOT_FOUND_SLOT):
            dispatcher.utter_message(text=STILL_UNKNOWN_TEXT.format(number=number))
            return [
                SlotSet(NOT_FOUND_SLOT, None),
                SlotSet("requested_slot", None),
                SlotSet(HANDOFF_SLOT, NOT_FOUND_REASON),
            ]
        dispatcher.utter_message(text=UNKNOWN_TEXT.format(number=number))
        return [SlotSet("requested_slot", "order_number"), SlotSet(NOT_FOUND_SLOT, number)]


def order_text(number: str, order: dict[str, str], tracker: Tracker) -> str:
    """The answer about ``order``: its details for its owner, else its status and how to
    verify; greeting the customer by name when the profile has one."""
    status = order.get("status", "")
    if belongs_to(order, tracker.get_slot(VERIFIED_PHONE_SLOT)):
        text = STATUS_TEXT.format(number=number, status=status, detail=order.get("detail", ""))
    else:
        text = VERIFY_TEXT.format(number=number, status=status)
    text = text.strip()
    name = tracker.get_slot("name")
    if name:  # the customer's profile, which omnibot passes with the slots
        text = GREETING.format(name=name) + text[0].lower() + text[1:]
    return text


def belongs_to(order: dict[str, str], verified_phone: object) -> bool:
    """Whether the order's phone is ``verified_phone`` (formatting aside); an order without
    a phone belongs to nobody, so its details are never shown."""
    owner = NOT_DIGITS.sub("", order.get("phone", ""))
    if not owner or not isinstance(verified_phone, str):
        return False
    return owner == NOT_DIGITS.sub("", verified_phone)
