"""The agent console's sign-in state in Redis, shared by every process.

:class:`Sessions`: a browser's session is a random id in its cookie; Redis holds a hash of the
id (a copy of the database reveals no usable cookie) with the token's fingerprint (a new token
ends every session) for ``SESSION_TTL_S``. Sign out deletes it.

:class:`Attempts`: sign-in attempts per client address in a fixed window, counted *before*
the check (so parallel guesses cannot slip past the limit) and given back when right (so an
agent's own sign-ins do not use up the window).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

import redis.asyncio as redis

from bot.storage.keys import console_session_key, limit_key
from bot.storage.limits import RateLimiter

SESSION_TTL_S = 12 * 3600
SESSION_ID_BYTES = 32
FINGERPRINT_CONTEXT = b"omnibot agent console session v2"
ATTEMPTS_SCOPE = "console-signin"
ATTEMPTS_PER_WINDOW = 5
ATTEMPTS_WINDOW_S = 60
IPV6_PREFIX = 64  # one host usually holds a whole /64: count it as one address
# DECR only a live counter: DECR on an expired key would create one that never expires.
GIVE_BACK = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end"


class Sessions:
    """Random, expiring, revocable console sessions."""

    def __init__(self, client: redis.Redis, token: str, ttl_s: int = SESSION_TTL_S) -> None:
        self._redis = client
        self._fingerprint = hmac.new(
            token.encode("utf-8"), FINGERPRINT_CONTEXT, hashlib.sha256
        ).hexdigest()
        self.ttl_s = ttl_s

    async def start(self) -> str:
        """A new session; its id, for the cookie."""
        session = secrets.token_urlsafe(SESSION_ID_BYTES)
        await self._redis.set(_key(session), self._fingerprint, ex=self.ttl_s)
        return session

    async def valid(self, session: str) -> bool:
        """Whether ``session`` is live and was started under the current token."""
        stored = await self._redis.get(_key(session))
        if isinstance(stored, bytes):
            stored = stored.decode("utf-8", "replace")
        return isinstance(stored, str) and hmac.compare_digest(stored, self._fingerprint)

    async def end(self, session: str) -> None:
        """Revoke ``session`` (sign out)."""
        await self._redis.delete(_key(session))


class Attempts:
    """At most ``limit`` failed sign-ins per client address and window."""

    def __init__(
        self,
        client: redis.Redis,
        limit: int = ATTEMPTS_PER_WINDOW,
        window_s: int = ATTEMPTS_WINDOW_S,
    ) -> None:
        self._limiter = RateLimiter(client, ATTEMPTS_SCOPE, limit, window_s)
        self._give_back = client.register_script(GIVE_BACK)

    async def begin(self, remote: str | None) -> int | None:
        """Count an attempt: None when allowed, else seconds until the address may try again."""
        return await self._limiter.retry_after(client_key(remote))

    async def succeeded(self, remote: str | None) -> None:
        """Give a right attempt back."""
        await self._give_back(keys=[limit_key(ATTEMPTS_SCOPE, client_key(remote))])


def client_key(remote: str | None) -> str:
    """What the attempts of ``remote`` count against: the address, or its /64 on IPv6."""
    try:
        address = ipaddress.ip_address((remote or "").split("%", 1)[0])
    except ValueError:
        return remote or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def _key(session: str) -> str:
    # Cluster: one key, any slot. Hashed: the id itself never sits in Redis.
    return console_session_key(
        hashlib.sha256(session.encode("utf-8", "surrogateescape")).hexdigest()
    )
