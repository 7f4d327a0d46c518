"""The ``omnibot`` command: ``serve``, ``train``, ``eval``, ``rasa-check``, ``outbox``,
``knowledge``, ``customer`` and ``report``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace

from intents.catalogue import CatalogueError
from omnibot import customer_cli, intent_cli, knowledge_cli, outbox_cli, report_cli
from omnibot.command_env import DATA_DIR_EXPECTED as DATA_DIR_EXPECTED
from omnibot.command_env import cli_redis as cli_redis
from omnibot.command_env import ensure_data_dir as ensure_data_dir
from omnibot.command_env import redacted as redacted
from omnibot.intent_cli import describe as describe
from omnibot.intent_cli import rasa_check as rasa_check
from omnibot.intent_cli import read_labelled as read_labelled
from omnibot.intent_cli import run_eval as run_eval
from omnibot.intent_cli import train as train
from omnibot.knowledge_cli import KnowledgeCommandError
from omnibot.logs import configure_from
from omnibot.outbox_cli import REPLAY_EXIT as REPLAY_EXIT
from omnibot.outbox_cli import REPLAY_TEXT as REPLAY_TEXT
from omnibot.outbox_cli import list_dead_letters as list_dead_letters
from omnibot.outbox_cli import outbox_command as outbox_command
from omnibot.outbox_cli import replay as replay
from omnibot.parent import follow_parent
from omnibot.roles import Role
from omnibot.serving import StartupError, serve
from omnibot.settings import Settings, SettingsError

# The sub-commands live in their own modules (intent_cli, outbox_cli, knowledge_cli,
# customer_cli, report_cli); their public names stay importable from here too.

# the commands that write the data directory (the model cache, the embedded Redis)
WRITING_COMMANDS = ("serve", "train", "eval", "knowledge")


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    root = argparse.ArgumentParser(prog="omnibot", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    _add_serve(commands)
    intent_cli.add_parsers(commands)
    outbox_cli.add_parser(commands)
    knowledge_cli.add_parser(commands)
    customer_cli.add_commands(commands)
    report_cli.add_parser(commands)
    return root


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``serve`` command."""
    serving = commands.add_parser(
        "serve", help="run the HTTP service (settings from the environment)"
    )
    serving.add_argument(
        "--workers", type=int, metavar="N", help="run N worker processes (overrides WORKERS)"
    )
    serving.add_argument(
        "--role",
        choices=list(Role),
        help="what runs: auto (default: a supervised front and answer processes, sized to "
        "the cores), all (one process does everything), front (HTTP, no model) or answer "
        "(the work stream, no HTTP listener); overrides ROLE",
    )
    serving.add_argument(
        "--split",
        action="store_true",
        help="run front and answer processes sized to the cores (one front, two answer "
        "processes on two cores), "
        "supervised here: what ROLE=auto, the default, does",
    )
    serving.add_argument(
        "--reuse-port",
        action="store_true",
        help="bind with SO_REUSEPORT, as one of several workers (set by --workers)",
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``omnibot`` console script."""
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"omnibot: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if getattr(args, "encoder", None):
        settings = replace(settings, encoder=args.encoder)
    configure_from(settings)
    try:
        if args.command in WRITING_COMMANDS:
            ensure_data_dir(settings)
        _run(settings, args)
    except (SettingsError, CatalogueError, StartupError, KnowledgeCommandError) as error:
        print(f"omnibot: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _run(settings: Settings, args: argparse.Namespace) -> None:
    """Run the parsed command."""
    if args.command == "serve":
        if args.workers is not None:
            settings = replace(settings, workers=max(1, args.workers))
        if args.role is not None:
            settings = replace(settings, role=Role(args.role))
        serve(settings, args.reuse_port, args.split)
    elif args.command == "train":
        if args.parent:
            follow_parent(args.parent)
        train(settings, args.fine_tune)
    elif args.command == "outbox":
        asyncio.run(outbox_command(settings, args))
    elif args.command == "rasa-check":
        rasa_check(args.path)
    elif args.command == "knowledge":
        knowledge_cli.run(settings, args)
    elif args.command == "customer":
        customer_cli.run(settings, args)
    elif args.command == "report":
        report_cli.run(settings, args)
    else:
        run_eval(settings, args)
