"""The ``omnibot`` command: ``serve``, ``train``, ``eval``, ``rasa-check``, ``outbox``,
``knowledge``, ``customer`` and ``report``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import redis.asyncio as redis

from bot.contracts import Sender
from bot.delivery.outbox import Outbox, Replay
from bot.delivery.records import Deliveries
from bot.metrics import Metrics
from bot.models import Channel
from bot.storage.client import connect
from bot.storage.embedded import EmbeddedRedis, running_url
from bot.storage.store import Store
from intents.catalogue import CatalogueError
from intents.rasa_project import labelled_examples, load_project, report_lines
from omnibot import customer_cli, knowledge_cli, report_cli
from omnibot.channels import sms_sender
from omnibot.knowledge_cli import KnowledgeCommandError
from omnibot.logs import configure_from
from omnibot.parent import follow_parent
from omnibot.roles import Role
from omnibot.serving import StartupError, serve
from omnibot.setting_parsers import ENCODERS
from omnibot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from intents.evaluate import EvalResult

# The intent model's libraries (numpy, scikit-learn, onnxruntime) are imported by the commands
# that use them, never at this module's import: `omnibot serve --role front` loads no model.

log = logging.getLogger("omnibot")

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
DATA_DIR_EXPECTED = (
    "a directory omnibot can create and write (a relative path starts at the current directory)"
)


def ensure_data_dir(settings: Settings) -> None:
    """Create ``OMNIBOT_DATA_DIR`` if needed; a :class:`SettingsError` when it is unusable."""
    with contextlib.suppress(OSError):  # the check below says what is wrong
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not (settings.data_dir.is_dir() and os.access(settings.data_dir, os.W_OK | os.X_OK)):
        raise SettingsError("OMNIBOT_DATA_DIR", str(settings.data_dir), DATA_DIR_EXPECTED)


def train(settings: Settings, fine_tune: bool = False) -> None:
    """Rebuild the cached intent model of the configured catalogue (``fine_tune``: the model
    over the encoder fine-tuned on it, tuned now, even with ``FINE_TUNE=off``)."""
    from omnibot.engine import build_intents  # the model's libraries: see the imports

    start = time.perf_counter()
    intents = build_intents(settings, rebuild=True, progress=True, tune=fine_tune)
    model = getattr(intents.classifier, "model", None)
    intents.classifier.close()
    print(
        f"trained {settings.intents_path} in {time.perf_counter() - start:.1f} s "
        f"(model {intents.model_name}, answer rule {getattr(model, 'rule', None)}); "
        f"cache: {settings.cache_dir.resolve()}"
    )


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
    """Labelled examples from a ``text,category`` CSV, a Rasa NLU file or a Rasa project."""
    from intents.evaluate import read_labelled_csv  # the model's libraries: see the imports

    if path.is_dir() or path.suffix in (".yml", ".yaml"):
        return labelled_examples(path)
    return read_labelled_csv(path)


def run_eval(settings: Settings, args: argparse.Namespace) -> None:
    """Train on TRAIN exactly as ``serve`` would, evaluate on TEST, print the numbers."""
    from intents.build import build_classifier  # the model's libraries: see the imports
    from intents.evaluate import evaluate
    from omnibot.engine import build_options

    texts, labels = read_labelled(Path(args.train))
    test_texts, test_labels = read_labelled(Path(args.test))
    start = time.perf_counter()
    options = build_options(settings)
    if args.fine_tune:
        options = replace(options, fine_tune=True)
    classifier = build_classifier(
        texts,
        labels,
        settings.cache_dir,
        options,
        rebuild=True,
        progress=True,
        tune=args.fine_tune,
    )
    log.info("evaluating the %s model", classifier.model_name)
    trained = time.perf_counter() - start
    result, predictions = evaluate(classifier, test_texts, test_labels, progress=True)
    result = replace(result, train_seconds=round(trained, 1))
    if args.report:
        from intents.report import write_report  # matplotlib only for reports

        for path in write_report(Path(args.report), test_texts, test_labels, predictions, result):
            log.info("wrote %s", path)
    print(json.dumps(result.to_dict()) if args.json else describe(result))


def describe(result: EvalResult) -> str:
    """The human-readable summary of an evaluation."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.2f} %"

    return "\n".join(
        [
            f"test rows           {result.test_rows} ({result.in_scope_rows} of known intents, "
            f"{result.oos_rows} oos)",
            f"accuracy            {pct(result.accuracy)} (known intents' top intent, answered "
            "or not)",
            f"macro-F1            {pct(result.macro_f1)}",
            f"in-scope accuracy   {pct(result.in_scope_accuracy)} (known intents answered "
            "right; an escalation counts wrong)",
            f"out-of-scope recall {pct(result.oos_recall)} (oos rows escalated)",
            f"overall accuracy    {pct(result.overall_accuracy)} (every row; an escalated oos "
            "row counts right)",
            f"answered            {pct(result.answered_share)} (confidence >= "
            f"{result.threshold:.3f} or a lead >= {result.min_margin:.3f}, nearest example >= "
            f"{result.min_similarity:.3f})",
            f"answer precision    {pct(result.answered_precision)}",
            f"ms per message      p50 {result.p50_ms:.2f}, p99 {result.p99_ms:.2f}",
            f"training            {result.train_seconds} s (blend weights {result.blend_weights})",
        ]
    )


