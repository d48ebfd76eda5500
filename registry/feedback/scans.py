"""Scans of the verification page, counted per certificate and day, and their spikes.

Each GET of `/v/{number}` that shows a certificate (200, or 304 from a cache)
counts one scan for that number on that day in China Standard Time. Nothing
about the person is kept: no address, no user agent, no time of day. The page
stays fast: `ScanCounter.count` adds to a dictionary in this process, and
`flush` (every few seconds, and when the app stops) adds the counts to
`scan_count` with one UPSERT per (number, day), which is the same SQL on SQLite
and PostgreSQL.

A spike (docs/reports.md): over the last 90 days, zero days included, a day
whose count is more than 10 times the median day, with the median taken as at
least 1, and at least 20 scans; the first scans of a new mark are not a spike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from litestar import Litestar
from litestar.types import Message, Scope
from piccolo.engine.base import Engine

from registry.certificates.tables import Certificate
from registry.db import write_transaction
from registry.errors import NotFoundError
from registry.feedback.tables import ScanCount
from registry.principals import Principal
from registry.verification.services import canonical_number
from signing.instants import day_in_cst

__all__ = [
    "DAYS",
    "ScanCounter",
    "ScanDay",
    "ScanHistory",
    "count_page_scans",
    "is_spike",
    "scan_history",
    "scans_lifespan",
]

log = logging.getLogger(__name__)

#: The window the body sees and the median is taken over.
DAYS: Final = 90
SPIKE_FACTOR: Final = 10
SPIKE_MIN_SCANS: Final = 20
#: How often counts in memory go to the database.
FLUSH_SECONDS: Final = 5.0
PAGE_TEMPLATE: Final = "/v/{number}"

_UPSERT: Final = (
    "INSERT INTO scan_count (number, day, count) VALUES ({}, {}, {}) "
    "ON CONFLICT (number, day) DO UPDATE SET count = scan_count.count + excluded.count"
)


class ScanCounter:
    """Scans counted in this process since the last flush, by (number, day)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._pending: Counter[tuple[str, date]] = Counter()
        self._lock = threading.Lock()

    def count(self, number: str) -> None:
        key = (number, day_in_cst(self._clock()))
        with self._lock:
            self._pending[key] += 1

    def take(self) -> Counter[tuple[str, date]]:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        return pending

    def put_back(self, counts: Counter[tuple[str, date]]) -> None:
        with self._lock:
            self._pending.update(counts)

    async def flush(self, engine: Engine[Any] | None = None) -> int:
        """Add the pending counts to `scan_count`, all in one transaction.

        Returns how many (number, day) rows were written. When the database does
        not answer, the counts stay pending for the next flush.
        """
        pending = self.take()
        if not pending:
            return 0
        engine = engine or ScanCount._meta.db
        try:
            async with write_transaction(engine):
                for (number, day), n in sorted(pending.items()):
                    await ScanCount.raw(_UPSERT, number, day, n)
        except BaseException:
            # Rolled back (an error, or the task cancelled at shutdown): kept for the next flush.
            self.put_back(pending)
            raise
        return len(pending)


def count_page_scans(message: Message, scope: Scope) -> None:
    """`before_send`: a GET of the verification page that showed a certificate is a scan.

    HEAD, 404 (no such certificate), 422 (a bad `?at=`) and the JSON API are not.
    """
    if message["type"] != "http.response.start" or message["status"] not in (200, 304):
        return
    if scope.get("method") != "GET" or scope.get("path_template") != PAGE_TEMPLATE:
        return
    counter: ScanCounter | None = getattr(scope["litestar_app"].state, "scans", None)
    number = scope.get("path_params", {}).get("number")
    if counter is None or not isinstance(number, str):
        return
    canonical = canonical_number(number)
    if canonical is not None:
        counter.count(canonical)


def scans_lifespan(
    clock: Callable[[], datetime], *, every: float = FLUSH_SECONDS
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The counter for the life of the app, flushed every `every` seconds and at the end."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        counter = ScanCounter(clock)
        app.state.scans = counter

        async def flush_forever() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await counter.flush()
                except Exception:
                    log.exception("scan counts not written yet; kept for the next flush")

        task = asyncio.create_task(flush_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            try:
                await counter.flush()
            except Exception:
                log.exception("scan counts lost at shutdown")

    return lifespan


# ---------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ScanDay:
    day: date
    count: int
    spike: bool


@dataclass(frozen=True)
class ScanHistory:
    number: str
    body_code: str
    #: The last `DAYS` days, oldest first, ending today (CST); zero days included.
    days: list[ScanDay]
    #: The median day over the window (zero days included).
    median: float
    #: A day is a spike above this many scans.
    threshold: float


def is_spike(count: int, median: float) -> bool:
    """More than 10x the median day (at least 1) and at least 20 scans (docs/reports.md)."""
    return count >= SPIKE_MIN_SCANS and count > SPIKE_FACTOR * max(median, 1.0)


async def scan_history(
    number: str, *, body_code: str, principal: Principal, now: datetime
) -> ScanHistory:
    """The scans of certificate `number` over the last 90 days, with spikes flagged.

    Raises:
        ForbiddenError: a token of another body.
        NotFoundError: the body has no certificate with that number.
    """
    code = body_code.strip().upper()
    if not principal.is_operator:
        principal.require_body(code)
    canonical = number.strip().upper()
    owner = (
        await Certificate.select(Certificate.body.code.as_alias("body_code"))
        .where(Certificate.number == canonical)
        .first()
    )
    if owner is None or owner["body_code"] != code:
        raise NotFoundError(f"certification body {code} has no certificate {canonical}")
    today = day_in_cst(now)
    first = today - timedelta(days=DAYS - 1)
    rows = await ScanCount.select(ScanCount.day, ScanCount.scans.as_alias("scans")).where(
        ScanCount.number == canonical, ScanCount.day >= first, ScanCount.day <= today
    )
    by_day = {_day(row["day"]): int(row["scans"]) for row in rows}
    counts = [by_day.get(first + timedelta(days=i), 0) for i in range(DAYS)]
    median = float(statistics.median(counts))
    days = [
        ScanDay(first + timedelta(days=i), n, is_spike(n, median)) for i, n in enumerate(counts)
    ]
    return ScanHistory(
        number=canonical,
        body_code=code,
        days=days,
        median=median,
        threshold=SPIKE_FACTOR * max(median, 1.0),
    )


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
