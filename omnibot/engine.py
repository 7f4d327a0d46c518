"""The intent side of the service, built from the settings: the classifier and the responder."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from bot.contracts import IntentClassifier, Responder, Understanding
from intents.action_runner import ActionRunner, InProcessActions, RemoteActions
from intents.build import FROZEN, BuildOptions, build_classifier
from intents.catalogue_checks import catalogue_warnings
from intents.members import TrainingConfig
from intents.rasa_project import load_intents, report_lines
from intents.reading import Reader
from intents.responder import CatalogueResponder
from omnibot.settings import Settings

log = logging.getLogger("omnibot")


@dataclass(frozen=True)
class Intents:
    """The intent side of the service: a classifier, the reader of messages with their
    conversation over it, and the responder for its predictions."""

    classifier: IntentClassifier
    responder: Responder
    reader: Understanding | None = None
    model_name: str = FROZEN  # "frozen" or "tuned-<hash>": what /healthz reports


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


def build_intents(
    settings: Settings, rebuild: bool = False, progress: bool = False, tune: bool = False
) -> Intents:
    """Load the catalogue and the classifier: from the cache, or trained now (blocking).

    With ``FINE_TUNE`` on, the fine-tuned model when it is cached; when it is not, it is tuned
    now if ``tune``, else the frozen model serves (a background job tunes it). ``tune`` is an
    explicit ask (``omnibot train --fine-tune``): it tunes even with ``FINE_TUNE=off``.
    """
    options = build_options(settings)
    if tune:
        options = replace(options, fine_tune=True)
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
    return Intents(
        classifier=classifier,
        responder=CatalogueResponder(catalogue, actions),
        reader=Reader(classifier, catalogue),
        model_name=classifier.model_name,
    )
