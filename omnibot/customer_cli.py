"""``omnibot customer``: a customer's data on request, from one of their addresses.

``export ADDRESS [--out FILE]`` prints (or writes) everything kept about the customer as one
JSON object; ``erase ADDRESS [--yes]`` deletes it, after asking unless ``--yes``. Both are
audited in the log (:mod:`bot.identity.privacy`), naming the operating-system user.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path

import redis.asyncio as redis

from bot.identity.address_text import AddressFormError, mask, parse_address
from bot.identity.privacy import Privacy, UnknownCustomerError
from bot.models import Address
from omnibot.settings import Settings

CONFIRM_WORD = "erase"
EXPORT_MODE = 0o600  # an export is personal data: readable by its writer only
ADDRESS_HELP = "a phone number (+447700900123) or webchat:<visitor id>"


class CustomerCommandError(Exception):
    """A ``customer`` command that cannot run (a bad or unknown address, no confirmation)."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``customer`` command and its ``export`` and ``erase`` subcommands."""
    customer = commands.add_parser("customer", help="a customer's data on request: export, erase")
    actions = customer.add_subparsers(dest="action", required=True)
    exporting = actions.add_parser("export", help="everything kept about a customer, as JSON")
    exporting.add_argument("address", help=ADDRESS_HELP)
    exporting.add_argument("--out", type=Path, help="write the JSON to FILE (mode 600)")
    erasing = actions.add_parser("erase", help="delete everything kept about a customer")
    erasing.add_argument("address", help=ADDRESS_HELP)
    erasing.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run ``omnibot customer export`` or ``erase``; a one-line error and exit status 2 when
    the address is not a customer's."""
    try:
        address = parse_address(args.address)
        asyncio.run(_run(settings, args, address))
    except (AddressFormError, UnknownCustomerError, CustomerCommandError) as error:
        print(f"omnibot: {error}", file=sys.stderr)
        raise SystemExit(2) from None


async def _run(settings: Settings, args: argparse.Namespace, address: Address) -> None:
    # omnibot.cli adds this module's commands: imported here, not at its import
    from omnibot.cli import cli_redis

    async with cli_redis(settings) as client:
        if args.action == "export":
            await export(client, address, args.out)
        else:
            await erase(client, address, args.yes)


async def export(client: redis.Redis, address: Address, out: Path | None) -> None:
    """Print the customer's data as one JSON object, or write it to ``out``."""
    data = await Privacy(client).export(address, by=operator())
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out is None:
        print(text)
        return
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, EXPORT_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text + "\n")
    messages = sum(len(c["messages"]) for c in data["conversations"])
    print(f"{mask(address)}: {messages} messages exported to {out}", file=sys.stderr)


async def erase(client: redis.Redis, address: Address, confirmed: bool) -> None:
    """Erase the customer's data once confirmed; print what was deleted."""
    privacy = Privacy(client)
    await privacy.customer_of(address)  # an unknown address fails before any question
    if not confirmed and not _confirm(address):
        raise CustomerCommandError("nothing erased (not confirmed; --yes skips the question)")
    report = await privacy.erase(address, by=operator())
    counts = ", ".join(f"{kind} {count}" for kind, count in report["counts"].items() if count)
    print(f"{report['address']}: erased ({counts or 'nothing left'})")


def _confirm(address: Address) -> bool:
    question = (
        f"Erase everything kept about {mask(address)} (history, addresses, tickets)? "
        f"Type '{CONFIRM_WORD}' to confirm: "
    )
    try:
        return input(question).strip().lower() == CONFIRM_WORD
    except EOFError:  # no terminal to ask on
        return False


def operator() -> str:
    """Who runs the command, as the audit line names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return f"cli:uid {os.getuid()}"
