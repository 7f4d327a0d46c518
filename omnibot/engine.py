"""The intent side of the service, built from the settings: the classifier, the reader over it,
the responder, and the help-centre articles they answer from when sure."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bot.contracts import IntentClassifier, Responder, Understanding
from intents.action_runner import ActionRunner, InProcessActions, RemoteActions
from intents.build import FROZEN, BuildOptions, build_classifier, make_encoder
from intents.catalogue_checks import catalogue_warnings
from intents.knowledge.articles import MissingKnowledgeFolder
from intents.knowledge.responder import KnowledgeResponder
from intents.knowledge.service import KnowledgeService
from intents.members import TrainingConfig
from intents.rasa_project import load_intents, report_lines
from intents.reading import Reader
from intents.responder import CatalogueResponder
from omnibot.settings import Settings, SettingsError

KNOWLEDGE_EXPECTED = "an existing folder of help-centre articles, or off"

log = logging.getLogger("omnibot")


@dataclass(frozen=True)
class Intents:
    """The intent side of the service: a classifier, the reader of messages with their
    conversation over it, and the responder for its predictions."""

    classifier: IntentClassifier
    responder: Responder
    reader: Understanding | None = None
    model_name: str = FROZEN  # "frozen" or "tuned-<hash>": what /healthz reports
    knowledge: KnowledgeService | None = None  # the help-centre articles (KNOWLEDGE_PATH)


# One knowledge service per folder, cache and encoder in a process: a model swapped in (the
# tuned encoder) answers from the same articles, kept up to date by the same watcher.
_knowledge: dict[tuple[Path, Path, str], KnowledgeService] = {}


def build_options(settings: Settings) -> BuildOptions:
    """The intent engine's build options from the settings."""
    return BuildOptions(
        encoder=settings.encoder,
        config=TrainingConfig(
            target_precision=settings.target_precision,
            target_unknown_escalated=settings.unknown_escalation_target,
        ),
        threshold=settings.confidence_threshold,
        fine_tune=settings.fine_tune != "off",
    )


def knowledge_service(settings: Settings) -> KnowledgeService | None:
    """The process's service for ``KNOWLEDGE_PATH`` (None: no articles), not loaded yet when
    new; a folder that is not there is a :class:`SettingsError`."""
    folder = settings.knowledge_folder
    if folder is None:
        return None
    if not folder.is_dir():
        raise SettingsError("KNOWLEDGE_PATH", str(folder), KNOWLEDGE_EXPECTED)
    key = (folder.resolve(), settings.cache_dir.resolve(), settings.encoder)
    if key not in _knowledge:
        _knowledge[key] = KnowledgeService(
            folder,
            settings.cache_dir,
            settings.encoder,
            lambda: make_encoder(settings.encoder, settings.cache_dir),
        )
    return _knowledge[key]


def load_knowledge(knowledge: KnowledgeService) -> None:
    """Serve the folder's index now (blocking: from the cache, or built)."""
    try:
        knowledge.load()
    except MissingKnowledgeFolder as error:
        raise SettingsError("KNOWLEDGE_PATH", str(error.path), KNOWLEDGE_EXPECTED) from None


def build_intents(
    settings: Settings,
    rebuild: bool = False,
    progress: bool = False,
    tune: bool = False,
    knowledge_now: bool = True,
) -> Intents:
    """Load the catalogue and the classifier: from the cache, or trained now (blocking).

    The help-centre index is loaded (or built) now too with ``knowledge_now``; without it, the
    caller starts the service's background build (``omnibot serve`` answers meanwhile).
    With ``FINE_TUNE`` on, the fine-tuned model when it is cached; when it is not, it is tuned
    now if ``tune``, else the frozen model serves (a background job tunes it). ``tune`` is an
    explicit ask (``omnibot train --fine-tune``): it tunes even with ``FINE_TUNE=off``.
    """
    options = build_options(settings)
    if tune:
        options = replace(options, fine_tune=True)
    knowledge = knowledge_service(settings)  # a missing folder stops start-up before training
    start = time.perf_counter()
    catalogue, report = load_intents(settings.intents_path)
    if report is not None:  # a Rasa project: say what was imported and what escalates
        log.info(
            "Rasa project %s:\n%s",
            settings.intents_path,
            "\n".join(report_lines(catalogue, report)),
        )
    texts, labels = catalogue.training_data()
    for problem in catalogue_warnings(texts, labels):
        log.warning("%s: %s", settings.intents_path, problem)
    log.info("loading the intent model of %s (%d intents)", settings.intents_path, len(set(labels)))
    classifier = build_classifier(
        texts,
        labels,
        settings.cache_dir,
        options,
        rebuild=rebuild,
        progress=progress,
        tune=tune,
    )
    actions: ActionRunner = (
        RemoteActions(settings.action_endpoint)
        if settings.action_endpoint
        else InProcessActions(orders_path=settings.orders_path)
    )
    log.info("intent model ready in %.1f s", time.perf_counter() - start)
    if knowledge is not None and knowledge_now and not knowledge.ready:
        load_knowledge(knowledge)
    responder = CatalogueResponder(catalogue, actions)
    return Intents(
        classifier=classifier,
        responder=responder if knowledge is None else KnowledgeResponder(responder, knowledge),
        reader=Reader(classifier, catalogue, knowledge),
        model_name=classifier.model_name,
        knowledge=knowledge,
    )
