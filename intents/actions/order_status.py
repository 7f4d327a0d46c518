"""``action_order_status``: looks an order up by the number the customer gives.

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

ORDERS_PATH_ENV = "ORDERS_PATH"
DEFAULT_ORDERS_PATH = Path(__file__).resolve().parent / "orders.json"
ORDER_NUMBER = re.compile(r"(?<!\d)#?(\d{5,10})(?!\d)")
ASK_TEXT = "Sure, I can check that. What's your order number? It's in your confirmation email."
UNKNOWN_TEXT = (
    "I couldn't find order {number}. Could you check the number? "
    "It's the 5 to 10 digits in your confirmation email."
)
STATUS_TEXT = "Order {number} is {status}. {detail}"
GREETING = "Hi {name}, "


def orders_path_from_env() -> Path:
    """The orders file of an action server process: ``ORDERS_PATH``, else the bundled sample."""
    return Path(os.environ.get(ORDERS_PATH_ENV) or DEFAULT_ORDERS_PATH)


def load_orders(path: Path) -> dict[str, dict[str, str]]:
    """Orders by number from a JSON object ``{"<number>": {"status": ..., "detail": ...}}``."""
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
            dispatcher.utter_message(text=UNKNOWN_TEXT.format(number=number))
            return [SlotSet("requested_slot", "order_number")]
        status = STATUS_TEXT.format(number=number, **order).strip()
        name = tracker.get_slot("name")
        if name:  # the customer's profile, which omnibot passes with the slots
            status = GREETING.format(name=name) + status[0].lower() + status[1:]
        dispatcher.utter_message(text=status)
        return [SlotSet("order_number", number), SlotSet("requested_slot", None)]
