"""Where console sessions live: Redis when configured, else the database.

Litestar's server-side sessions keep their data in a `Store`. With
STARMARK_REDIS_URL (shared with the rate limits) it is litestar's own
`RedisStore`; otherwise `DatabaseStore`, a small store over the
`console_session` table, so that every app process behind one database sees
the same sessions (a memory store would log a person out whenever their next
request reached another process).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.stores.base import Store
from litestar.stores.redis import RedisStore

from registry.console.tables import ConsoleSession

__all__ = ["DatabaseStore", "session_store"]


def _seconds(value: int | timedelta | None) -> timedelta | None:
    if value is None:
        return None
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class DatabaseStore(Store):
    """A litestar `Store` over the `console_session` table (both engines).

    Expired rows are never returned; they are deleted when met and, a few at a
    time, whenever a session is written.
    """

    __slots__ = ()

    @staticmethod
    def _now() -> datetime:
        return datetime.now(UTC)

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        lifetime = _seconds(expires_in)
        now = self._now()
        expires_at = None if lifetime is None else now + lifetime
        await ConsoleSession.insert(
            ConsoleSession(key=key, value=data, expires_at=expires_at)
        ).on_conflict(
            target=ConsoleSession.key,
            action="DO UPDATE",
            values=[ConsoleSession.value, ConsoleSession.expires_at],
        )
        # Sessions nobody came back for: the store keeps no timer of its own.
        await ConsoleSession.delete().where(ConsoleSession.expires_at < now)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = (
            await ConsoleSession.select(ConsoleSession.value, ConsoleSession.expires_at)
            .where(ConsoleSession.key == key)
            .first()
        )
        if row is None:
            return None
        now = self._now()
        if row["expires_at"] is not None and row["expires_at"] <= now:
            await self.delete(key)
            return None
        renewal = _seconds(renew_for)
        if renewal is not None and row["expires_at"] is not None:
            await ConsoleSession.update({ConsoleSession.expires_at: now + renewal}).where(
                ConsoleSession.key == key
            )
        return bytes(row["value"])

    async def delete(self, key: str) -> None:
        await ConsoleSession.delete().where(ConsoleSession.key == key)

    async def delete_all(self) -> None:
        await ConsoleSession.delete(force=True)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row: dict[str, Any] | None = (
            await ConsoleSession.select(ConsoleSession.expires_at)
            .where(ConsoleSession.key == key)
            .first()
        )
        if row is None or row["expires_at"] is None:
            return None
        return max(0, int((row["expires_at"] - self._now()).total_seconds()))


def session_store(redis_url: str | None, *, prefix: str) -> Store:
    """Redis when `redis_url` is given (several processes, several hosts), else the database."""
    if redis_url:
        return RedisStore.with_client(url=redis_url, namespace=f"{prefix}-console-sessions")
    return DatabaseStore()
