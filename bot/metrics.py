"""Prometheus metrics of the core, served at ``GET /metrics``."""

from __future__ import annotations

from prometheus_client import Counter

INBOUND = Counter("omnibot_inbound_messages_total", "Customer messages received",
                  ["channel", "outcome"])
ANSWERED = Counter("omnibot_answered_total", "Customer messages answered by the bot", ["intent"])
ESCALATIONS = Counter("omnibot_escalations_total", "Conversations handed to a human", ["reason"])
