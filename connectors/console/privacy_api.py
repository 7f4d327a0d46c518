"""A customer's data on request, for agents: the console's JSON API.

- ``GET /agent/api/customers/{address}/export``: everything kept about the customer (JSON);
- ``POST /agent/api/customers/{address}/erase``: delete it; what was deleted, counted by kind.

``{address}`` is a phone number (``+447700900123``) or ``webchat:<visitor id>``, URL-encoded.
Who may call is the console's own decision (:class:`~connectors.console.auth.Guard`): the
console token as a bearer header, or a signed-in console session; an erase with a foreign
``Origin`` is refused (a cross-site form cannot erase with an agent's cookie). Both are audited
in the log (:mod:`bot.identity.privacy`), naming the caller's kind and address.
"""

from __future__ import annotations

import json

import redis.asyncio as redis
from aiohttp import web

from bot.identity.address_text import AddressFormError, parse_address
from bot.identity.privacy import Privacy, UnknownCustomerError
from bot.models import Address
from connectors.console.auth import ORIGIN_TEXT, REALM, AccessDeniedError, Guard, caller

API_ROOT = "/agent/api/customers/{address}"
NO_STORE = {"Cache-Control": "no-store"}  # personal data: never kept by a cache
ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}
UNAVAILABLE_TEXT = "the customer data cannot be reached right now; try again shortly"


class PrivacyApi:
    """The export and erase routes, guarded like the rest of the console."""

    def __init__(self, privacy: Privacy, guard: Guard) -> None:
        self._privacy = privacy
        self._guard = guard

    def routes(self) -> list[web.AbstractRouteDef]:
        """``GET …/export`` and ``POST …/erase``."""
        return [
            web.get(API_ROOT + "/export", self.export),
            web.post(API_ROOT + "/erase", self.erase),
        ]

    async def export(self, request: web.Request) -> web.Response:
        """Everything kept about the customer at the path's address."""
        by = await self._admit(request)
        address = _address(request)
        try:
            data = await self._privacy.export(address, by=by)
        except UnknownCustomerError as error:
            return _error(404, str(error))
        except (redis.ConnectionError, redis.TimeoutError):
            return _error(503, UNAVAILABLE_TEXT)
        return web.json_response(data, headers=NO_STORE)

    async def erase(self, request: web.Request) -> web.Response:
        """Erase the customer at the path's address; the erasure's report."""
        if not self._guard.origin_allowed(request):
            raise http_error(403, ORIGIN_TEXT)
        by = await self._admit(request)
        address = _address(request)
        try:
            report = await self._privacy.erase(address, by=by)
        except UnknownCustomerError as error:
            return _error(404, str(error))
        except (redis.ConnectionError, redis.TimeoutError):
            return _error(503, UNAVAILABLE_TEXT)
        return web.json_response(report, headers=NO_STORE)

    async def _admit(self, request: web.Request) -> str:
        """Who the caller is, for the audit line; an HTTP error (JSON) when refused."""
        return f"{await admit(self._guard, request, UNAVAILABLE_TEXT)} from {request.remote}"


async def admit(guard: Guard, request: web.Request, unavailable: str) -> str:
    """Who the caller is (:func:`~connectors.console.auth.caller`); an HTTP error (JSON) when
    refused, or ``unavailable`` (503) when Redis cannot say."""
    try:
        session = await guard.check(request)
    except AccessDeniedError as denied:
        raise refused(denied) from None
    except (redis.ConnectionError, redis.TimeoutError):
        raise http_error(503, unavailable) from None
    return caller(session)


def _address(request: web.Request) -> Address:
    try:
        return parse_address(request.match_info["address"])
    except AddressFormError as error:
        raise http_error(400, str(error)) from None


def refused(denied: AccessDeniedError) -> web.HTTPException:
    """A refused API call as its HTTP error (JSON), with its challenge or wait."""
    headers = {"WWW-Authenticate": REALM} if denied.status == 401 else {}
    if denied.retry_after is not None:
        headers = {"Retry-After": str(denied.retry_after)}
    return http_error(denied.status, denied.reason, headers)


def http_error(status: int, text: str, headers: dict[str, str] | None = None) -> web.HTTPException:
    """An aiohttp error of ``status`` whose body is ``{"error": text}``."""
    kind = ERRORS.get(status, web.HTTPForbidden)
    return kind(
        text=json.dumps({"error": text}),
        content_type="application/json",
        headers={**NO_STORE, **(headers or {})},
    )


def _error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status, headers=NO_STORE)
