"""Instants and calendar days as the certificates speak of them.

PRODUCT §1: dates are calendar days in China Standard Time (UTC+8);
``valid_until`` is inclusive, so a certificate expires at 00:00 +08:00 of the
following day. Instants given by people are RFC 3339, or a bare date meaning
00:00 CST of that day.

Instants written *by us* (payloads, verdicts, JWKS) are RFC 3339 in UTC with a
``Z`` and whole seconds: ``2026-03-01T00:00:00Z``. Sub-second precision has no
meaning for certificate status, and one text per instant lets a parsed payload
serialise back to exactly the bytes that were signed; :func:`format_instant`
therefore drops microseconds (it truncates, it does not round, so an instant is
never moved into the future).

Every date and instant read here lies between 2000-01-01 and 2099-12-31
(PRODUCT §4 "Limits and hostile input"): no certificate of this scheme falls
outside, and the date arithmetic done with them (validity ends, months added,
conversion to UTC) stays far from ``datetime``'s limits, so that
``0001-01-01`` or ``9999-12-31T23:59:59-08:00`` is refused, never an overflow.

This module never reads the clock: callers pass ``now``.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone

from signing.errors import MalformedError

__all__ = [
    "CST",
    "FIRST_DAY",
    "LAST_DAY",
    "add_months",
    "add_months_to_instant",
    "day_in_cst",
    "default_valid_until",
    "end_of_validity",
    "format_date",
    "format_instant",
    "is_canonical_instant",
    "parse_date",
    "parse_instant",
    "require_aware",
    "start_of_day",
]

#: China Standard Time, UTC+8, no daylight saving time since 1991.
CST = timezone(timedelta(hours=8))

#: The first and last calendar days a date or instant given to the registry may name.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)

# RFC 3339 §5.6 date-time. The "T" may be lower case (§5.6 note) or, as RFC
# 3339 allows "for the sake of readability", a space. Fractional seconds of
# any length are read and truncated to microseconds (datetime's resolution).
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# A date-time with no offset: refused with a message that says so.
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
# Exactly what format_instant writes.
_CANONICAL_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _quote(text: str) -> str:
    # Keep error messages one line and bounded even for hostile input.
    shown = text if len(text) <= 60 else text[:57] + "..."
    return repr(shown)


def _check_in_range(day: date, text: str) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise MalformedError(
            f"{_quote(text)} is outside the years the registry knows "
            f"({format_date(FIRST_DAY)} to {format_date(LAST_DAY)})"
        )


def require_aware(dt: datetime, what: str) -> None:
    """Refuse a naive datetime: an instant without an offset means nothing here.

    Raises:
        ValueError: ``dt`` has no UTC offset. This is a programming error of the
            caller, not bad input, so it is not a `SigningError`.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {dt!r}")


def parse_instant(text: str) -> datetime:
    """Read an RFC 3339 instant, or a bare ``YYYY-MM-DD`` meaning 00:00 CST.

    The result is timezone-aware and expressed in UTC.

    Raises:
        MalformedError: ``text`` is neither, or its calendar day (as written,
            in its own offset) is outside 2000-01-01 .. 2099-12-31; the message
            quotes it. A date-time without an offset is refused: it would mean
            a different instant on every machine.
    """
    if not isinstance(text, str):
        raise MalformedError(f"an instant must be a string, got {type(text).__name__}")
    stripped = text.strip()
    if _DATE.fullmatch(stripped):
        return start_of_day(parse_date(stripped)).astimezone(UTC)
    m = _DATE_TIME.fullmatch(stripped)
    if m is None and _NAIVE.fullmatch(stripped):
        raise MalformedError(
            f"{_quote(text)} has no UTC offset; add Z or +08:00 (e.g. {stripped}+08:00)"
        )
    if m is None:
        raise MalformedError(
            f"{_quote(text)} is not an RFC 3339 instant "
            "(e.g. 2026-03-01T09:30:00+08:00 or 2026-03-01T01:30:00Z) or a date YYYY-MM-DD"
        )
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    if m.group(8):
        tz = UTC
    else:
        off_h, off_m = int(m.group(10)), int(m.group(11))
        if off_h > 23 or off_m > 59:
            raise MalformedError(f"{_quote(text)} has an impossible UTC offset")
        offset = timedelta(hours=off_h, minutes=off_m)
        tz = timezone(-offset if m.group(9) == "-" else offset)
    try:
        dt = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as e:
        # Also refuses leap seconds (":60"): datetime cannot hold them.
        raise MalformedError(f"{_quote(text)} is not a real instant: {e}") from e
    # Before the conversion to UTC, which overflows at the ends of datetime's range.
    _check_in_range(dt.date(), text)
    return dt.astimezone(UTC)


