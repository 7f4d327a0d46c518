"""The ``omnibot`` command."""

from __future__ import annotations

import argparse
import logging
import os

from aiohttp import web

from bot.app import create_app
from bot.settings import Settings


def serve(settings: Settings) -> None:
    """Run the service until SIGINT or SIGTERM."""
    web.run_app(create_app(settings), host=settings.host, port=settings.port,
                access_log=None, print=logging.getLogger("omnibot").info)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``omnibot`` console script."""
    parser = argparse.ArgumentParser(prog="omnibot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP service (settings from the environment)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        serve(settings)
