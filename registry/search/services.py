"""Search over certificates: `GET /api/v1/certificates` and `/search` (issue 5).

A query is folded (registry/certificates/search_text.py) and cut into terms; every term
must be found, as a literal substring, in the certificate. Results come in
tiers of relevance, and by name within a tier:

====  ===============  =====================================================
rank  match            the certificate...
====  ===============  =====================================================
0     identifier       has the query as its number or USCC (any case)
1     name_start       has a Chinese holder name that starts with the query
2     name_en_start    has an English holder name that starts with the query
3     name             has every term in its Chinese or English name
4     text             has every term somewhere: names, scope, number, USCC
====  ===============  =====================================================

Within a tier the order is the folded name (code point order, the same on
both engines: SQLite BINARY, PostgreSQL "C"), then the number; in tier 2 the
English name. The cursor is the (rank, name, number) of the last row given,
so pages stay stable while rows are added.

No full scan on the hot path (PRODUCT §6). The tiers of identifiers and name
starts are B-tree lookups and ranges, already in order. Each of the other
tiers (name, text, and an empty query's list) is answered in up to three steps:

1. Walk the (name, number) index in order from the cursor, testing each row,
   for at most `WALK_NAMES` entries (the index holds the names and every
   filter column, so the table is not read; `WALK_TEXT` rows for the text
   tier, which reads the scope). With a province, the (province, name,
   number) index: names start with their city, so a province's rows are not
   spread evenly over the order of all names. When many rows match, the page
   is full here.
2. Otherwise few match, or they are far down the order: ask the full-text
   index (SQLite: FTS5 with the filters as tokens; PostgreSQL: the GIN or the
   B-tree indexes, whichever the planner expects fewer rows of) for at most
   `CANDIDATE_LIMIT` rows, test and sort them.
3. More than that and not near the start (rare: a common word in names that
   the earlier tiers took): walk on to the end of the page.

docs/search.md has the plans and the measurements.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Final

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from registry.bodies.services import list_bodies, list_keys
from registry.certificates.search_text import (
    FACET_MARKS,
    SHORT_TERM_MAX,
    fold,
    is_ascii_free,
    split_terms,
)
from registry.errors import FieldError, InvalidInputError
from registry.verification.judging import Reading
from registry.verification.services import VerificationService
from signing.errors import MalformedError
from signing.identifiers import PROVINCES
from signing.instants import day_in_cst, parse_instant
from signing.scheme import StarLevel
from signing.status import CertificateStatus

log = logging.getLogger(__name__)

__all__ = [
    "CANDIDATE_LIMIT",
    "MAX_QUERY_CHARS",
    "Counts",
    "CountsCache",
    "SearchPage",
    "SearchQuery",
    "bodies_with_keys",
    "body_choices",
    "count_certificates",
    "latest_status_changes",
    "parse_search",
    "search",
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
_IDENTIFIER: Final = re.compile(r"[a-z0-9-]{6,40}")
_IDENTS_SQL: Final = "lower(c.number) || ' ' || lower(c.uscc)"


@dataclass(frozen=True)
class Tier:
    rank: int
    match: str
    #: The column that orders the tier (then the number).
    key: str = "name_key"


IDENTIFIER = Tier(0, "identifier")
NAME_START = Tier(1, "name_start")
NAME_EN_START = Tier(2, "name_en_start", key="name_en_key")
NAME = Tier(3, "name")
TEXT = Tier(4, "text")
#: An empty query lists everything, in name order.
EVERYTHING = Tier(0, "all")


@dataclass(frozen=True)
class Position:
    """Where a page ended: the sort key of its last row."""

    rank: int
    key: str
    number: str


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


@dataclass(frozen=True)
class SearchPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    as_of: datetime


# --- parsing ------------------------------------------------------------------------


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
        except MalformedError:
            problems.append(FieldError("valid_on", "an RFC 3339 instant or a YYYY-MM-DD date"))
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


def encode_cursor(position: Position, *, fingerprint: str) -> str:
    data = json.dumps(
        [fingerprint, position.rank, position.key, position.number],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, fingerprint: str) -> Position:
    bad = InvalidInputError(
        "cursor is not one this registry handed out for this query",
        errors=[FieldError("cursor", "the next_cursor of the previous page of the same query")],
    )
    if len(cursor) > 2000:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if (
        not isinstance(data, list)
        or len(data) != 4
        or data[0] != fingerprint
        or not isinstance(data[1], int)
        or not 0 <= data[1] <= TEXT.rank
        or not isinstance(data[2], str)
        or not isinstance(data[3], str)
    ):
        raise bad
    return Position(rank=data[1], key=data[2], number=data[3])


# --- SQL ----------------------------------------------------------------------------


def _sql(template: str, *args: Any) -> QueryString:
    return QueryString(template, *args)


def _join(parts: Sequence[QueryString], separator: str) -> QueryString:
    if not parts:
        return _sql("TRUE" if separator == " AND " else "FALSE")
    return _sql(separator.join("{}" for _ in parts), *parts)


def _successor(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (code point order)."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return None
    successor = last + 1
    if 0xD800 <= successor <= 0xDFFF:
        successor = 0xE000
    return prefix[:-1] + chr(successor)


def _starts_with(column: str, prefix: str) -> QueryString:
    upper = _successor(prefix)
    if upper is None:
        return _sql(f"substr({column}, 1, {{}}) = {{}}", len(prefix), prefix)
    # A range, so that the (name, number) B-tree answers it in order.
    return _sql(f"({column} >= {{}} AND {column} < {{}})", prefix, upper)


def _facet_tokens(query: SearchQuery, body_id: int | None) -> list[tuple[str, str]]:
    """The filter tokens SQLite's indexes hold, by column (see the search migration)."""
    tokens = []
    if query.level:
        tokens.append(("f_level", FACET_MARKS["level"] + query.level[:2]))
    if query.province:
        tokens.append(("f_province", FACET_MARKS["province"] + query.province))
    if body_id is not None:
        body = FACET_MARKS["body"] + chr(0xE100 + body_id // 4096) + chr(0xF000 + body_id % 4096)
        tokens.append(("f_body", body))
    # Only the rarer stored states narrow the search; `valid` is nine rows in ten.
    if query.status in ("suspended", "revoked", "withdrawn") and not query.reads_history:
        tokens.append(("f_status", FACET_MARKS["status"] + query.status[:2]))
    return tokens


def _trigrams(term: str) -> list[str]:
    """Trigrams that cover a term end to end without overlapping (the last one
    may): a row with all of them in one column group is a candidate, to be
    checked against the stored text. Every trigram is one more doclist for
    FTS5 to walk, and "cqct-2024-sh-00" would have 13 overlapping ones."""
    starts = list(range(0, len(term) - 2, 3))
    if starts[-1] != len(term) - 3:
        starts.append(len(term) - 3)
    return list(dict.fromkeys(term[i : i + 3] for i in starts))


def _short_places(tier: Tier, term: str) -> tuple[str, ...]:
    """Where a short term is looked for: names, and the scope when it has no
    ASCII (registry/certificates/search_text.py): "n" and "s"."""
    if tier is TEXT and is_ascii_free(term):
        return ("n", "s")
    return ("n",)


def _fts_string(text: str) -> str:
    # An FTS5 string: everything inside the double quotes is literal text.
    return '"' + text.replace('"', '""') + '"'


def _indexed_filters(query: SearchQuery, body_id: int | None) -> list[QueryString]:
    """Filters that have B-tree indexes of their own."""
    filters = []
    if query.level:
        filters.append(_sql("c.level = {}", query.level))
    if query.province:
        filters.append(_sql("c.province = {}", query.province))
    if body_id is not None:
        filters.append(_sql("c.body = {}", body_id))
    if query.status in ("suspended", "revoked", "withdrawn") and not query.reads_history:
        filters.append(_sql("c.status = {}", query.status))
    return filters


def _state_sql(query: SearchQuery) -> QueryString:
    """The stored state at `as_of`: the column, or (before now) the fold of the events."""
    if not query.reads_history:
        return _sql("c.status")
    # PRODUCT §1: the fold of the events with effective_at <= T, in
    # (effective_at, order recorded); surveillance_passed changes no state.
    return _sql(
        "(CASE WHEN c.event_count = 0 THEN 'valid' ELSE COALESCE(("
        "SELECT CASE e.status WHEN 'reinstated' THEN 'valid' ELSE e.status END "
        "FROM status_event e WHERE e.certificate = c.id AND e.effective_at <= {} "
        "AND e.status IN ('suspended', 'reinstated', 'revoked', 'withdrawn') "
        "ORDER BY e.effective_at DESC, e.seq DESC LIMIT 1), 'valid') END)",
        query.as_of,
    )


def _filters(query: SearchQuery, body_id: int | None) -> list[QueryString]:
    parts = _indexed_filters(query, body_id)
    status = query.status
    if status is not None:
        state = _state_sql(query)
        day = query.as_of_date
        if status in ("revoked", "withdrawn"):
            parts.append(_sql("{} = {}", state, status))
        elif status in ("valid", "suspended"):
            parts.append(
                _sql(
                    "{} = {} AND c.valid_from <= {} AND c.valid_until >= {}",
                    state,
                    status,
                    day,
                    day,
                )
            )
        elif status == "expired":
            parts.append(_sql("{} IN ('valid', 'suspended') AND c.valid_until < {}", state, day))
        else:  # not_yet_valid
            parts.append(_sql("{} IN ('valid', 'suspended') AND c.valid_from > {}", state, day))
    return parts


def _tiers(query: SearchQuery) -> list[Tier]:
    if not query.terms:
        return [EVERYTHING]
    tiers = [NAME_START, NAME_EN_START, NAME, TEXT]
    if len(query.terms) == 1 and _IDENTIFIER.fullmatch(query.terms[0]):
        tiers.insert(0, IDENTIFIER)
    return tiers


#: The expression of PostgreSQL's index for short terms (see the migration).
_GRAMS_SQL: Final = "certificate_grams(c.name_key || chr(10) || c.name_en_key, c.scope_key)"
#: A short term that starts more distinct trigrams than this is too common to
#: look up in SQLite's index (one or two very common characters).
MAX_SHORT_EXPANSION: Final = 400
#: How many index entries a text tier reads in name order before it asks the
#: full-text index instead (the text tier reads table rows for the scope).
WALK_NAMES: Final = 5_000
WALK_TEXT: Final = 1_000
#: The most rows a text tier takes from the full-text index and sorts.
CANDIDATE_LIMIT: Final = 10_000
#: PostgreSQL: a condition expected to match more rows than this is tested row
#: by row, not turned into a bitmap.
BITMAP_LIMIT: Final = 100_000
#: The columns of the (name, number) indexes that a walk reads (with the row's key).
_WALK_COLUMNS: Final = (
    "c.name_key, c.name_en_key, c.number, c.uscc, c.province, c.level, c.body, "
    "c.status, c.valid_from, c.valid_until"
)
#: What a tier query returns: the row's key (`rid`) and enough to order and page.
_KEYS: Final = "c.rid, c.name_key, c.name_en_key, c.number"


class _Dialect:
    """SQLite: FTS5 answers how many rows match, and which (module docstring)."""

    def __init__(self, engine: Engine[Any], query: SearchQuery, body_id: int | None) -> None:
        self.engine = engine
        self.query = query
        self.body_id = body_id
        self.tiers = _tiers(query)
        self._expansions: dict[tuple[str, str], list[str] | None] = {}

    # --- what is the same on both engines

    async def rows(self, template: str, *args: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.engine.run_querystring(_sql(template, *args))
        return rows

    def contains(self, column: str, term: str) -> QueryString:
        """A substring test, no index."""
        return _sql(f"instr({column}, {{}}) > 0", term)

    @property
    def number(self) -> str:
        return "c.number"

    #: The key a tier gives each row, to fetch it once the page is known: the
    #: rowid on SQLite (in every index), the id on PostgreSQL.
    row_id = "c.rowid"

    def keys(self) -> str:
        return f"{self.row_id} AS rid, c.name_key, c.name_en_key, c.number"

    def walk_columns(self, tier: Tier) -> str:
        """What a walk's inner query reads: all in the index but for the
        scope (text tier) and what the status at a past instant needs."""
        extra = ", c.scope_key" if tier is TEXT else ""
        if self.query.reads_history:
            extra += ", c.id, c.event_count"
        return f"{self.row_id} AS rid, {_WALK_COLUMNS}{extra}"

    def order(self, tier: Tier) -> str:
        return f"c.{tier.key}, {self.number}"

    def matches(self, tier: Tier) -> QueryString:
        """Whether a row belongs to `tier`, checked against the stored text."""
        query = self.query
        if tier is EVERYTHING:
            return _sql("TRUE")
        if tier is IDENTIFIER:
            code = query.terms[0].upper()
            return _sql("(c.number = {} OR c.uscc = {})", code, code)
        if tier is NAME_START:
            return _starts_with("c.name_key", query.text)
        if tier is NAME_EN_START:
            return _starts_with("c.name_en_key", query.text)
        per_term = []
        for term in query.terms:
            places = [self.contains("c.name_key", term), self.contains("c.name_en_key", term)]
            if tier is TEXT:
                if len(term) > SHORT_TERM_MAX:
                    places.append(self.contains("c.scope_key", term))
                    places.append(self.contains(f"({_IDENTS_SQL})", term))
                elif is_ascii_free(term):
                    # As the gram index has them: short terms look in the Chinese scope.
                    places.append(self.contains("c.scope_key", term))
            per_term.append(_join(places, " OR "))
        return _join([_sql("({})", p) for p in per_term], " AND ")

    def keyset(self, tier: Tier) -> QueryString:
        after = self.query.after
        if after is None or after.rank != tier.rank:
            return _sql("TRUE")
        return _sql(f"(c.{tier.key}, {self.number}) > ({{}}, {{}})", after.key, after.number)

    def conditions(self, tier: Tier) -> QueryString:
        """The tier's own test, not an earlier tier's, the filters, after the cursor."""
        parts = [self.matches(tier)]
        # A row is in the first tier it matches.
        parts += [_sql("NOT ({})", self.matches(t)) for t in self.tiers[: self.tiers.index(tier)]]
        parts += _filters(self.query, self.body_id)
        parts.append(self.keyset(tier))
        return _join(parts, " AND ")

    async def select(self, tier: Tier, source: QueryString, need: int) -> list[dict[str, Any]]:
        return await self.rows(
            f"SELECT {self.keys()} FROM {{}} WHERE {{}} ORDER BY {self.order(tier)} LIMIT {{}}",  # noqa: S608 - names from this module
            source,
            self.conditions(tier),
            need,
        )

    async def hits(self, tier: Tier, need: int) -> list[dict[str, Any]]:
        """The first `need` rows of `tier` after the cursor, in order (module docstring)."""
        if tier in (IDENTIFIER, NAME_START, NAME_EN_START):
            # B-tree lookups and ranges, already in order.
            return await self.select(tier, _sql("certificate c"), need)
        # 1. Many rows match: the first ones come soon in name order.
        bound = self.walk_text if tier is TEXT else self.walk_names
        hits = await self.walk(tier, need, bound=bound)
        if len(hits) == need:
            return hits
        # 2. Few: the index finds them all, then they are sorted.
        found = await self.from_index(tier, need)
        if found is not None:
            return found
        # 3. Neither: more than CANDIDATE_LIMIT match, but not near the start.
        return await self.walk(tier, need, bound=None)

    async def walk(self, tier: Tier, need: int, *, bound: int | None) -> list[dict[str, Any]]:
        """Rows in name order (within the province, when one is asked for),
        tested one by one; at most `bound` of them."""
        if bound is None:
            return await self.select(tier, _sql(self.walk_source), need)
        # The inner query reads `bound` index entries from the cursor on; it
        # names only columns the index holds (names, number, filters), so the
        # table is not read, except for the scope in the text tier.
        columns = self.walk_columns(tier)
        start = [self.keyset(tier)]
        if self.query.province:
            start.append(_sql("c.province = {}", self.query.province))
        return await self.rows(
            f"SELECT {_KEYS} FROM (SELECT {columns} FROM {self.walk_source} WHERE {{}} "  # noqa: S608 - names from this module
            f"ORDER BY {self.order(tier)} LIMIT {{}}) c "
            f"WHERE {{}} ORDER BY {self.order(tier)} LIMIT {{}}",
            _join(start, " AND "),
            bound,
            self.conditions(tier),
            need,
        )

    # --- SQLite's own

    @property
    def walk_source(self) -> str:
        index = "certificate_province_order" if self.query.province else "certificate_name_order"
        return f"certificate c INDEXED BY {index}"

    @property
    def walk_names(self) -> int:
        return WALK_NAMES

    @property
    def walk_text(self) -> int:
        return WALK_TEXT

    async def from_index(self, tier: Tier, need: int) -> list[dict[str, Any]] | None:
        """The tier's rows from FTS5, sorted; None when more than CANDIDATE_LIMIT."""
        fts = await self._match(tier)
        if fts is None:
            return None
        table, match = fts
        if not match:
            return []
        counted = await self.rows(
            f"SELECT count(*) AS n FROM (SELECT 1 FROM {table} "  # noqa: S608
            f"WHERE {table} MATCH {{}} LIMIT {{}})",
            match,
            CANDIDATE_LIMIT + 1,
        )
        count = int(counted[0]["n"])
        if count > CANDIDATE_LIMIT:
            return None
        if count == 0:
            return []
        # Not one statement with the count: a materialized list of candidates
        # makes SQLite build a Bloom filter over the whole table to join it.
        source = _sql(
            f"(SELECT rowid AS r FROM {table} WHERE {table} MATCH {{}}) m "  # noqa: S608
            "CROSS JOIN certificate c ON c.search_rowid = m.r",
            match,
        )
        return await self.select(tier, source, need)

    async def _match(self, tier: Tier) -> tuple[str, str] | None:
        """The FTS5 table and MATCH expression that find the tier's candidates,
        filters included; None: no index helps; an empty expression: nothing can
        match. Inside double quotes everything is literal text.

        A term of three characters or more: trigrams that cover it, all in one
        column group. A shorter one: any trigram that starts with it (names and
        scope end in two newlines, so every character starts one), listed by
        fts5vocab; when there are very many, the term is too common to look up
        and is only tested row by row.

        The name tier and an empty query ask `certificate_names`. The text tier
        asks `certificate_text` for any of the terms: a row that has every term
        in its names is in the name tier, so each row of the text tier has at
        least one term in its number, USCC or scope.
        """
        facets = " AND ".join(
            f"{column} : {_fts_string(token)}"
            for column, token in _facet_tokens(self.query, self.body_id)
        )
        terms = self.query.terms if tier is not EVERYTHING else ()
        parts = []
        for term in terms:
            if tier is TEXT and len(term) <= SHORT_TERM_MAX and not is_ascii_free(term):
                continue  # only ever in names
            table = "certificate_text" if tier is TEXT else "certificate_names"
            if len(term) > SHORT_TERM_MAX:
                columns = "{idents scope}" if tier is TEXT else "{name_zh name_en}"
                parts.append(f"{columns} : ({' AND '.join(map(_fts_string, _trigrams(term)))})")
                continue
            starting = await self._trigrams_starting(table, term)
            if starting is None:
                if tier is not TEXT:
                    continue  # too common: tested row by row
                return None  # the text tier needs every term's candidates
            if not starting:
                if tier is not TEXT:
                    return "certificate_names", ""  # in no name at all
                continue
            columns = "scope" if tier is TEXT else "{name_zh name_en}"
            parts.append(f"{columns} : ({' OR '.join(map(_fts_string, starting))})")
        if tier is TEXT:
            if not parts:
                return "certificate_text", ""
            terms_match = "(" + " OR ".join(f"({p})" for p in parts) + ")"
            return "certificate_text", " AND ".join(filter(None, (terms_match, facets)))
        match = " AND ".join(filter(None, (*parts, facets)))
        return ("certificate_names", match) if match else None

    async def _trigrams_starting(self, table: str, term: str) -> list[str] | None:
        """The trigrams in `table` that start with `term`; None when too many."""
        key = (table, term)
        if key not in self._expansions:
            upper = _successor(term)
            rows = await self.rows(
                f"SELECT term FROM {table}_terms WHERE term >= {{}} AND term < {{}} LIMIT {{}}",  # noqa: S608
                term,
                upper if upper is not None else term + "\U0010ffff",
                MAX_SHORT_EXPANSION + 1,
            )
            found = [str(r["term"]) for r in rows]
            self._expansions[key] = found if len(found) <= MAX_SHORT_EXPANSION else None
        return self._expansions[key]


class _PostgresDialect(_Dialect):
    """PostgreSQL: GIN bitmaps find few rows, the covering (name, number) index
    walks through many without reading the table."""

    row_id = "c.id"

    @property
    def walk_source(self) -> str:
        return "certificate c"

    def contains(self, column: str, term: str) -> QueryString:
        return _sql(f"strpos({column}, {{}}) > 0", term)

    @property
    def number(self) -> str:
        return 'c.number COLLATE "C"'

    async def walk(self, tier: Tier, need: int, *, bound: int | None) -> list[dict[str, Any]]:
        if bound is not None:
            return await super().walk(tier, need, bound=bound)
        # More than CANDIDATE_LIMIT rows match, so the walk in name order ends
        # early; the planner, which takes each string test for a third of the
        # rows, would rather sort a filter's rows. For this statement only:
        await self.rows(_PLANNER_WALK)
        try:
            return await super().walk(tier, need, bound=None)
        finally:
            await self.rows(_PLANNER_DEFAULT)

    @property
    def walk_names(self) -> int:
        # An index-only scan: about four times as many entries as SQLite's in the time.
        return 4 * WALK_NAMES

    @property
    def walk_text(self) -> int:
        return WALK_TEXT

    async def from_index(self, tier: Tier, need: int) -> list[dict[str, Any]] | None:
        """The tier's rows from the GIN and B-tree indexes, sorted; None when more
        than CANDIDATE_LIMIT. The text and the filters are looked up when the
        planner expects each to match at most BITMAP_LIMIT rows (the bitmaps
        are then ANDed), and tested row by row otherwise: a common word never
        becomes a bitmap of most of the table."""
        looked_up = []
        expected = float("inf")
        for condition in (self._text_indexed(tier), self._filters_indexed()):
            if condition is not None:
                estimate = await self._estimate(condition)
                if estimate <= BITMAP_LIMIT:
                    looked_up.append(condition)
                    expected = min(expected, estimate)
        if not looked_up or expected > 4 * CANDIDATE_LIMIT:
            return None
        rows = await self.rows(
            f"WITH m AS MATERIALIZED (SELECT {self.walk_columns(TEXT)} FROM certificate c "  # noqa: S608
            "WHERE {} LIMIT {}) "
            "SELECT n.candidates, h.* FROM (SELECT count(*) AS candidates FROM m) n "
            f"LEFT JOIN LATERAL (SELECT {_KEYS} FROM m c WHERE {{}} "
            f"ORDER BY {self.order(tier)} LIMIT {{}}) h ON TRUE",
            _join(looked_up, " AND "),
            CANDIDATE_LIMIT + 1,
            self.conditions(tier),
            need,
        )
        if int(rows[0]["candidates"]) > CANDIDATE_LIMIT:
            return None
        return [r for r in rows if r["rid"] is not None]

    async def _estimate(self, condition: QueryString) -> float:
        """How many rows the planner expects to match (no execution)."""
        rows = await self.rows(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM certificate c WHERE {}", condition
        )
        plan = rows[0]["QUERY PLAN"]
        return float((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])

    def _filters_indexed(self) -> QueryString | None:
        filters = _indexed_filters(self.query, self.body_id)
        return _join(filters, " AND ") if filters else None

    def _text_indexed(self, tier: Tier) -> QueryString | None:
        """Each term as the GIN indexes answer it: trigram LIKE, or grams."""
        parts: list[QueryString] = []
        for term in self.query.terms if tier is not EVERYTHING else ():
            if len(term) > SHORT_TERM_MAX:
                pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
                columns = ["c.name_key", "c.name_en_key"]
                if tier is TEXT:
                    columns += ["c.scope_key", f"({_IDENTS_SQL})"]
                parts.append(_join([_sql(f"{col} LIKE {{}}", pattern) for col in columns], " OR "))
            else:
                tokens = [place + term for place in _short_places(tier, term)]
                parts.append(
                    _sql(
                        f"{_GRAMS_SQL} && ARRAY[" + ", ".join("{}::text" for _ in tokens) + "]",
                        *tokens,
                    )
                )
        return _join([_sql("({})", p) for p in parts], " AND ") if parts else None


#: For the walk only (is_local: this transaction), then back to the defaults.
_PLANNER_WALK: Final = (
    "SELECT set_config('enable_seqscan', 'off', true), "
    "set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)"
)
_PLANNER_DEFAULT: Final = (
    "SELECT set_config('enable_seqscan', 'on', true), "
    "set_config('enable_bitmapscan', 'on', true), set_config('enable_sort', 'on', true)"
)


def _item(
    reading: Reading, tier: Tier, query: SearchQuery, public_url: str
) -> dict[str, Any] | None:
    """A result from the certificate's signed documents, or None when it no longer fits.

    The row was found by its copies; the answer is re-derived (docs/search.md):
    a certificate whose signatures or copies do not hold is shown as
    `signature_invalid` (or `malformed`) with nothing of its content; one whose
    signed answer at `as_of` is not the level or status filtered for (the
    revision in force then may have another level) is left out.
    """
    number = reading.number
    verdict = reading.verdict
    certificate = verdict.certificate
    item: dict[str, Any] = {
        "number": number,
        "holder_name": None,
        "holder_name_en": None,
        "uscc": None,
        "province": None,
        "level": None,
        "score": None,
        "status": verdict.status.value,
        "valid_from": None,
        "valid_until": None,
        "body": None,
        "match": tier.match,
        "url": f"{public_url}/v/{number}",
    }
    if certificate is None:
        return item
    if (query.status and verdict.status.value != query.status) or (
        query.level and certificate.level.value != query.level
    ):
        return None
    holder = certificate.holder
    item.update(
        holder_name=holder.name,
        holder_name_en=holder.name_en,
        uscc=holder.uscc,
        province=holder.uscc[2:4],
        level=certificate.level.value,
        score=float(certificate.score),
        valid_from=certificate.valid_from.isoformat(),
        valid_until=certificate.valid_until.isoformat(),
        body=certificate.issuer.code,
    )
    return item


async def _body_id(engine: Engine[Any], code: str) -> int:
    rows = await engine.run_querystring(
        _sql("SELECT id FROM certification_body WHERE code = {}", code)
    )
    if not rows:
        raise InvalidInputError(
            f"no certification body has the code {code}",
            errors=[FieldError("body", "a certification body's code, see /api/v1/bodies")],
        )
    return int(rows[0]["id"])


async def search(
    query: SearchQuery,
    *,
    engine: Engine[Any],
    read_path: VerificationService,
    public_url: str = "",
) -> SearchPage:
    """One page of results for a parsed query (see the module docstring).

    The indexes of `engine` (the replica for public searches, PRODUCT §6)
    find the candidates; every result shown comes from the certificate's
    signed documents through the read path (`_item`).
    """
    # One read transaction: every tier sees the same snapshot (and, on
    # SQLite, one connection serves them all).
    async with engine.transaction():
        body_id = await _body_id(engine, query.body) if query.body else None
        dialect_class = _PostgresDialect if isinstance(engine, PostgresEngine) else _Dialect
        dialect = dialect_class(engine, query, body_id)
        found: list[tuple[Tier, dict[str, Any]]] = []
        for tier in dialect.tiers:
            if query.after is not None and tier.rank < query.after.rank:
                continue
            need = query.limit + 1 - len(found)
            if need <= 0:
                break
            found += [(tier, hit) for hit in await dialect.hits(tier, need)]
    page = found[: query.limit]
    readings = {
        r.number: r
        for r in await read_path.readings(
            numbers=[str(hit["number"]) for _, hit in page], at=query.as_of, now=query.now
        )
    }
    items = []
    for tier, hit in page:
        reading = readings.get(str(hit["number"]))
        item = None if reading is None else _item(reading, tier, query, public_url)
        if item is not None:
            items.append(item)
    next_cursor = None
    if len(found) > query.limit:
        tier, hit = page[-1]
        next_cursor = encode_cursor(
            Position(tier.rank, str(hit[tier.key]), str(hit["number"])),
            fingerprint=query.fingerprint,
        )
    return SearchPage(items=items, next_cursor=next_cursor, as_of=query.as_of)


# --- home and bodies pages ----------------------------------------------------------


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
        _sql(
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
    """`count_certificates`, at most `max_age` old, never waited for but once.

    Counting reads one index entry per certificate: about a second on SQLite
    and 0.6 s on PostgreSQL at a million (docs/search.md), too much for a view
    of the home page. The first view after start counts; later ones get the
    last counts at once, and a stale one starts a count in the background
    for those after it. The counts are statistics, and the page says when they
    were made; search results and verdicts are always read fresh.
    """

    def __init__(self, engine: Engine[Any], max_age: timedelta = timedelta(seconds=60)) -> None:
        self.engine = engine
        self.max_age = max_age
        self._counts: Counts | None = None
        self._refresh: asyncio.Task[None] | None = None

    async def get(self, *, now: datetime) -> Counts:
        if self._counts is None:
            self._counts = await count_certificates(self.engine, now=now)
        elif not timedelta(0) <= now - self._counts.as_of < self.max_age and (
            self._refresh is None or self._refresh.done()
        ):
            self._refresh = asyncio.create_task(self._recount(now))
        return self._counts

    async def _recount(self, now: datetime) -> None:
        try:
            self._counts = await count_certificates(self.engine, now=now)
        except Exception:
            # The last counts stay; the next view tries again.
            log.exception("counting certificates for the home page failed")


async def latest_status_changes(
    *, engine: Engine[Any], read_path: VerificationService, now: datetime, limit: int = 10
) -> list[dict[str, Any]]:
    """The last status events recorded (newest first), as their signed documents say.

    The event rows only find which events are the latest; what each line says
    (the change, when it took effect, the holder) is read from the verified
    documents. A certificate whose documents or copies do not hold is listed
    with the status `signature_invalid` and nothing of its content.
    """
    rows = await engine.run_querystring(
        _sql(
            "SELECT c.number AS number, e.seq AS seq FROM status_event e "
            "JOIN certificate c ON c.id = e.certificate "
            "ORDER BY e.recorded_at DESC, e.id DESC LIMIT {}",
            limit,
        )
    )
    readings = {
        r.number: r
        for r in await read_path.readings(
            numbers=[str(row["number"]) for row in rows], at=now, now=now
        )
    }
    changes: list[dict[str, Any]] = []
    for row in rows:
        reading = readings.get(str(row["number"]))
        if reading is None or reading.snapshot is None:
            continue
        stored = [e.seq for e in reading.snapshot.events]
        seq = int(row["seq"])
        if reading.verdict.certificate is None or seq not in stored:
            changes.append(
                {
                    "number": reading.number,
                    "status": reading.verdict.status.value,
                    "event": None,
                    "recorded_at": None,
                }
            )
            continue
        index = stored.index(seq)
        event = reading.events[index]
        holder = reading.revisions[-1].holder
        changes.append(
            {
                "number": reading.number,
                "status": reading.verdict.status.value,
                "event": event.status.value,
                "effective_at": event.effective_at,
                "recorded_at": reading.snapshot.events[index].recorded_at,
                "holder_name": holder.name,
                "holder_name_en": holder.name_en,
                "level": reading.revisions[-1].level.value,
            }
        )
    return changes


async def body_choices() -> list[dict[str, Any]]:
    """Every certification body: code, name, English name (for the search form)."""
    return [
        {"code": b["code"], "name": b["name"], "name_en": b["name_en"]} for b in await list_bodies()
    ]


async def bodies_with_keys() -> list[dict[str, Any]]:
    """Every certification body with its keys (kid, window, state)."""
    keys_by_body: dict[str, list[dict[str, Any]]] = {}
    for key in await list_keys():
        if key["body_code"] is not None:
            keys_by_body.setdefault(key["body_code"], []).append(key)
    return [
        {
            "code": body["code"],
            "name": body["name"],
            "name_en": body["name_en"],
            "signing_keys": keys_by_body.get(body["code"], []),
        }
        for body in await list_bodies()
    ]
