"""What console pages show about certificates, all through the one read path.

The certificate rows only say which certificates are the body's (and find
candidates); every status, level, date and history line shown comes from the
verified documents (`VerificationService`), as on the public pages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from piccolo.engine.base import Engine

from registry.bodies.services import load_keyset
from registry.certificates.tables import Certificate
from registry.console.accounts import ConsoleAccount
from registry.console.guards import require_body
from registry.log.feeds import FeedItem, FeedQuery, latest_items
from registry.verification.judging import Reading
from registry.verification.services import VerificationService, canonical_number

__all__ = ["Dashboard", "body_of", "certificate_reading", "dashboard"]

#: PRODUCT §4: the dashboard lists surveillance due within this many days, or overdue.
DUE_WITHIN: Final = timedelta(days=60)
#: Read path batches: one query each.
_BATCH: Final = 500
LATEST_CHANGES: Final = 10


@dataclass(frozen=True)
class DueItem:
    number: str
    holder: str
    due: datetime
    overdue: bool


@dataclass(frozen=True)
class Dashboard:
    total: int
    by_status: dict[str, int]
    by_level: dict[str, int]
    due: list[DueItem]
    changes: list[FeedItem] = field(default_factory=list)


async def _numbers(account: ConsoleAccount) -> list[str]:
    query = Certificate.select(Certificate.number).order_by(Certificate.number)
    if not account.is_operator:
        query = query.where(Certificate.body.code == account.body_code)
    return [str(row["number"]) for row in await query]


async def body_of(number: str) -> str | None:
    """The body a certificate belongs to (the write side's row: who may act on it)."""
    canonical = canonical_number(number)
    if canonical is None:
        return None
    row = (
        await Certificate.select(Certificate.body.code.as_alias("body_code"))
        .where(Certificate.number == canonical)
        .first()
    )
    return None if row is None else str(row["body_code"])


async def certificate_reading(
    account: ConsoleAccount, number: str, *, read_path: VerificationService, now: datetime
) -> Reading:
    """The judged certificate, if the account may see it.

    Raises:
        NotFoundError: unknown, or another body's.
    """
    require_body(account, await body_of(number), number)
    reading = await read_path.reading(number, at=now, now=now)
    if reading is None:  # deleted between the two reads
        require_body(account, None, number)
    assert reading is not None
    return reading


async def dashboard(
    account: ConsoleAccount, *, read_path: VerificationService, engine: Engine[Any], now: datetime
) -> Dashboard:
    """Counts by status and level, surveillance falling due, the latest changes."""
    numbers = await _numbers(account)
    by_status: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    due: list[DueItem] = []
    for start in range(0, len(numbers), _BATCH):
        readings = await read_path.readings(
            numbers=numbers[start : start + _BATCH], at=now, now=now
        )
        for reading in readings:
            verdict = reading.verdict
            by_status[verdict.status.value] += 1
            if verdict.level is not None:
                by_level[verdict.level.value] += 1
            status_at = verdict.status_at
            if (
                verdict.is_valid
                and status_at is not None
                and verdict.certificate is not None
                and status_at.surveillance_due <= now + DUE_WITHIN
            ):
                due.append(
                    DueItem(
                        number=reading.number,
                        holder=verdict.certificate.holder.name,
                        due=status_at.surveillance_due,
                        overdue=status_at.surveillance_due < now,
                    )
                )
    due.sort(key=lambda item: item.due)
    query = FeedQuery(body=None if account.is_operator else account.body_code)
    changes = [
        item
        for item in await latest_items(query, engine=engine, keys=await load_keyset(), now=now)
        if item.number is not None
    ][:LATEST_CHANGES]
    # New consumer reports and scan spikes: registry/console/feedback.py.
    return Dashboard(
        total=len(numbers),
        by_status=dict(by_status),
        by_level=dict(by_level),
        due=due,
        changes=changes,
    )
