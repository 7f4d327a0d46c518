"""The answer of a routing step that dealt with a message itself."""

from __future__ import annotations

from enum import Enum


class Handled(Enum):
    """Returned by a step (linking, an intent's follow-up) that answered the message: nothing
    more is to be done with it. A step that did not returns the conversation to go on with."""

    DONE = "done"
