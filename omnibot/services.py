"""What a running app holds (``app[SERVICES]``): the core and the channels around it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.contracts import Connector
from bot.core import Core
from connectors.slack.events import SlackEvents
from connectors.sms.connector import SmsConnector
from connectors.webchat.connector import WebChatConnector
from omnibot.settings import Settings

if TYPE_CHECKING:  # the model's libraries: never imported by a front process
    from omnibot.swap import SwappableIntents
    from omnibot.tuning_job import TuningJob


@dataclass(frozen=True, kw_only=True)
class Services(Core):
    """Everything a running app holds, reachable as ``app[SERVICES]``: the core and the
    channels around it."""

    settings: Settings
    # the intents serving now (a tuned model replaces the first); None in a front process
    intents: SwappableIntents | None
    connectors: dict[str, Connector]
    webchat: WebChatConnector
    sms: SmsConnector | None
    slack_events: SlackEvents | None
    tuning: TuningJob | None  # tunes the encoder in the background (FINE_TUNE=background)


SERVICES = web.AppKey("services", Services)