@contextlib.asynccontextmanager
async def cli_redis(settings: Settings) -> AsyncIterator[redis.Redis]:
    """Redis for a command: ``REDIS_URL``, the running service's embedded server, or (when
    the service is stopped) the embedded server started on its data for the command."""
    url = settings.redis_url or running_url(settings.data_dir / "redis")
    if url is not None and await _answers(url):
        source = "REDIS_URL" if settings.redis_url else "the running service's embedded Redis"
        _using(settings, f"{redacted(url)} ({source})")
        client = connect(url, settings.redis_cluster)
        try:
            yield client
        finally:
            await client.aclose()
        return
    if settings.redis_url:
        raise SystemExit("omnibot: the Redis at REDIS_URL does not answer")
    ensure_data_dir(settings)
    async with EmbeddedRedis(settings.data_dir / "redis") as embedded:
        _using(settings, f"{redacted(embedded.url)} (embedded, started for this command)")
        client = redis.Redis.from_url(embedded.url, decode_responses=True)
        try:
            yield client
        finally:
            await client.aclose()


def _using(settings: Settings, redis_text: str) -> None:
    # stderr, so that --json output stays one object a line
    data_dir = settings.data_dir.resolve()
    print(f"omnibot: data dir {data_dir}; Redis {redis_text}", file=sys.stderr)


def redacted(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


async def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url)
    try:
        return bool(await client.ping())
    except (redis.ConnectionError, OSError):
        return False
    finally:
        await client.aclose()


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


def rasa_check(path: Path) -> None:
    """Print what a Rasa project folder imports: intents, examples, what answers each, and
    what is left out."""
    catalogue, report = load_project(path)
    print("\n".join(report_lines(catalogue, report)))


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    root = argparse.ArgumentParser(prog="omnibot", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
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
        help="run front and answer processes sized to the cores (one of each on two cores), "
        "supervised here: what ROLE=auto, the default, does",
    )
    serving.add_argument(
        "--reuse-port",
        action="store_true",
        help="bind with SO_REUSEPORT, as one of several workers (set by --workers)",
    )
    training = commands.add_parser("train", help="rebuild the cached intent model of INTENTS_PATH")
    training.add_argument(
        "--fine-tune",
        action="store_true",
        help="fine-tune the encoder on the catalogue now (blocking; minutes) and cache the "
        "tuned model that serve then uses; tunes even with FINE_TUNE=off",
    )
    # the serving process that started this tuning: it ends when that process ends
    training.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    evaluation = commands.add_parser("eval", help="train on TRAIN, evaluate on TEST")
    evaluation.add_argument(
        "train", help="CSV with header text,category, a Rasa NLU file or a Rasa project folder"
    )
    evaluation.add_argument("test", help="CSV with header text,category or a Rasa NLU file")
    evaluation.add_argument("--json", action="store_true", help="print one JSON object")
    evaluation.add_argument(
        "--report", metavar="DIR", help="also write plots and misclassified rows to DIR"
    )
    evaluation.add_argument(
        "--encoder", choices=ENCODERS, help="override ENCODER for this evaluation"
    )
    evaluation.add_argument(
        "--fine-tune",
        action="store_true",
        help="evaluate over the encoder fine-tuned on TRAIN (tuned now: minutes)",
    )
    commands.add_parser(
        "rasa-check", help="what a Rasa project folder imports, and what escalates"
    ).add_argument("path", type=Path, help="the Rasa 3 project folder (domain.yml, data/)")
    outbox = commands.add_parser("outbox", help="undeliverable messages: list, replay")
    actions = outbox.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the newest dead letters")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    actions.add_parser("replay", help="send a dead letter again").add_argument(
        "id", help="the message id shown by 'omnibot outbox list'"
    )
    knowledge_cli.add_parser(commands)
    customer_cli.add_commands(commands)
    report_cli.add_parser(commands)
    return root


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
        if args.command in ("serve", "train", "eval", "knowledge"):  # they write the cache there
            ensure_data_dir(settings)
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
    except (SettingsError, CatalogueError, StartupError, KnowledgeCommandError) as error:
        print(f"omnibot: {error}", file=sys.stderr)
        raise SystemExit(2) from None
