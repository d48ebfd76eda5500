"""Instants and calendar days: RFC 3339, bare dates in CST, 3-year validity, months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from signing.errors import MalformedError
from signing.instants import (
    CST,
    add_months,
    add_months_to_instant,
    default_valid_until,
    end_of_validity,
    format_instant,
    is_canonical_instant,
    parse_date,
    parse_instant,
    start_of_day,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T00:00:00Z", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01t00:00:00z", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01 08:00:00+08:00", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T09:30:00+08:00", datetime(2026, 3, 1, 1, 30, tzinfo=UTC)),
        ("2026-02-28T19:00:00-05:00", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T00:00:00.123456789Z", datetime(2026, 3, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T00:00:00-00:00", datetime(2026, 3, 1, tzinfo=UTC)),
        # A bare date is 00:00 China Standard Time, 16:00 UTC the day before.
        ("2026-03-01", datetime(2026, 2, 28, 16, tzinfo=UTC)),
        (" 2026-03-01 ", datetime(2026, 2, 28, 16, tzinfo=UTC)),
    ],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03-01T00:00:00", "no UTC offset"),
        ("2026-03-01T00:00", "no UTC offset"),
        ("2026-03-01T24:00:00Z", "not a real instant"),
        ("2026-02-30T00:00:00Z", "not a real instant"),
        ("2026-02-30", "not a real date"),
        ("2026-03-01T23:59:60Z", "not a real instant"),
        ("2026-03-01T00:00:00+24:00", "impossible UTC offset"),
        ("2026-3-1", "not an RFC 3339 instant"),
        ("20260301", "not an RFC 3339 instant"),
        ("yesterday", "'yesterday' is not an RFC 3339 instant"),
        ("", "not an RFC 3339 instant"),
        ("2026-03-01T00:00:00+0800", "not an RFC 3339 instant"),
    ],
)
def test_parse_instant_refusals(text: str, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        parse_instant(text)


def test_parse_instant_refuses_non_strings() -> None:
    with pytest.raises(MalformedError, match="must be a string"):
        parse_instant(20260301)  # type: ignore[arg-type]


def test_format_instant_is_utc_z_whole_seconds() -> None:
    dt = datetime(2026, 3, 1, 9, 30, 15, 999999, tzinfo=CST)
    assert format_instant(dt) == "2026-03-01T01:30:15Z"  # truncated, never rounded up
    assert is_canonical_instant("2026-03-01T01:30:15Z")
    assert not is_canonical_instant("2026-03-01T09:30:15+08:00")
    assert not is_canonical_instant("2026-03-01T01:30:15.5Z")
    assert not is_canonical_instant("2026-02-30T01:30:15Z")
    with pytest.raises(ValueError, match="timezone-aware"):
        format_instant(datetime(2026, 3, 1))


def test_parse_date_is_strict() -> None:
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    for text in ("2026-3-1", "2026-03-01T00:00:00Z", "20260301", " 2026-03-01", "2026-02-29"):
        with pytest.raises(MalformedError):
            parse_date(text)


def test_days_in_china_standard_time() -> None:
    assert CST.utcoffset(None) == timedelta(hours=8)
    assert start_of_day(date(2026, 3, 1)) == datetime(2026, 2, 28, 16, tzinfo=UTC)
    # valid_until is inclusive: expiry is 00:00 +08:00 the next day.
    assert end_of_validity(date(2029, 1, 4)) == datetime(2029, 1, 5, tzinfo=CST)
    assert end_of_validity(date(2028, 12, 31)) == datetime(
        2029, 1, 1, tzinfo=timezone(timedelta(hours=8))
    )


@pytest.mark.parametrize(
    ("valid_from", "years", "valid_until"),
    [
        (date(2026, 1, 5), 3, date(2029, 1, 4)),
        (date(2026, 1, 1), 3, date(2028, 12, 31)),
        (date(2026, 3, 1), 3, date(2029, 2, 28)),
        (date(2025, 3, 1), 3, date(2028, 2, 29)),
        # 29 February: the anniversary in a common year is 1 March.
        (date(2024, 2, 29), 3, date(2027, 2, 28)),
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 28)),
    ],
)
def test_default_valid_until(valid_from: date, years: int, valid_until: date) -> None:
    assert default_valid_until(valid_from, years) == valid_until


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 5), 15, date(2027, 4, 5)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -13, date(2024, 12, 15)),
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_add_months_to_instant_counts_on_the_cst_calendar() -> None:
    # 2026-01-31T16:00Z is 1 February 00:00 in China: +1 month is 1 March 00:00 CST.
    moved = add_months_to_instant(datetime(2026, 1, 31, 16, tzinfo=UTC), 1)
    assert moved == datetime(2026, 3, 1, tzinfo=CST)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01",
        "9999-12-31",
        "1999-12-31",
        "2100-01-01",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+08:00",  # once an OverflowError converting to UTC
        "9999-12-31T23:59:59-08:00",  # the same at the other end
        "1999-12-31T23:59:59Z",
        "2100-01-01T00:00:00+08:00",
    ],
)
def test_instants_and_dates_outside_2000_to_2099_are_refused(text: str) -> None:
    with pytest.raises(MalformedError, match="2000-01-01 to 2099-12-31"):
        parse_instant(text)
    if "T" not in text:
        with pytest.raises(MalformedError, match="2000-01-01 to 2099-12-31"):
            parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2000-01-01", datetime(1999, 12, 31, 16, tzinfo=UTC)),
        ("2000-01-01T00:00:00+08:00", datetime(1999, 12, 31, 16, tzinfo=UTC)),
        ("2099-12-31T23:59:59-08:00", datetime(2100, 1, 1, 7, 59, 59, tzinfo=UTC)),
    ],
)
def test_the_ends_of_the_range_are_read(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


def test_the_last_day_still_has_an_end_of_validity() -> None:
    assert end_of_validity(parse_date("2099-12-31")) == datetime(2100, 1, 1, tzinfo=CST)
