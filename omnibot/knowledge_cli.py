"""``omnibot knowledge``: build a help-centre folder's index ahead of time (``index``) and
measure the answers on labelled questions (``eval``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from intents.knowledge.articles import MissingKnowledgeFolder
from omnibot.settings import Settings

# The public evaluation set in a checkout (StackFAQ, bench/data/knowledge/README.md)
PUBLIC_SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "knowledge" / "stackfaq"
PUBLIC_SPLIT = "evaluation"


class KnowledgeCommandError(Exception):
    """A ``knowledge`` command that cannot run (no folder to index, no questions)."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``knowledge`` command and its ``index`` and ``eval`` subcommands."""
    knowledge = commands.add_parser("knowledge", help="help-centre articles: index, eval")
    actions = knowledge.add_subparsers(dest="action", required=True)
    indexing = actions.add_parser(
        "index",
        help="build the index of a folder of articles ahead of time (default: the "
        "KNOWLEDGE_PATH folder)",
    )
    indexing.add_argument("path", type=Path, nargs="?", help="the folder of articles")
    evaluation = actions.add_parser(
        "eval", help="answered right, precision, held-out questions answered and latency"
    )
    evaluation.add_argument(
        "path",
        type=Path,
        nargs="?",
        help="a folder of articles with the questions CSV beside it, question,article_key"
        "[,split] (default: the public StackFAQ set in bench/data/knowledge/stackfaq)",
    )
    evaluation.add_argument("--questions", type=Path, help="the questions CSV")
    evaluation.add_argument("--split", help="only the questions of this split")
    evaluation.add_argument("--json", action="store_true", help="print one JSON object")


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run ``omnibot knowledge index`` or ``eval``."""
    try:
        if args.action == "index":
            index(settings, args.path)
        else:
            evaluate(settings, args)
    except MissingKnowledgeFolder as error:
        raise KnowledgeCommandError(str(error)) from None


def index(settings: Settings, path: Path | None) -> None:
    """Build (or find in the cache) the index ``omnibot serve`` uses for ``path``."""
    # the model's libraries, imported by the command that uses them: `omnibot serve --role
    # front` imports this module for its parser and must stay without them
    from tqdm import tqdm

    from intents.build import make_encoder
    from intents.knowledge.building import build_index, cache_key
    from intents.knowledge.index import index_path

    folder = path or settings.knowledge_folder
    if folder is None:
        raise KnowledgeCommandError("no folder: give one, or set KNOWLEDGE_PATH")
    encoder = make_encoder(settings.encoder, settings.cache_dir)
    try:
        with tqdm(desc="embedding passages", unit="passage", delay=1.0) as bar:

            def advance(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            built = build_index(folder, settings.cache_dir, settings.encoder, encoder, advance)
    finally:
        encoder.close()
    for warning in built.warnings:
        print(f"warning: {warning}")
    where = index_path(settings.cache_dir, cache_key(built.content_hash, settings.encoder))
    how = "already in the cache" if built.cached else f"built in {built.seconds:.1f} s"
    print(
        f"{folder}: {built.articles} articles, {built.passages} passages, "
        f"{len(built.warnings)} warnings ({how}; {where.resolve()})"
    )


def evaluate(settings: Settings, args: argparse.Namespace) -> None:
    """Evaluate the answers on a folder and its labelled questions, and print the numbers."""
    from intents.build import make_encoder  # as in index(): not at the module's import
    from intents.knowledge.answerer import AnswerScorer
    from intents.knowledge.evaluation import evaluate_folder, format_report

    public = args.path is None
    folder = PUBLIC_SET / "articles" if public else args.path
    questions = args.questions or (PUBLIC_SET if public else folder.parent) / "questions.csv"
    if not questions.is_file():
        raise KnowledgeCommandError(f"no questions file at {questions} (--questions CSV)")
    split = args.split or (PUBLIC_SPLIT if public and args.questions is None else None)
    encoder = make_encoder(settings.encoder, settings.cache_dir)
    try:
        report = evaluate_folder(
            folder, questions, encoder, settings.cache_dir, AnswerScorer.load(), split
        )
    finally:
        encoder.close()
    print(json.dumps(report.as_dict()) if args.json else format_report(report))
