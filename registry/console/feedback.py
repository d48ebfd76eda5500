"""What the console shows of consumer reports and scan counts (registry/feedback/).

The dashboard's "new consumer reports" (how many, the latest) and its notice of
scan spikes in the last days; on a certificate's page, its reports and its chart.
Reading goes through the feedback services, scoped to the account's body.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from registry.certificates.tables import Certificate
from registry.console.accounts import ConsoleAccount
from registry.feedback.reports import StoredReport, count_new_reports, list_reports
from registry.feedback.scans import DAYS, SPIKE_MIN_SCANS, is_spike
from registry.feedback.tables import ConsumerReport, ScanCount
from signing.instants import day_in_cst

__all__ = ["DashboardFeedback", "Spike", "dashboard_feedback"]

LATEST_REPORTS: Final = 5
#: The dashboard names spikes of the last this many days.
SPIKE_NOTICE_DAYS: Final = 7


@dataclass(frozen=True)
class Spike:
    number: str
    day: str
    count: int


@dataclass(frozen=True)
class DashboardFeedback:
    new_reports: int
    latest: list[StoredReport] = field(default_factory=list)
    spikes: list[Spike] = field(default_factory=list)


async def _latest_new(account: ConsoleAccount) -> list[StoredReport]:
    if account.body_code is not None:
        page = await list_reports(
            account.body_code, principal=account.principal, limit=LATEST_REPORTS, new_only=True
        )
        return page.items
    rows = (
        await ConsumerReport.select(ConsumerReport.body_code)
        .where(ConsumerReport.status == "new")
        .order_by(ConsumerReport.id, ascending=False)
        .limit(LATEST_REPORTS)
    )
    latest: list[StoredReport] = []
    for code in dict.fromkeys(str(r["body_code"]) for r in rows):
        page = await list_reports(
            code, principal=account.principal, limit=LATEST_REPORTS, new_only=True
        )
        latest.extend(page.items)
    latest.sort(key=lambda r: r.id, reverse=True)
    return latest[:LATEST_REPORTS]


async def recent_spikes(account: ConsoleAccount, *, now: datetime) -> list[Spike]:
    """Days of the last week whose scans of one of the body's certificates were a
    spike (as the chart marks them: registry/feedback/scans.py), newest first.

    Only a day of at least `SPIKE_MIN_SCANS` can be a spike: those few days are
    found first, and the 90 days of their certificates read after.
    """
    today = day_in_cst(now)
    first = today - timedelta(days=DAYS - 1)
    recent = today - timedelta(days=SPIKE_NOTICE_DAYS - 1)
    candidates = await ScanCount.select(ScanCount.number).where(
        ScanCount.day >= recent, ScanCount.day <= today, ScanCount.scans >= SPIKE_MIN_SCANS
    )
    numbers = sorted({str(r["number"]) for r in candidates})
    if not numbers:
        return []
    owned = Certificate.select(Certificate.number).where(Certificate.number.is_in(numbers))
    if not account.is_operator:
        owned = owned.where(Certificate.body.code == account.body_code)
    mine = [str(r["number"]) for r in await owned]
    if not mine:
        return []
    rows = await ScanCount.select(
        ScanCount.number, ScanCount.day, ScanCount.scans.as_alias("scans")
    ).where(ScanCount.number.is_in(mine), ScanCount.day >= first, ScanCount.day <= today)
    by_number: dict[str, dict[str, int]] = {}
    for row in rows:
        day = str(row["day"])[:10]
        by_number.setdefault(str(row["number"]), {})[day] = int(row["scans"])
    spikes: list[Spike] = []
    for number, days in by_number.items():
        counts = list(days.values()) + [0] * (DAYS - len(days))
        median = float(statistics.median(counts))
        for day, count in days.items():
            if day >= recent.isoformat() and is_spike(count, median):
                spikes.append(Spike(number, day, count))
    spikes.sort(key=lambda s: (s.day, s.number), reverse=True)
    return spikes


async def dashboard_feedback(account: ConsoleAccount, *, now: datetime) -> DashboardFeedback:
    return DashboardFeedback(
        new_reports=await count_new_reports(account.body_code, principal=account.principal),
        latest=await _latest_new(account),
        spikes=await recent_spikes(account, now=now),
    )


async def certificate_reports(
    account: ConsoleAccount, number: str, body_code: str
) -> list[StoredReport]:
    """The reports about one certificate (the page checked the body already)."""
    page = await list_reports(body_code, principal=account.principal, limit=50, number=number)
    return page.items