def format_instant(dt: datetime) -> str:
    """Write an instant as RFC 3339 UTC with ``Z`` and whole seconds.

    Microseconds are dropped (truncated), see the module docstring.

    Raises:
        ValueError: ``dt`` is naive.
    """
    require_aware(dt, "instant")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_canonical_instant(text: str) -> bool:
    """Whether ``text`` is exactly what :func:`format_instant` writes for some instant."""
    if not _CANONICAL_INSTANT.fullmatch(text):
        return False
    try:
        return format_instant(parse_instant(text)) == text
    except MalformedError:
        return False


def parse_date(text: str) -> date:
    """Read a calendar day written strictly as ``YYYY-MM-DD``.

    Raises:
        MalformedError: any other form (``2026-3-1``, ``20260301``, a date-time),
            a day that does not exist (``2026-02-30``) or one outside
            2000-01-01 .. 2099-12-31.
    """
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        shown = _quote(text) if isinstance(text, str) else type(text).__name__
        raise MalformedError(f"{shown} is not a date written YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError as e:
        raise MalformedError(f"{_quote(text)} is not a real date: {e}") from e
    _check_in_range(day, text)
    return day


def format_date(d: date) -> str:
    """Write a calendar day as ``YYYY-MM-DD``."""
    return d.isoformat()


def day_in_cst(dt: datetime) -> date:
    """The calendar day in China Standard Time that instant ``dt`` falls on (PRODUCT §1).

    Raises:
        ValueError: ``dt`` is naive.
    """
    require_aware(dt, "dt")
    return dt.astimezone(CST).date()


def start_of_day(d: date) -> datetime:
    """00:00 China Standard Time of day ``d``."""
    return datetime(d.year, d.month, d.day, tzinfo=CST)


def end_of_validity(valid_until: date) -> datetime:
    """The instant a certificate valid until ``valid_until`` (inclusive) expires.

    PRODUCT §1: 00:00 +08:00 of the following day.
    """
    return start_of_day(valid_until + timedelta(days=1))


def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months, clamped to the end of the month.

    31 January + 1 month is 28 (or 29) February.
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def add_months_to_instant(dt: datetime, months: int) -> datetime:
    """``dt`` plus ``months`` calendar months, counted on the CST calendar.

    The wall-clock time in CST is kept; the day is clamped like :func:`add_months`.

    Raises:
        ValueError: ``dt`` is naive.
    """
    require_aware(dt, "instant")
    local = dt.astimezone(CST)
    moved = add_months(local.date(), months)
    return local.replace(year=moved.year, month=moved.month, day=moved.day)


def default_valid_until(valid_from: date, years: int) -> date:
    """The day before the ``years``-th anniversary of ``valid_from``.

    PRODUCT §1: a certificate is valid until the day before the third
    anniversary of ``valid_from`` by default and at the latest. For a 29
    February start the anniversary in a common year is 1 March, so the last
    valid day is 28 February.
    """
    year = valid_from.year + years
    if valid_from.month == 2 and valid_from.day == 29 and not calendar.isleap(year):
        anniversary = date(year, 3, 1)
    else:
        anniversary = valid_from.replace(year=year)
    return anniversary - timedelta(days=1)
