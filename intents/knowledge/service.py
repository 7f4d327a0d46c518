"""Help-centre answers while the service runs: the folder's index built in the background,
re-checked every ``RECHECK_S`` and swapped when the folder changed, never blocking an answer.

Until the first index is ready :meth:`KnowledgeService.answer` answers nothing (the message goes
on to the intents as if there were no articles). A folder that disappears or a build that fails
leaves the last index serving, with a warning. The index is cached by content
(:mod:`intents.knowledge.building`), so only the first process to see a folder's content
embeds it; the others, and every restart, load it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from intents.encoder import Encoder
from intents.knowledge.answerer import AnswerScorer, ArticleMatch, Attempt, KnowledgeAnswerer
from intents.knowledge.articles import MissingKnowledgeFolder, content_hash
from intents.knowledge.building import Built, Progress, build_index

RECHECK_S = 30.0  # how often the folder's content hash is compared with the served one's
PROGRESS_EVERY_S = 5.0  # a build's progress line at most this often
REMEMBERED = 256  # recent questions' attempts: the responder asks again for what the reader saw
STOP_WITHIN_S = 10.0

log = logging.getLogger(__name__)


class BuildLog:
    """A build's progress in the log: passages embedded, and about how long is left."""

    def __init__(self, every_s: float = PROGRESS_EVERY_S) -> None:
        self._every_s = every_s
        self._start = self._logged = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        """Log a line when ``every_s`` passed since the last one."""
        now = time.monotonic()
        if now - self._logged < self._every_s or done >= total:
            return
        self._logged = now
        left = (now - self._start) / done * (total - done)
        log.info(
            "help-centre index: %d of %d passages embedded, about %.0f s left", done, total, left
        )


class KnowledgeService:
    """The help-centre folder's answerer, kept in step with the folder."""

    def __init__(
        self,
        folder: Path,
        cache_dir: Path,
        encoder_kind: str,
        make_encoder: Callable[[], Encoder],
        scorer: AnswerScorer | None = None,
        recheck_s: float = RECHECK_S,
    ) -> None:
        self.folder = folder
        self._cache_dir = cache_dir
        self._encoder_kind = encoder_kind
        self._make_encoder = make_encoder
        self._scorer = scorer
        self._recheck_s = recheck_s
        self._encoder: Encoder | None = None
        self._answerer: KnowledgeAnswerer | None = None
        self._served: Built | None = None
        self._state = "waiting"  # waiting, building, ready, empty or "failed: why"
        self._failed_hash: str | None = None  # a content that failed to build: not retried
        self._missing = False  # the folder's disappearance was reported
        self._recent: OrderedDict[tuple[int, str], Attempt] = OrderedDict()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """Whether an index serves (answers can come from articles)."""
        return self._answerer is not None

    def status(self) -> dict[str, object]:
        """What ``/healthz`` says: articles and passages served, and the build's state."""
        served = self._served
        articles, passages = (served.articles, served.passages) if served else (0, 0)
        return {"articles": articles, "passages": passages, "state": self._state}

    def answer(self, question: str, floor: float = 0.0) -> ArticleMatch | None:
        """The passage answering ``question`` with a score of at least ``floor`` when the
        scorer is sure; None otherwise and until an index is ready. Blocking (an embedding):
        call it off the event loop. A question whose score cannot reach ``floor`` is not
        ranked (:meth:`KnowledgeAnswerer.attempt`)."""
        answerer = self._answerer
        if answerer is None:
            return None
        key = (id(answerer), question)
        with self._lock:
            known = self._recent.get(key)
            if known is not None and known.settles(floor):
                self._recent.move_to_end(key)
                return known.at(floor)
        attempt = answerer.attempt(question, floor)
        with self._lock:
            self._recent[key] = attempt
            self._recent.move_to_end(key)
            while len(self._recent) > REMEMBERED:
                self._recent.popitem(last=False)
        return attempt.at(floor)

    def load(self, progress: Progress | None = None) -> Built:
        """Build (or load from the cache) the folder's index now and serve it (blocking).

        Raises :class:`MissingKnowledgeFolder` when the folder does not exist.
        """
        self._state = "building" if self._served is None else self._state
        encoder = self._encoder_now()
        built = build_index(
            self.folder, self._cache_dir, self._encoder_kind, encoder, progress or BuildLog()
        )
        scorer = self._scorer or AnswerScorer.load()
        self._scorer = scorer
        answerer = None if built.index is None else KnowledgeAnswerer(built.index, encoder, scorer)
        self._served, self._answerer = built, answerer
        self._state = "ready" if answerer is not None else "empty"
        _report(self.folder, built)
        return built

    async def start(self) -> None:
        """Keep the index in step with the folder in a background thread (the first build
        included: answers do not wait for it)."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="knowledge-index", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """End the background thread (a build under way finishes first, within a bound)."""
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, STOP_WITHIN_S)
            self._thread = None

    def close(self) -> None:
        """Stop serving and release the encoder's threads (a later :meth:`load` starts over)."""
        with self._lock:
            encoder, self._encoder = self._encoder, None
            self._answerer, self._served, self._state = None, None, "waiting"
            self._recent.clear()
        if encoder is not None:
            encoder.close()

    def _run(self) -> None:
        """Check the folder now and every ``recheck_s`` until stopped."""
        while not self._stopping.is_set():
            self.refresh()
            self._stopping.wait(self._recheck_s)

    def refresh(self) -> None:
        """Serve the folder's index again when its content changed since the served one;
        a missing folder or a failed build leaves the last index serving."""
        try:
            folder_hash = content_hash(self.folder)
        except MissingKnowledgeFolder:
            if not self._missing:
                log.warning(
                    "the help-centre folder %s disappeared; the last index keeps serving",
                    self.folder,
                )
            self._missing = True
            return
        self._missing = False
        served = self._served.content_hash if self._served else None
        if folder_hash in (served, self._failed_hash):
            return
        try:
            self.load()
        except Exception as error:  # any failure leaves the last index serving
            log.exception("the help-centre index of %s could not be built", self.folder)
            self._failed_hash = folder_hash
            self._state = f"failed: {type(error).__name__}: {error}"

    def _encoder_now(self) -> Encoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = self._make_encoder()
            return self._encoder


def _report(folder: Path, built: Built) -> None:
    """The log lines of an index that now serves: its size, and each file left out."""
    for warning in built.warnings:
        log.warning("%s: %s", folder, warning)
    how = "loaded from the cache" if built.cached else f"built in {built.seconds:.1f} s"
    log.info(
        "help-centre answers from %s: %d articles, %d passages (%s)",
        folder,
        built.articles,
        built.passages,
        how,
    )
