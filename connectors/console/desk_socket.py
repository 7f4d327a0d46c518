"""One agent's WebSocket: the live list, the followed conversation, and the agent's actions.

The list is pushed, not asked for: every ``LIST_INTERVAL_S`` the socket compares the current
list (built at most once per ``LIST_MAX_AGE_S`` for all sockets of the process, see
:class:`TicketBoard`) with what it last sent, and sends it when it changed; an action or a
state change of the followed conversation pushes it at once. The followed conversation's
events come from the hub as they happen. Every text sent is masked first
(:class:`~connectors.console.masking.Masker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import WSCloseCode, WSMsgType, web

from bot.contracts import AgentOutcome, DeskActions
from bot.desk.actions import act
from bot.desk.tickets import Tickets
from bot.events import Event
from bot.models import Conversation, State
from bot.storage.hub import EventHub
from bot.storage.store import Store
from connectors.console.frames import (
    ActionRequest,
    FrameError,
    OpenRequest,
    ServerFrame,
    TicketDict,
    error_frame,
    history_frame,
    list_frame,
    message_frame,
    note_frame,
    outcome_frame,
    parse_client_frame,
    state_frame,
)
from connectors.console.masking import Masker
from connectors.console.tickets import ticket

LIST_INTERVAL_S = 3.0
LIST_MAX_AGE_S = 1.0
MAX_STRIKES = 10  # refused frames in a row before the socket is closed
UNAVAILABLE_TEXT = "That did not go through (the service could not reach its data); try again."
LOST_TEXT = "Live updates of this conversation stopped; select it again."
SIGNED_OUT = b"signed out"  # the close reason when the agent's session ends

log = logging.getLogger(__name__)


class TicketBoard:
    """The conversations with agents (waiting first, each group oldest first), shared by the
    process's sockets so N agents cost one build per ``max_age_s``."""

    def __init__(
        self,
        store: Store,
        tickets: Tickets,
        max_age_s: float = LIST_MAX_AGE_S,
        masker: Masker | None = None,
    ) -> None:
        self._store = store
        self._tickets = tickets
        self.masker = masker or Masker()  # the sockets mask with the board's
        self._max_age_s = max_age_s
        self._built_at = float("-inf")
        self._current: list[TicketDict] = []
        self._lock = asyncio.Lock()

    async def current(self) -> list[TicketDict]:
        """The list, rebuilt when older than ``max_age_s``."""
        async with self._lock:
            if time.monotonic() - self._built_at >= self._max_age_s:
                self._current = await self._build()
                self._built_at = time.monotonic()
            return self._current

    def invalidate(self) -> None:
        """Rebuild on the next call (something changed here)."""
        self._built_at = float("-inf")

    async def _build(self) -> list[TicketDict]:
        listed = []
        for cid, since in await self._tickets.open_conversations():
            conversation = await self._store.load(cid)
            if conversation.state is not State.BOT:  # closed meanwhile, or expired
                listed.append(self.masker.ticket(ticket(conversation, since)))
        return sorted(listed, key=lambda t: t["state"] != State.WAITING.value)  # stable


