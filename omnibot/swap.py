"""The intent side the core serves through, which can be replaced while it serves.

The core is wired once, with one classifier and one reader. :class:`SwappableIntents` stands
in for both and delegates each call to the :class:`~omnibot.engine.Intents` current when the
call began, so a newly built model (the encoder fine-tuned in the background) takes over for
the next message without rewiring anything. A replaced model is closed only once the calls
still running on it have finished: closing a classifier cancels its queued work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.contracts import Answer, Context, Prediction, Reading
from bot.models import Conversation
from bot.pipeline.reading import SingleReading
from omnibot.engine import Intents

log = logging.getLogger("omnibot")


class SwappableIntents:
    """The classifier, reader and responder of whichever :class:`Intents` is current.

    ``owns_first``: whether closing this also closes the first intents (tests share theirs
    between apps); intents swapped in are always owned.
    """

    def __init__(self, intents: Intents, owns_first: bool = True) -> None:
        self._current = intents
        self._owned = {id(intents)} if owns_first else set()
        self._users: dict[int, int] = {}
        self._retired: dict[int, Intents] = {}  # replaced, closed once unused

    @property
    def current(self) -> Intents:
        """The intents new calls go to."""
        return self._current

    @property
    def model_name(self) -> str:
        """The current model's name (``frozen`` or ``tuned-<hash>``)."""
        return self._current.model_name

    async def classify(self, text: str) -> Prediction:
        """The current classifier's prediction."""
        with self._using() as intents:
            return await intents.classifier.classify(text)

    async def read(self, text: str, context: Context) -> Reading:
        """The current reader's reading (a plain one when the intents bring no reader)."""
        with self._using() as intents:
            reader = intents.reader or SingleReading(intents.classifier)
            return await reader.read(text, context)

    async def respond(
        self, prediction: Prediction, conversation: Conversation, text: str
    ) -> Answer:
        """The current responder's answer."""
        with self._using() as intents:
            return await intents.responder.respond(prediction, conversation, text)

    def swap(self, intents: Intents) -> Intents:
        """Serve ``intents`` from the next call on; the replaced ones (returned) are closed
        once their running calls finished, if owned."""
        old, self._current = self._current, intents
        self._owned.add(id(intents))
        self._retired[id(old)] = old
        self._close_if_unused(old)
        log.info("the intent model %s replaced %s", intents.model_name, old.model_name)
        return old

    def close(self) -> None:
        """Close every owned model, current and replaced (the service is shutting down)."""
        for intents in [*self._retired.values(), self._current]:
            if id(intents) in self._owned:
                self._owned.discard(id(intents))
                intents.classifier.close()
        self._retired.clear()

    @contextmanager
    def _using(self) -> Iterator[Intents]:
        """The current intents, counted as in use until the block ends."""
        intents = self._current
        key = id(intents)
        self._users[key] = self._users.get(key, 0) + 1
        try:
            yield intents
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                self._close_if_unused(intents)

    def _close_if_unused(self, intents: Intents) -> None:
        key = id(intents)
        if key in self._retired and key not in self._users and intents is not self._current:
            del self._retired[key]
            if key in self._owned:
                self._owned.discard(key)
                intents.classifier.close()
