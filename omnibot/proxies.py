"""Behind a reverse proxy: the client's address from ``X-Forwarded-For`` (or ``Forwarded``),
believed only when the request comes from a proxy the operator trusts (``TRUSTED_PROXIES``).

Every per-address limit (new web chat sessions, phone codes) keys on ``request.remote``, which
behind a proxy is the proxy's own address: without this, all clients would share one budget.
The header is read from the right, where the nearest proxy appended what it saw: hops written
by trusted proxies are skipped, and the first address that is not a trusted proxy is the
client (anything further left is only what the client claimed). A request straight from an
untrusted peer keeps its peer address whatever headers it sends.

aiohttp-remotes was weighed: its ``XForwardedStrict`` wants a fixed chain of proxies and
refuses every direct request (a health check from the host), and ``XForwardedFiltered``
believes the header from any peer; both also rewrite host and scheme, which the signature
checks must not see (they use ``PUBLIC_URL``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ForwardedHeader(StrEnum):
    """Which header the trusted proxies write the client's address to."""

    X_FORWARDED_FOR = "x-forwarded-for"
    FORWARDED = "forwarded"  # RFC 7239: the ``for=`` of each element


def trusted_proxies(
    networks: Sequence[Network], header: ForwardedHeader = ForwardedHeader.X_FORWARDED_FOR
) -> Middleware:
    """A middleware giving each request its client's address as ``request.remote`` when it
    came through one of ``networks``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        client = client_address(request, networks, header)
        if client is not None and client != request.remote:
            request = request.clone(remote=client)
        return await handler(request)

    return middleware


def client_address(
    request: web.Request, networks: Sequence[Network], header: ForwardedHeader
) -> str | None:
    """The right-most address of the chain that no trusted proxy owns (the left-most when
    all are trusted); the peer's own address when the peer is not a trusted proxy."""
    peer = _address(request.remote or "")
    if peer is None or not _trusted(peer, networks):
        return request.remote
    client = peer
    for hop in reversed(_hops(request, header)):
        address = _address(hop)
        if address is None:  # a hop nobody wrote sensibly: the last known one is all we know
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def _hops(request: web.Request, header: ForwardedHeader) -> list[str]:
    """The addresses the header lists, left (first client) to right (nearest proxy)."""
    if header is ForwardedHeader.FORWARDED:
        return [element.get("for", "") for element in request.forwarded]
    joined = ",".join(request.headers.getall(hdrs.X_FORWARDED_FOR, []))
    return [hop.strip() for hop in joined.split(",")] if joined else []


def _address(value: str) -> Address | None:
    """An IP address as proxies write it (``[v6]:port`` and ``v4:port`` too), or None."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return address


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(address in network for network in networks)