class ConsoleSocket:
    """Serves one agent's socket until it closes."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        store: Store,
        tickets: Tickets,
        hub: EventHub,
        actions: DeskActions,
        board: TicketBoard,
        alive: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """``alive`` says whether the agent's session still holds (checked with each list
        push); None for a socket opened with the token itself."""
        self._ws = ws
        self._store = store
        self._tickets = tickets
        self._hub = hub
        self._actions = actions
        self._board = board
        self._mask = board.masker
        self._alive = alive
        self._send_lock = asyncio.Lock()  # three tasks write to one socket
        self._following: asyncio.Task[None] | None = None
        self._listed: list[TicketDict] | None = None

    async def run(self) -> None:
        """Push the list, read the agent's frames, follow what they open; until closed."""
        poll = asyncio.create_task(self._poll())
        try:
            await self._read()
        finally:
            for task in (poll, self._following):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def send(self, frame: ServerFrame) -> None:
        """Send a frame unless the socket is gone."""
        async with self._send_lock:
            if self._ws.closed:
                return
            with contextlib.suppress(ConnectionError):  # the agent left meanwhile
                await self._ws.send_json(frame)

    async def _poll(self) -> None:
        while not self._ws.closed:
            if not await self._signed_in():
                await self._ws.close(code=WSCloseCode.POLICY_VIOLATION, message=SIGNED_OUT)
                return
            await self._push_list()
            if _stopping():
                return
            await asyncio.sleep(LIST_INTERVAL_S)

    async def _signed_in(self) -> bool:
        """False once the session is signed out or expired: the socket closes with it."""
        if self._alive is None:
            return True
        try:
            return await self._alive()
        except Exception:  # Redis down: no verdict, keep serving as the list does
            log.warning("agent console session check unavailable", exc_info=True)
            return True

    async def _push_list(self) -> None:
        try:
            conversations = await self._board.current()
        except Exception:  # Redis down: the page keeps the last list until it answers again
            log.warning("agent console list unavailable", exc_info=True)
            return
        if conversations != self._listed:
            self._listed = conversations
            await self.send(list_frame(time.time(), conversations))

    async def _read(self) -> None:
        strikes = 0
        async for frame in self._ws:
            error: FrameError | None
            if frame.type is not WSMsgType.TEXT:
                error = FrameError("unsupported_frame", "only JSON text frames are accepted")
            else:
                error = await self._accept(frame.data)
            if error is None:
                strikes = 0
                continue
            strikes += 1
            await self.send(error_frame(error))
            if strikes >= MAX_STRIKES:
                await self._ws.close(
                    code=WSCloseCode.POLICY_VIOLATION, message=b"too many bad frames"
                )

    async def _accept(self, raw: str) -> FrameError | None:
        """Handle one text frame; the refusal to report, if any."""
        try:
            request = parse_client_frame(raw)
            if isinstance(request, OpenRequest):
                await self._open(request.conversation)
            else:
                await self._act(request)
        except FrameError as error:
            return error
        except Exception:  # the socket outlives whatever failed (Redis down, lock timeout)
            log.exception("agent console frame failed")
            await self.send(error_frame(FrameError("unavailable", UNAVAILABLE_TEXT)))
        return None

    async def _existing(self, cid: str) -> Conversation:
        conversation = await self._store.load(cid)
        if not conversation.messages and conversation.state is State.BOT:
            raise FrameError("unknown_conversation", "there is no such conversation")
        return conversation

    async def _open(self, cid: str) -> None:
        await self._existing(cid)
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
        self._following = asyncio.create_task(self._follow(cid))

    async def _follow(self, cid: str) -> None:
        try:
            with self._hub.listen(cid) as events:  # before loading: nothing falls in between
                sent = await self._send_history(cid)
                while not _stopping():
                    sent = await self._relay(cid, await events.get(), sent)
        except Exception:
            log.exception("agent console lost conversation %s", cid)
            await self.send(error_frame(FrameError("unavailable", LOST_TEXT)))

    async def _send_history(self, cid: str) -> set[str]:
        conversation = await self._store.load(cid)
        notes = await self._tickets.notes(cid)
        await self.send(
            history_frame(
                self._mask.ticket(ticket(conversation)),
                [self._mask.message(m.to_dict()) for m in conversation.messages],
                [self._mask.message(n.to_dict()) for n in notes],
            )
        )
        return {m.id for m in conversation.messages} | {n.id for n in notes}

    async def _relay(self, cid: str, event: Event, sent: set[str]) -> set[str]:
        """Turn one hub event into a frame; the ids sent so far (events may repeat history)."""
        if event["type"] == "resync":
            return await self._send_history(cid)
        if event["type"] == "message" and event["message"]["id"] not in sent:
            sent.add(event["message"]["id"])
            await self.send(message_frame(cid, self._mask.message(event["message"])))
        elif event["type"] == "note" and event["note"]["id"] not in sent:
            sent.add(event["note"]["id"])
            await self.send(note_frame(cid, self._mask.message(event["note"])))
        elif event["type"] == "state":
            agent = (await self._store.load(cid)).agent
            await self.send(state_frame(cid, event["state"], agent))
            self._board.invalidate()
            await self._push_list()
        return sent

    async def _act(self, request: ActionRequest) -> None:
        await self._existing(request.conversation)
        result = await act(
            self._actions, request.action, request.conversation, request.agent, request.text or ""
        )
        if result.outcome is AgentOutcome.TOO_LONG:  # refused as a frame: the text stays typed
            raise FrameError("text_too_long", result.message)
        await self.send(outcome_frame(request.conversation, result))
        self._board.invalidate()
        await self._push_list()


def _stopping() -> bool:
    """Whether this task was cancelled: on Python 3.11, ``asyncio.wait_for`` (which redis-py's
    reads go through) drops a cancellation that arrives as the read completes (CPython
    gh-86296, fixed in 3.12) and the task runs on, so loops check before waiting again."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
