"""A search request, checked: `parse_search` and the limits of PRODUCT §4."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Final

from registry.certificates.search_text import fold, split_terms
from registry.errors import FieldError, InvalidInputError
from registry.search.cursor import Position, decode_cursor
from signing.errors import MalformedError
from signing.identifiers import PROVINCES
from signing.instants import day_in_cst, parse_instant
from signing.scheme import StarLevel
from signing.status import CertificateStatus

__all__ = [
    "DEFAULT_LIMIT",
    "LEVELS",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "STATUSES",
    "SearchQuery",
    "parse_search",
]

#: PRODUCT §4: `q` is at most 200 characters.
MAX_QUERY_CHARS: Final = 200
#: PRODUCT §4: lists take `limit` from 1 to 100 (default 20).
MAX_LIMIT: Final = 100
DEFAULT_LIMIT: Final = 20

#: Best first, as people read them.
LEVELS: Final = tuple(
    level.value for level in sorted(StarLevel, key=lambda lv: lv.rank, reverse=True)
)
STATUSES: Final = tuple(status.value for status in CertificateStatus)


@dataclass(frozen=True)
class SearchQuery:
    """A validated search request (`parse_search`)."""

    text: str
    terms: tuple[str, ...]
    level: str | None
    status: str | None
    body: str | None
    province: str | None
    #: The instant statuses are read at: `valid_on`, or now.
    as_of: datetime
    #: True when `valid_on` was given.
    dated: bool
    limit: int
    after: Position | None
    now: datetime

    @property
    def fingerprint(self) -> str:
        """Ties a cursor to the query and filters it was handed out for."""
        parts = [self.text, self.level, self.status, self.body, self.province]
        if self.dated:
            parts.append(self.as_of.isoformat())
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:12]

    @property
    def as_of_date(self) -> date:
        """The calendar day in China Standard Time that dates are compared with (§1)."""
        return day_in_cst(self.as_of)

    @property
    def reads_history(self) -> bool:
        """Whether statuses must be folded from events: `valid_on` in the past.

        The stored state is the state now; events never take effect in the
        future, so it is also the state at any later instant.
        """
        return self.dated and self.as_of < self.now


def _one_of(values: Sequence[str]) -> str:
    return "one of " + ", ".join(values)


def parse_search(
    *,
    q: str | None,
    level: str | None = None,
    status: str | None = None,
    body: str | None = None,
    province: str | None = None,
    valid_on: str | None = None,
    limit: int | str | None = None,
    cursor: str | None = None,
    now: datetime,
) -> SearchQuery:
    """Check every parameter; raise one InvalidInputError naming each bad one.

    An empty or absent parameter is no filter; `valid_on` without `status`
    means "valid on that day" (the tender evaluator's question).
    """
    problems: list[FieldError] = []
    raw = q or ""
    if len(raw) > MAX_QUERY_CHARS:
        problems.append(
            FieldError("q", f"at most {MAX_QUERY_CHARS} characters; this one has {len(raw)}")
        )
    text = fold(raw[: MAX_QUERY_CHARS * 2])
    level = (level or "").strip().lower() or None
    if level is not None and level not in LEVELS:
        problems.append(FieldError("level", _one_of(LEVELS)))
    status = (status or "").strip().lower() or None
    if status is not None and status not in STATUSES:
        problems.append(FieldError("status", _one_of(STATUSES)))
    province = (province or "").strip() or None
    if province is not None and province not in PROVINCES:
        problems.append(
            FieldError("province", "a two-digit GB/T 2260 province code: " + ", ".join(PROVINCES))
        )
    body = (body or "").strip().upper() or None
    if body is not None and not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{1,31}", body):
        problems.append(FieldError("body", "a certification body's code, see /api/v1/bodies"))
    as_of, dated = now, False
    if valid_on:
        try:
            as_of, dated = parse_instant(valid_on.strip()), True
        except MalformedError as e:
            problems.append(
                FieldError("valid_on", f"an RFC 3339 instant or a YYYY-MM-DD date: {e}")
            )
    size = _parse_limit(limit)
    if size is None:
        problems.append(FieldError("limit", f"an integer from 1 to {MAX_LIMIT}"))
        size = DEFAULT_LIMIT
    if dated and status is None:
        status = "valid"
    query = SearchQuery(
        text=text,
        terms=split_terms(text),
        level=level,
        status=status,
        body=body,
        province=province,
        as_of=as_of,
        dated=dated,
        limit=size,
        after=None,
        now=now,
    )
    if cursor:
        try:
            after = decode_cursor(cursor, fingerprint=query.fingerprint)
        except InvalidInputError as e:
            problems += e.errors
        else:
            query = replace(query, after=after)
    if problems:
        raise InvalidInputError(
            "bad search parameters: "
            + "; ".join(f"{p.field} must be {p.message}" for p in problems),
            errors=problems,
        )
    return query


def _parse_limit(limit: int | str | None) -> int | None:
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    if isinstance(limit, str):
        text = limit.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 3:
            return None
        limit = int(text)
    return limit if 1 <= limit <= MAX_LIMIT else None
