"""Wrong passwords lock the door for a while (PRODUCT §4, the console).

Five wrong passwords for one account, or from one client address, within 15
minutes lock further tries of that account (or from that address) for 15
minutes: HTTP 429 with Retry-After. Counted by the `limits` library in the
rate limits' storage (registry/ratelimit.py): Redis when STARMARK_REDIS_URL is
set, so every process counts together; this process's memory otherwise.

Two counters per key: the failures in a moving 15-minute window, and a lock
set by the fifth failure, which holds for 15 minutes from then.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Final

from limits import RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from registry.errors import RateLimitedError

__all__ = ["MAX_FAILURES", "LoginLockout"]

log = logging.getLogger(__name__)

MAX_FAILURES: Final = 5
WINDOW_MINUTES: Final = 15
_FAILURES: Final = RateLimitItemPerMinute(MAX_FAILURES, WINDOW_MINUTES)
_LOCK: Final = RateLimitItemPerMinute(1, WINDOW_MINUTES)


class LoginLockout:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)

    @staticmethod
    def _keys(account: str, address: str) -> tuple[tuple[str, str], ...]:
        return (("account", account.strip().lower()[:254]), ("address", address))

    async def check(self, *, account: str, address: str) -> None:
        """Raises:
        RateLimitedError: the account or the address is locked; says for how long.
        """
        for kind, key in self._keys(account, address):
            try:
                locked = not await self.strategy.test(_LOCK, "console-lock", kind, key)
                if not locked:
                    continue
                reset, _ = await self.strategy.get_window_stats(_LOCK, "console-lock", kind, key)
            except StorageError as e:
                log.warning("lockout storage unavailable, login not checked: %s", e)
                return
            raise RateLimitedError(
                f"too many wrong passwords for this {kind}; try again in {WINDOW_MINUTES} minutes",
                retry_after=max(1, math.ceil(reset - time.time())),
            )

    async def failed(self, *, account: str, address: str) -> None:
        """Counts a wrong password; the fifth within the window sets the lock."""
        for kind, key in self._keys(account, address):
            try:
                await self.strategy.hit(_FAILURES, "console-failures", kind, key)
                if not await self.strategy.test(_FAILURES, "console-failures", kind, key):
                    await self.strategy.hit(_LOCK, "console-lock", kind, key)
            except StorageError as e:
                log.warning("lockout storage unavailable, failure not counted: %s", e)
