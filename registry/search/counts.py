"""The home page's and `/bodies`' counts of certificates, kept fresh in the background.

Statistics, not answers: they count the copy columns by body, level and
status (PRODUCT §4's home page). Each certificate's own answer comes from the
read path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from registry.search.query import LEVELS, STATUSES
from signing.instants import day_in_cst

log = logging.getLogger(__name__)

__all__ = ["COUNT_EVERY", "Counts", "CountsCache", "count_certificates"]

#: How often the counts are made again (docs/search.md, "Costs").
COUNT_EVERY: Final = timedelta(minutes=1)


@dataclass(frozen=True)
class Counts:
    """Certificates by body, level and status (as of `as_of`)."""

    as_of: datetime
    #: (body code, level, status) -> number of certificates
    cells: dict[tuple[str, str, str], int]

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    def by_level(self) -> dict[str, int]:
        return {level: self._sum(level=level) for level in LEVELS}

    def by_status(self) -> dict[str, int]:
        return {status: self._sum(status=status) for status in STATUSES}

    def for_body(self, code: str) -> dict[str, int]:
        """Total and by status, of one body."""
        counts = {status: self._sum(body=code, status=status) for status in STATUSES}
        return {"total": sum(counts.values()), **counts}

    def _sum(
        self, *, body: str | None = None, level: str | None = None, status: str | None = None
    ) -> int:
        return sum(
            n
            for (b, lv, st), n in self.cells.items()
            if (body is None or b == body)
            and (level is None or lv == level)
            and (status is None or st == status)
        )


async def count_certificates(engine: Engine[Any], *, now: datetime) -> Counts:
    """Certificates by body, level and status now: one pass over a covering index."""
    day = day_in_cst(now)
    # The (name, number) index holds body, level, status and the dates, and is
    # smaller than the table; SQLite would rather read the body index and the
    # table (twice the time).
    source = (
        "certificate c"
        if isinstance(engine, PostgresEngine)
        else ("certificate c INDEXED BY certificate_name_order")
    )
    rows = await engine.run_querystring(
        QueryString(
            "SELECT b.code AS body, s.level AS level, s.status AS status, s.n AS n FROM ("  # noqa: S608 - names from this module
            "SELECT c.body AS body, c.level AS level, "
            "CASE WHEN c.status IN ('revoked', 'withdrawn') THEN c.status "
            "WHEN c.valid_until < {} THEN 'expired' "
            "WHEN c.valid_from > {} THEN 'not_yet_valid' ELSE c.status END AS status, "
            f"count(*) AS n FROM {source} GROUP BY 1, 2, 3) s "
            "JOIN certification_body b ON b.id = s.body",
            day,
            day,
        )
    )
    return Counts(
        as_of=now,
        cells={(str(r["body"]), str(r["level"]), str(r["status"])): int(r["n"]) for r in rows},
    )


class CountsCache:
    """The last `count_certificates`, made in the background, never on a request.

    Counting reads one index entry per certificate: about a second on SQLite
    and 0.6 s on PostgreSQL at a million (docs/search.md), too much for a view
    of the home page, even the first one after start. `run` counts at once and
    then every `COUNT_EVERY` (the app starts it in its lifespan); a view reads
    `counts`, which is None until the first count ends (the page then says the
    certificates are being counted). The page says when they were made.
    """

    def __init__(self, engine: Engine[Any]) -> None:
        #: Where the counts are read: the replica when there is one (PRODUCT §6).
        self.engine = engine
        self._counts: Counts | None = None

    @property
    def counts(self) -> Counts | None:
        """The last counts made, or None before the first one ends."""
        return self._counts

    async def refresh(self, *, now: datetime) -> None:
        """Count again; on failure the last counts stay (and the error is logged)."""
        try:
            counts = await count_certificates(self.engine, now=now)
        except Exception:
            log.exception("counting certificates for the home page failed")
            return
        # A count started earlier (at start, say) never replaces a later one.
        if self._counts is None or counts.as_of >= self._counts.as_of:
            self._counts = counts

    async def run(self, *, clock: Callable[[], datetime], every: timedelta = COUNT_EVERY) -> None:
        """Count now and then every `every`, until cancelled."""
        while True:
            await self.refresh(now=clock())
            await asyncio.sleep(every.total_seconds())
