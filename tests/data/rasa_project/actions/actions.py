"""The test project's one custom action, served by a real ``python -m rasa_sdk`` server."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

BALANCE = "$1,234.56"


class ActionCheckBalance(Action):  # type: ignore[misc]
    """Says the balance (greeting a customer whose name the profile knows)."""

    def name(self) -> str:
        """The action's name in the project's rules."""
        return "action_check_balance"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the balance and remember it in a slot."""
        name = tracker.get_slot("name")
        greeting = f"Hi {name}, your" if name else "Your"
        dispatcher.utter_message(text=f"{greeting} balance is {BALANCE}.")
        return [SlotSet("balance", BALANCE)]
