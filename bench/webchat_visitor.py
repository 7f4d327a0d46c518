"""``bench.e2e``'s web chat visitors: WebSocket clients of ``/webchat/ws`` asking closed loop.

A visitor sends its next question only once the bot's answer to the previous one arrived; the
latency runs from sending a question to the bot's answer frame. A visitor handed to a person
(or failed) reconnects as a new visitor. What they saw is kept in a :class:`Tally`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.questions import Question, kind_of
from tests.support.webchat_client import FrameError, opening

ANSWER_TIMEOUT_S = 30.0  # a question unanswered this long counts as an error
RECONNECT_PAUSE_S = 0.2
NON_ANSWERS = ("wrong_intent", "rephrase", "handoff", "other")


@dataclass
class Tally:
    """What the visitors saw: answers (with latency) inside the measured window, and errors."""

    start: float = math.inf  # the measured window, set when it begins and ends
    end: float = math.inf
    latencies_ms: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)  # in the window
    by_template: dict[str, Counter[str]] = field(default_factory=dict)  # the whole run
    errors: Counter[str] = field(default_factory=Counter)  # the whole run

    def record(self, question: Question, kind: str, sent: float, done: float) -> None:
        """One bot answer of kind ``kind`` to ``question``."""
        self.by_template.setdefault(question.template, Counter())[kind] += 1
        if self.start <= done < self.end:
            self.kinds[kind] += 1
            self.latencies_ms.append((done - sent) * 1000)


class AnswerError(Exception):
    """A visitor got no bot answer: ``kind`` says why."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


async def bot_answer(ws: aiohttp.ClientWebSocketResponse) -> str:
    """The text of the next bot message frame (the customer's echo and states skipped: a
    hand-off is told by the bot's text, which the state frame ``waiting`` goes with)."""
    async for frame in ws:
        if frame.type is not aiohttp.WSMsgType.TEXT:
            break
        data = json.loads(frame.data)
        if data.get("type") == "error":
            raise AnswerError("error_frame")
        if data.get("type") == "message" and data.get("role") == "bot":
            return str(data["text"])
    raise AnswerError("closed")


async def converse(
    ws: aiohttp.ClientWebSocketResponse,
    asking: Iterator[tuple[int, Question]],
    answers: dict[str, str],
    stop_at: float,
    tally: Tally,
) -> None:
    """Ask until ``stop_at`` or until handed to a person (then the caller reconnects)."""
    while time.monotonic() < stop_at:
        number, question = next(asking)
        sent = time.monotonic()
        await ws.send_json({"type": "message", "text": question.text, "id": f"q{number}"})
        text = await asyncio.wait_for(bot_answer(ws), ANSWER_TIMEOUT_S)
        kind = kind_of(text, question, answers)
        tally.record(question, kind, sent, time.monotonic())
        if kind == "handoff":
            return


async def visitor(
    session: aiohttp.ClientSession,
    url: str,
    mine: Sequence[Question],
    answers: dict[str, str],
    stop_at: float,
    tally: Tally,
) -> None:
    """One visitor: connect as a new visitor, ask, and reconnect after a hand-off or error."""
    asking = enumerate(itertools.cycle(mine))
    while time.monotonic() < stop_at:
        try:
            async with session.ws_connect(url, autoping=True) as ws:
                await opening(ws, ANSWER_TIMEOUT_S)
                await converse(ws, asking, answers, stop_at, tally)
        except AnswerError as error:
            tally.errors[error.kind] += 1
        except FrameError as error:  # the opening frames
            tally.errors["timeout" if str(error) == "stall" else "bad_opening"] += 1
        except TimeoutError:
            tally.errors["timeout"] += 1
        except aiohttp.ClientError:
            tally.errors["connection"] += 1
        else:
            continue
        await asyncio.sleep(RECONNECT_PAUSE_S)


def answer_figures(tally: Tally) -> dict[str, Any]:
    """What the bot's answers were, the errors, and the templates not always answered."""
    return {
        "real_answers": tally.kinds["answer"],
        "non_answers": {kind: tally.kinds[kind] for kind in NON_ANSWERS},
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "templates_not_answered": {
            template: dict(counts)
            for template, counts in sorted(tally.by_template.items())
            if set(counts) - {"answer"}
        },
    }
