"""Rate limits per client address (PRODUCT §4 "Limits and hostile input").

Counting is the `limits` library's (a fixed window per group and address), in
Redis when `STARMARK_REDIS_URL` is set, so that every process of the registry
shares one count, and in this process's memory otherwise. Which group a request
counts against is decided by its route (`ROUTE_GROUPS`), by `RateLimitMiddleware`;
a handler that is expensive only for some requests (storing a receipt with
``"keep": true``) calls `RateLimiter.hit(request.scope, "keep")` itself.

A middleware rather than a guard: Litestar copies the route handler for every
guard it runs, on every request of every route (about 10 µs a request, a
tenth of the verification page's time). The middleware sits inside the
language middleware, so a 429 page is still in the page's language.

Over the limit, `RateLimitedError` takes the one error path (`registry.problems`):
429 with `Retry-After`, problem+json for the API, a page in the page's language
for a browser.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from registry.errors import RateLimitedError
from registry.settings import RateLimitSettings

__all__ = [
    "ROUTE_GROUPS",
    "RateLimitMiddleware",
    "RateLimiter",
    "client_address",
    "limit_storage",
]

log = logging.getLogger(__name__)

#: (method, route template) -> group. Templates are Litestar's `path_template`.
ROUTE_GROUPS: Final[dict[tuple[str, str], str]] = {
    ("GET", "/v/{number}"): "verify_page",
    ("GET", "/v/{number}/certificate.jws"): "verify_page",
    ("GET", "/v/{number}/mark.png"): "verify_page",
    ("GET", "/v/{number}/mark.svg"): "verify_page",
    ("GET", "/api/v1/certificates/{number}"): "verify_page",
    ("GET", "/api/v1/certificates/{number}/verification"): "verify_page",
    ("GET", "/search"): "search",
    ("GET", "/api/v1/certificates"): "search",
    ("GET", "/api/v1/events"): "search",
    ("GET", "/feed.atom"): "search",
    ("POST", "/api/v1/verifications"): "bulk",
    ("POST", "/verify"): "bulk",
    ("POST", "/v/{number}/report"): "report",
}

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[IPNetwork, ...]
) -> str:
    """Whom a request counts against.

    The socket peer, unless the peer is a trusted proxy: then the right-most
    address of X-Forwarded-For that is not itself a trusted proxy (each proxy
    appends the address it was reached from, so the addresses left of the first
    untrusted one were written by the client and prove nothing).
    """
    address = peer or "unknown"
    if not trusted or not forwarded_for:
        return address

    def is_trusted(text: str) -> bool:
        ip = _address(text)
        return ip is not None and any(ip in network for network in trusted)

    if not is_trusted(address):
        return address
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if not hop:
            continue
        if _address(hop) is None:
            # Garbage where a proxy should have written an address: stop believing.
            return address
        if not is_trusted(hop):
            return hop
        address = hop
    return address


def limit_storage(settings: RateLimitSettings) -> Storage:
    """Redis when STARMARK_REDIS_URL is set (every process shares the counts), else memory.

    Also the console's wrong-password lockout (registry/console/lockout.py). Build it
    inside the event loop that will use it (an app lifespan).
    """
    if settings.redis_url:
        url = settings.redis_url
        if not url.startswith("async+"):
            url = "async+" + url
        return RedisStorage(
            url,
            implementation="redispy",
            key_prefix=settings.redis_prefix,
            wrap_exceptions=True,
        )
    return MemoryStorage()


class RateLimiter:
    """The groups' limits over one storage (Redis or memory)."""

    def __init__(self, settings: RateLimitSettings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(storage)
        self.trusted_proxies = tuple(ipaddress.ip_network(n) for n in settings.trusted_proxies)

    @classmethod
    def from_settings(cls, settings: RateLimitSettings) -> RateLimiter:
        return cls(settings, limit_storage(settings))

    def client(self, scope: Scope) -> str:
        """The address a request counts against (`scope`: a request's, `request.scope`)."""
        peer = scope.get("client")
        forwarded_for = None
        if self.trusted_proxies:
            forwarded_for = b",".join(
                value for name, value in scope["headers"] if name == b"x-forwarded-for"
            ).decode("latin-1")
        return client_address(peer[0] if peer else None, forwarded_for, self.trusted_proxies)

    async def hit(self, scope: Scope, group: str) -> None:
        """Count one request of `group` from this request's client.

        Raises:
            RateLimitedError: over the group's limit; says when to come back.
        """
        item = self.settings.limit_for(group)
        if item is None:
            return
        client = self.client(scope)
        try:
            if await self.strategy.hit(item, group, client):
                return
            reset, _ = await self.strategy.get_window_stats(item, group, client)
        except StorageError as e:
            # Redis is down: answering matters more than counting (logged, not refused).
            log.warning("rate limit storage unavailable, %s not counted: %s", group, e)
            return
        raise RateLimitedError(
            f"too many requests from your address; at most {_words(item)} for {group}",
            retry_after=max(1, math.ceil(reset - time.time())),
        )


def _words(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    per = unit if item.multiples == 1 else f"{item.multiples} {unit}s"
    return f"{item.amount} per {per}"


class RateLimitMiddleware:
    """Counts each request against its route's group, if it has one (`ROUTE_GROUPS`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            group = ROUTE_GROUPS.get((scope["method"], scope["path_template"]))
            if group is not None:
                limiter: RateLimiter = scope["litestar_app"].state.rate_limiter
                await limiter.hit(scope, group)
        await self.app(scope, receive, send)


def rate_limit_lifespan(settings: RateLimitSettings) -> Any:
    """Builds the limiter in the app's event loop, and says at start if Redis is unreachable."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        limiter = RateLimiter.from_settings(settings)
        app.state.rate_limiter = limiter
        if settings.redis_url and settings.limits:
            try:
                reachable = await limiter.storage.check()
            except StorageError:
                reachable = False
            if not reachable:
                log.error("STARMARK_REDIS_URL does not answer: requests are not rate-limited")
        yield

    return lifespan
