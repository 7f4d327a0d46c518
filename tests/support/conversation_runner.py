"""Plays scripted conversations (:mod:`tests.support.conversations`) against a running
omnibot: each customer over the web chat WebSocket, desk steps through the agent console's
WebSocket (signed in with its token), every customer turn judged as it happens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from tests.support.conversation_judge import Judged, Seen, judge
from tests.support.conversations import AgentStep, Conversation, Reference, Turn
from tests.support.webchat_client import Frame, FrameError, opening, receive

REPLY_TIMEOUT_S = 10.0  # the first reply frame of a turn (the model shares 2 busy cores)
SETTLE_S = 0.6  # after a frame, none for this long: the turn's reply is complete
SILENT_S = 1.5  # a turn where silence is right listens this long
AGENT_TIMEOUT_S = 15.0  # finding the customer's ticket and acting on it
AGENT = "Sam"
CONCURRENCY = 4


@dataclass(frozen=True)
class Played:
    """A conversation and its judged customer turns."""

    conversation: Conversation
    turns: list[Judged]

    @property
    def right(self) -> int:
        """Turns judged right."""
        return sum(j.right for j in self.turns)


class Customer:
    """One web chat visitor: sends the script's messages, collects what comes back."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, state: str) -> None:
        self.ws = ws
        self.state = state
        self.ids: set[str] = set()  # server ids of the customer's messages (to find the ticket)
        self.last_said = ""

    async def say(self, turn: Turn) -> Seen:
        """Send ``turn`` and collect the reply."""
        seen = Seen(self.state)
        self.last_said = turn.say
        await self.ws.send_json({"type": "message", "text": turn.say})
        await self.collect(seen, SILENT_S if turn.quiet else REPLY_TIMEOUT_S, turn.quiet)
        return seen

    async def collect(self, seen: Seen, first_s: float, fixed: bool) -> None:
        """Frames into ``seen``: the first reply within ``first_s``, then until quiet for
        ``SETTLE_S`` (``fixed``: listen exactly ``first_s``, for turns where silence is right)."""
        end = time.monotonic() + first_s
        replied = False
        while True:
            left = end - time.monotonic() if fixed or not replied else SETTLE_S
            if left <= 0:
                return
            try:
                item = await receive(self.ws, left)
            except FrameError as error:
                if str(error) != "stall":
                    seen.errors.append(str(error))
                return
            replied = self._add(item, seen) or replied

    def _add(self, item: Frame, seen: Seen) -> bool:
        """Record a frame; whether it is part of the reply (not the customer's echo)."""
        if item.get("type") == "state":
            self.state = str(item["state"])
            seen.states.append(self.state)
        elif item.get("type") == "error":
            seen.errors.append(str(item.get("code")))
        elif item.get("type") == "message" and item.get("role") == "customer":
            self.ids.add(str(item["id"]))
            return False
        elif item.get("type") == "message" and item.get("role") == "agent":
            seen.agent.append(str(item["text"]))
        elif item.get("type") == "message":
            seen.bot.append(str(item["text"]))
            seen.options.extend(str(o) for o in item.get("options") or ())
        else:
            return False
        return True


class Desk:
    """An agent on the console: finds a customer's ticket by their messages and acts on it."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self._session = session
        self._base = base
        self._headers = {"Authorization": f"Bearer {token}", "Origin": base}

    async def act(self, customer: Customer, step: AgentStep) -> None:
        """Do ``step`` on ``customer``'s conversation (TimeoutError when it is not found)."""
        url = f"{self._base}/agent/ws"
        async with self._session.ws_connect(url, headers=self._headers) as ws:
            cid = await asyncio.wait_for(self._find(ws, customer), AGENT_TIMEOUT_S)
            sent = {"type": step.action, "conversation": cid, "agent": AGENT}
            if step.text is not None:
                sent["text"] = step.text
            await ws.send_json(sent)
            await asyncio.wait_for(_until(ws, "outcome", cid), AGENT_TIMEOUT_S)

    async def _find(self, ws: aiohttp.ClientWebSocketResponse, customer: Customer) -> str:
        tried: set[str] = set()
        while True:
            listed = (await _until(ws, "list", None))["conversations"]
            fresh = [t for t in listed if t["conversation"] not in tried]
            fresh.sort(key=lambda t: t.get("last_message") != customer.last_said)
            for entry in fresh:
                cid = str(entry["conversation"])
                tried.add(cid)
                await ws.send_json({"type": "open", "conversation": cid})
                history = await _until(ws, "history", cid)
                if customer.ids & {str(m["id"]) for m in history["messages"]}:
                    return cid


async def _until(ws: aiohttp.ClientWebSocketResponse, kind: str, cid: str | None) -> Frame:
    """The next console frame of ``kind`` (for conversation ``cid`` when given)."""
    while True:
        item = await receive(ws, AGENT_TIMEOUT_S)
        if item.get("type") == kind and (cid is None or item.get("conversation") == cid):
            return item


async def play(
    session: aiohttp.ClientSession,
    base: str,
    conversation: Conversation,
    ref: Reference,
    desk: Desk,
) -> Played:
    """One conversation as a fresh visitor; every customer turn judged."""
    judged: list[Judged] = []
    async with session.ws_connect(f"{base}/webchat/ws") as ws:
        customer = Customer(ws, (await opening(ws)).state)
        for number, step in enumerate(conversation.steps):
            if isinstance(step, Turn):
                judged.append(judge(step, await customer.say(step), ref))
                continue
            try:
                await desk.act(customer, step)
            except (TimeoutError, FrameError, aiohttp.ClientError) as error:
                why = f"agent step {step.action} failed: {error!r}"
                rest = [s for s in conversation.steps[number:] if isinstance(s, Turn)]
                judged += [Judged(turn, "(not played)", why) for turn in rest]
                break
            await customer.collect(Seen(customer.state), SETTLE_S * 3, False)
    return Played(conversation, judged)


async def play_all(
    base: str,
    conversations: Sequence[Conversation],
    ref: Reference,
    console_token: str,
    concurrency: int = CONCURRENCY,
) -> list[Played]:
    """Every conversation, ``concurrency`` at a time, in the script's order in the result."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:
        desk = Desk(session, base, console_token)

        async def one(conversation: Conversation) -> Played:
            async with gate:
                return await play(session, base, conversation, ref, desk)

        return list(await asyncio.gather(*(one(c) for c in conversations)))


def report(played: Played) -> str:
    """The wrong turns of a conversation, one block each (said / expected / got / why)."""
    lines = []
    for judged in played.turns:
        if not judged.right:
            expected = " or ".join(str(e) for e in judged.turn.expect)
            lines.append(
                f"  said:     {judged.turn.say[:160]!r}\n  expected: {expected}\n"
                f"  got:      {judged.got[:400]}\n  why:      {judged.why}"
            )
    return f"{played.conversation.id}\n" + "\n".join(lines)
