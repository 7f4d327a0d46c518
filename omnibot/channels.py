"""The channels and desks around the core, built from the settings: SMS, web chat, Slack and
the local console, and the checks that a channel switched on has what it needs."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as redis

from bot.core import Core
from bot.delivery.records import DeliveryRecord
from bot.desk.actions import HandoffActions
from bot.identity.code_budget import CodeBudget
from bot.models import Channel
from bot.storage.limits import RateLimiter
from connectors.console.console import AgentConsole
from connectors.console.token import TokenError, console_token
from connectors.slack.desk import SlackDesk
from connectors.slack.events import SlackEvents
from connectors.sms.connector import SmsConnector, SmsSender, TwilioAccount
from connectors.sms.twilio_api import TwilioMessages
from connectors.webchat.connector import WebChatConnector
from connectors.webchat.sockets import SocketCap
from omnibot.settings import Settings, SettingsError


def twilio_messages(settings: Settings) -> TwilioMessages:
    """The Twilio REST client for sending (built inside the running event loop)."""
    assert settings.twilio_account_sid is not None
    assert settings.twilio_auth_token is not None
    return TwilioMessages(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_api_url,
        settings.twilio_from_number,
        settings.twilio_messaging_service_sid,
    )


def check_channels(settings: Settings) -> None:
    """Refuse settings that switch a channel on without what it needs to work."""
    if settings.slack_enabled and not settings.slack_escalation_channel:
        raise SettingsError(
            "SLACK_ESCALATION_CHANNEL", "", "the channel tickets go to when SLACK_BOT_TOKEN is set"
        )
    if not settings.sms_enabled:
        return
    if not settings.twilio_account_sid:
        raise SettingsError(
            "TWILIO_ACCOUNT_SID", "", "the account SID when TWILIO_AUTH_TOKEN is set"
        )
    if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
        raise SettingsError(
            "TWILIO_FROM_NUMBER",
            "",
            "a sender number (or TWILIO_MESSAGING_SERVICE_SID) when TWILIO_AUTH_TOKEN is set",
        )
    if settings.trusted_proxies and not settings.public_url:
        # behind a proxy the request's own URL is not the one Twilio signed
        raise SettingsError(
            "PUBLIC_URL", "", "the URL Twilio calls when omnibot is behind TRUSTED_PROXIES"
        )


def code_budget(settings: Settings) -> CodeBudget:
    """How many phone codes may be texted, and to which countries."""
    return CodeBudget.build(
        settings.sms_codes_per_hour,
        settings.sms_codes_per_country_hour,
        settings.sms_allowed_countries,
        settings.twilio_from_number,
    )


def sms_connector(settings: Settings, sender: SmsSender, core: Core) -> SmsConnector:
    assert settings.twilio_auth_token is not None
    metrics, deliveries = core.metrics, core.deliveries

    async def report(sid: str, status: str, code: int | None) -> DeliveryRecord | None:
        metrics.delivery_status.labels(channel=Channel.SMS, status=status).inc()
        return await deliveries.report(Channel.SMS, sid, status, code)

    assert settings.twilio_account_sid is not None
    account = TwilioAccount(
        settings.twilio_account_sid,
        settings.twilio_from_number,
        settings.twilio_messaging_service_sid,
    )
    return SmsConnector(
        sender,
        core.stream.submit,
        report,
        settings.twilio_auth_token,
        settings.public_url,
        account=account,
    )


def sms_sender(settings: Settings) -> SmsSender:
    """What sends SMS with these settings (its Twilio client is made on first use)."""
    return SmsSender(lambda: twilio_messages(settings), settings.public_url)


def webchat_connector(settings: Settings, client: redis.Redis, core: Core) -> WebChatConnector:
    return WebChatConnector(
        core.store,
        core.hub,
        core.stream.submit,
        settings.webchat_allowed_origins,
        settings.public_url,
        RateLimiter(client, "sessions", settings.sessions_per_minute, 60),
        core.linking,
        sms=settings.sms_enabled,
        socket_cap=SocketCap(client, settings.sockets_per_address),
    )


def slack_desk(settings: Settings) -> SlackDesk | None:
    """The Slack desk when Slack is configured."""
    if not settings.slack_enabled:
        return None
    assert settings.slack_bot_token is not None
    assert settings.slack_escalation_channel is not None
    return SlackDesk.connect(
        settings.slack_bot_token,
        settings.slack_api_url,
        settings.slack_escalation_channel,
        dict(settings.slack_routes),
        history_url=console_url(settings) if console_served(settings) else None,
        patterns=settings.redact_patterns,
    )


def console_served(settings: Settings) -> bool:
    """Whether ``/agent`` is served: it is the desk without Slack; with Slack, where agents
    read a whole conversation, once an ``AGENT_CONSOLE_TOKEN`` is set for it."""
    return not settings.slack_enabled or settings.agent_console_token is not None


def console_url(settings: Settings) -> str:
    """Where an agent opens the local console (for its sign-in link in the log)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    return (settings.public_url or f"http://{host}:{settings.port}") + "/agent"


@dataclass(frozen=True)
class SocketMode:
    """Slack's events over Socket Mode, as a part that starts and stops."""

    events: SlackEvents
    app_token: str

    async def start(self) -> None:
        await self.events.connect(self.app_token)

    async def stop(self) -> None:
        await self.events.close()


def agent_console(settings: Settings, core: Core, client: redis.Redis) -> AgentConsole:
    """The local agent console (``/agent``), signed in with its token (a setting error when
    the configured or stored token is unusable)."""
    try:
        token = console_token(
            settings.agent_console_token, settings.data_dir, console_url(settings)
        )
        return AgentConsole(
            core.store,
            core.hub,
            HandoffActions(core.store, core.tickets, core.handoff, core.surveys),
            token,
            settings.public_url,
            tickets=core.tickets,
            client=client,
            journal=core.journal,
            patterns=settings.redact_patterns,
        )
    except TokenError as error:
        raise SettingsError(error.name, error.value, error.expected) from None
