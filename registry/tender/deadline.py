"""The deadline of a tender check (`as_of`), as people type it (PRODUCT §4).

One reader for the `/verify` form and `POST /api/v1/verifications`. Besides
RFC 3339 and a bare ``YYYY-MM-DD`` (`signing.instants.parse_instant`) it takes
what an evaluator copies from a tender notice or a date picker fills in:

- ``2026-10-01 09:30`` (seconds optional; ``T`` or a space between date and time);
- ``2026/10/01`` and ``2026/10/01 09:30``;
- ``2026年10月1日``, ``2026年10月1日 9:30`` and ``2026年10月1日9时30分``;
- RFC 3339 without an offset, ``2026-10-01T09:30`` (what ``<input type=datetime-local>``
  sends).

A time without an offset is China Standard Time (the time of the tender
notice), never the server's zone; a date alone is 00:00 CST. Whatever the form,
the text is rewritten as RFC 3339 with ``+08:00`` and read by `parse_instant`,
so the calendar checks and the 2000..2099 range are the same as everywhere else.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from registry.errors import FieldError, InvalidInputError
from signing.errors import MalformedError
from signing.identifiers import normalise_text
from signing.instants import parse_instant

__all__ = ["DEADLINE_EXAMPLES", "parse_deadline"]

#: The forms named in messages and hints, in the order people use them.
DEADLINE_EXAMPLES: Final = (
    "2026-10-01 09:30",
    "2026/10/01",
    "2026年10月1日",
    "2026-10-01T09:30:00+08:00",
)

#: A date (dashes or slashes, or 年月日) and an optional time, no offset.
_LOCAL: Final = re.compile(
    r"(?P<y>\d{4})(?:[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})|年(?P<cm>\d{1,2})月(?P<cd>\d{1,2})日)"
    r"(?:(?:[T ]|\s*)(?P<H>\d{1,2})(?::|时|點|点)(?P<M>\d{2})(?:(?::|分)(?P<S>\d{2})秒?|分)?)?"
)


def parse_deadline(text: str | None, *, field: str, now: datetime) -> datetime:
    """The instant ``text`` names (whole seconds, UTC); ``now`` when it is empty.

    Raises:
        InvalidInputError: none of the forms, or not a real instant in 2000..2099
            (the message quotes the text and names the forms taken).
    """
    if text is None or not text.strip():
        return now.replace(microsecond=0)
    stripped = normalise_text(text).strip()
    m = _LOCAL.fullmatch(stripped)
    if m is not None:
        month, day = m["m"] or m["cm"], m["d"] or m["cd"]
        hour, minute, second = m["H"] or "0", m["M"] or "0", m["S"] or "0"
        stripped = (
            f"{m['y']}-{int(month):02d}-{int(day):02d}T"
            f"{int(hour):02d}:{int(minute):02d}:{int(second):02d}+08:00"
        )
    try:
        return parse_instant(stripped).replace(microsecond=0)
    except MalformedError as e:
        forms = ", ".join(DEADLINE_EXAMPLES)
        raise InvalidInputError(
            f"{field}: {e}",
            errors=[FieldError(field, f"a date or a date and time, e.g. {forms}: {e}")],
        ) from e
