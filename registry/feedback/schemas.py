"""What the reports and scans API answers, for `/schema`."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct


class Report(Struct, forbid_unknown_fields=True):
    id: int
    number: Annotated[str, Meta(description="the certificate the report is about")]
    created_at: Annotated[str, Meta(description="RFC 3339, UTC")]
    where: Annotated[str, Meta(description="where it was bought, as the reporter typed it")]
    problem: Annotated[
        str,
        Meta(description="fake_mark, wrong_company, wrong_level, service_refused or other"),
    ]
    details: Annotated[str, Meta(description="the reporter's words; may be empty")]
    contact: Annotated[str, Meta(description="only if the reporter chose to give one; else empty")]
    photo_url: Annotated[str | None, Meta(description="the re-encoded photo (same token), or null")]
    status: Annotated[str, Meta(description="new or seen")]


class ReportPage(Struct, forbid_unknown_fields=True):
    items: Annotated[list[Report], Meta(description="newest first")]
    next_cursor: Annotated[str | None, Meta(description="pass as `cursor` for the next page")]


class ScanDay(Struct, forbid_unknown_fields=True):
    day: Annotated[str, Meta(description="YYYY-MM-DD, China Standard Time")]
    count: int
    spike: bool


class ScanHistory(Struct, forbid_unknown_fields=True):
    number: str
    body: str
    days: Annotated[list[ScanDay], Meta(description="the last 90 days, oldest first")]
    median: Annotated[float, Meta(description="the median day of the 90, zero days included")]
    threshold: Annotated[
        float, Meta(description="a day with more scans than this (and at least 20) is a spike")
    ]
    spikes: Annotated[list[str], Meta(description="the days flagged as spikes")]
    total: int
