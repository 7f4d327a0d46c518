"""Custom actions written with rasa-sdk; registered in-process or served by a Rasa action server
(``python -m rasa_sdk --actions intents.actions``)."""

from intents.actions.order_status import ActionOrderStatus

__all__ = ["ActionOrderStatus"]
