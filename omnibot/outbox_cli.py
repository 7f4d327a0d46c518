"""``omnibot outbox``: the undeliverable messages, listed (``list``) and sent again
(``replay ID``) with the configured senders."""

from __future__ import annotations

import argparse
import json
import sys
import time

import redis.asyncio as redis

from bot.contracts import Sender
from bot.delivery.outbox import Outbox, Replay
from bot.delivery.records import Deliveries
from bot.metrics import Metrics
from bot.models import Channel
from bot.storage.store import Store
from omnibot.channels import sms_sender
from omnibot.command_env import cli_redis
from omnibot.settings import Settings

# Exit codes of ``omnibot outbox replay`` (2 stays argparse's and the settings' code).
REPLAY_EXIT = {
    Replay.SENT: 0,
    Replay.NOT_FOUND: 1,
    Replay.QUEUED: 3,
    Replay.FAILED: 4,
    Replay.SUPPRESSED: 5,
    Replay.DEAD: 6,
}
REPLAY_TEXT = {
    Replay.SENT: "{id}: sent",
    Replay.NOT_FOUND: "no dead letter with id {id}",
    Replay.QUEUED: "{id}: queued again, not sent yet (the channel asked to wait); "
    "a running omnibot serve sends it on its next try",
    Replay.FAILED: "{id}: failed: the channel refused it for good",
    Replay.SUPPRESSED: "{id}: suppressed: the customer opted out of this channel",
    Replay.DEAD: "{id}: failed again (or its channel is not configured here); "
    "it is back in the dead-letter list",
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``outbox`` command and its ``list`` and ``replay`` subcommands."""
    outbox = commands.add_parser("outbox", help="undeliverable messages: list, replay")
    actions = outbox.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the newest dead letters")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    actions.add_parser("replay", help="send a dead letter again").add_argument(
        "id", help="the message id shown by 'omnibot outbox list'"
    )


async def outbox_command(settings: Settings, args: argparse.Namespace) -> None:
    """``omnibot outbox list`` and ``omnibot outbox replay ID``."""
    async with cli_redis(settings) as client:
        deliveries = Deliveries(client, settings.retention_days)
        if args.action == "list":
            await list_dead_letters(deliveries, args.limit, args.json)
            return
        outcome = await replay(settings, client, deliveries, args.id)
    text = REPLAY_TEXT[outcome].format(id=args.id)
    if outcome in (Replay.SENT, Replay.QUEUED):
        print(text)
    else:
        print(f"omnibot: {text}", file=sys.stderr)
    if REPLAY_EXIT[outcome]:
        raise SystemExit(REPLAY_EXIT[outcome])


async def list_dead_letters(deliveries: Deliveries, limit: int, as_json: bool) -> None:
    """Print the newest dead letters (one JSON object a line with ``as_json``)."""
    entries = await deliveries.dead_letters(limit)
    if not entries and not as_json:
        print("no dead letters")
    for entry in entries:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["failed_at"]))
        print(
            json.dumps(entry)
            if as_json
            else f"{entry['id']}  {stamp}  to {':'.join(entry['to'])}  {entry['error']}\n"
            f"    {entry['message']['text'][:120]!r}"
        )


async def replay(
    settings: Settings, client: redis.Redis, deliveries: Deliveries, message_id: str
) -> Replay:
    """Send a dead letter again with the configured senders."""
    sms = sms_sender(settings) if settings.sms_enabled else None
    senders: dict[str, Sender] = {Channel.SMS: sms} if sms is not None else {}
    try:
        outbox = Outbox(client, Store(client), deliveries, senders, Metrics())
        return await outbox.replay(message_id)
    finally:
        if sms is not None:
            await sms.close()
