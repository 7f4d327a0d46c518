"""Today's figures for the console's header: ``GET /agent/api/report/today``.

The report (:func:`bot.insight.report.build_report`) of the conversations started since
midnight (the server's local time) until now, as JSON; guarded like the rest of the console
(the console token as a bearer header, or a signed-in console session). Every agent's page asks
once a minute, so one reading is shared for ``CACHE_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import redis.asyncio as redis
from aiohttp import web

from bot.insight.report import Report
from bot.insight.report_source import ReportSource
from connectors.console.auth import AccessDeniedError, Guard
from connectors.console.privacy_api import NO_STORE, refused

REPORT_PATH = "/agent/api/report/today"
CACHE_S = 30.0  # the header's figures may be this old
UNAVAILABLE_TEXT = "today's figures cannot be read right now; try again shortly"


def midnight(now: float) -> float:
    """The start of ``now``'s day, in the server's local time."""
    local = datetime.fromtimestamp(now).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class TodayApi:
    """The route of today's report, read at most once every ``CACHE_S``."""

    def __init__(
        self, source: ReportSource, guard: Guard, clock: Callable[[], float] = time.time
    ) -> None:
        self._source = source
        self._guard = guard
        self._clock = clock
        self._last: tuple[float, Report] | None = None

    def routes(self) -> list[web.AbstractRouteDef]:
        """``GET /agent/api/report/today``."""
        return [web.get(REPORT_PATH, self.today)]

    async def today(self, request: web.Request) -> web.Response:
        """Today's report, for a caller with the token or a console session."""
        try:
            await self._guard.check(request)
            report = await self._report()
        except AccessDeniedError as denied:
            raise refused(denied) from None
        except (redis.ConnectionError, redis.TimeoutError):
            return web.json_response({"error": UNAVAILABLE_TEXT}, status=503, headers=NO_STORE)
        return web.json_response(report, headers=NO_STORE)

    async def _report(self) -> Report:
        now = self._clock()
        if self._last is not None and now - self._last[0] < CACHE_S:
            return self._last[1]
        report = await self._source.report(midnight(now), now)
        self._last = (now, report)
        return report
