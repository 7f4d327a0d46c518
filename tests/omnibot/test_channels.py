"""The channels and desk built from the settings."""

from __future__ import annotations

from bot.models import Message, Role
from omnibot.channels import slack_desk
from omnibot.settings import Settings
from tests.support.slack_fake import DESK_CHANNEL, FakeSlack


async def test_the_slack_desk_masks_the_shops_own_redact_patterns(
    slack_api: FakeSlack, slack_settings: dict[str, object]
) -> None:
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": str(slack_settings["slack_bot_token"]),
            "SLACK_SIGNING_SECRET": str(slack_settings["slack_signing_secret"]),
            "SLACK_ESCALATION_CHANNEL": DESK_CHANNEL,
            "SLACK_API_URL": slack_api.url,
            "REDACT_PATTERNS": '["\\\\bVIP-\\\\d{4}\\\\b"]',
        },
        env_file=None,
    )
    desk = slack_desk(settings)
    assert desk is not None
    await desk.post(
        f"{DESK_CHANNEL}:1700000000.000100",
        Message(Role.CUSTOMER, "my member id is VIP-2841, order 100412"),
    )
    (posted,) = slack_api.posts(thread_ts="1700000000.000100")
    shown = str(posted)
    assert "VIP-2841" not in shown
    assert "[redacted]" in shown
    assert "100412" in shown
