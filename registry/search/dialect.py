"""What both SQL dialects share: the tiers' tests, the filters, the keyset, and
the three steps a tier is answered in (services.py's docstring).

The engines' own parts are in sqlite.py (FTS5) and postgres.py (pg_trgm and
the gram index).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from registry.certificates.search_text import SHORT_TERM_MAX, is_ascii_free
from registry.search.query import SearchQuery
from registry.search.tiers import (
    EVERYTHING,
    IDENTIFIER,
    NAME_EN_START,
    NAME_START,
    TEXT,
    Tier,
    tiers_for,
)

__all__ = [
    "CANDIDATE_LIMIT",
    "IDENTS_SQL",
    "KEYS",
    "WALK_NAMES",
    "WALK_TEXT",
    "Dialect",
    "indexed_filters",
    "join",
    "sql",
    "starts_with",
    "successor",
]

#: Numbers and USCCs as the text tier searches them.
IDENTS_SQL: Final = "lower(c.number) || ' ' || lower(c.uscc)"


def sql(template: str, *args: Any) -> QueryString:
    return QueryString(template, *args)


def join(parts: Sequence[QueryString], separator: str) -> QueryString:
    if not parts:
        return sql("TRUE" if separator == " AND " else "FALSE")
    return sql(separator.join("{}" for _ in parts), *parts)


def successor(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (code point order)."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return None
    following = last + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    return prefix[:-1] + chr(following)


def starts_with(column: str, prefix: str) -> QueryString:
    upper = successor(prefix)
    if upper is None:
        return sql(f"substr({column}, 1, {{}}) = {{}}", len(prefix), prefix)
    # A range, so that the (name, number) B-tree answers it in order.
    return sql(f"({column} >= {{}} AND {column} < {{}})", prefix, upper)


def indexed_filters(query: SearchQuery, body_id: int | None) -> list[QueryString]:
    """Filters that have B-tree indexes of their own."""
    filters = []
    if query.level:
        filters.append(sql("c.level = {}", query.level))
    if query.province:
        filters.append(sql("c.province = {}", query.province))
    if body_id is not None:
        filters.append(sql("c.body = {}", body_id))
    if query.status in ("suspended", "revoked", "withdrawn") and not query.reads_history:
        filters.append(sql("c.status = {}", query.status))
    return filters


def _state_sql(query: SearchQuery) -> QueryString:
    """The stored state at `as_of`: the column, or (before now) the fold of the events."""
    if not query.reads_history:
        return sql("c.status")
    # PRODUCT §1: the fold of the events with effective_at <= T, in
    # (effective_at, order recorded); surveillance_passed changes no state.
    return sql(
        "(CASE WHEN c.event_count = 0 THEN 'valid' ELSE COALESCE(("
        "SELECT CASE e.status WHEN 'reinstated' THEN 'valid' ELSE e.status END "
        "FROM status_event e WHERE e.certificate = c.id AND e.effective_at <= {} "
        "AND e.status IN ('suspended', 'reinstated', 'revoked', 'withdrawn') "
        "ORDER BY e.effective_at DESC, e.seq DESC LIMIT 1), 'valid') END)",
        query.as_of,
    )


def _filters(query: SearchQuery, body_id: int | None) -> list[QueryString]:
    parts = indexed_filters(query, body_id)
    status = query.status
    if status is not None:
        state = _state_sql(query)
        day = query.as_of_date
        if status in ("revoked", "withdrawn"):
            parts.append(sql("{} = {}", state, status))
        elif status in ("valid", "suspended"):
            parts.append(
                sql(
                    "{} = {} AND c.valid_from <= {} AND c.valid_until >= {}",
                    state,
                    status,
                    day,
                    day,
                )
            )
        elif status == "expired":
            parts.append(sql("{} IN ('valid', 'suspended') AND c.valid_until < {}", state, day))
        else:  # not_yet_valid
            parts.append(sql("{} IN ('valid', 'suspended') AND c.valid_from > {}", state, day))
    return parts


#: How many index entries a text tier reads in name order before it asks the
#: full-text index instead (the text tier reads table rows for the scope).
WALK_NAMES: Final = 5_000
WALK_TEXT: Final = 1_000
#: The most rows a text tier takes from the full-text index and sorts.
CANDIDATE_LIMIT: Final = 10_000
#: The columns of the (name, number) indexes that a walk reads (with the row's key).
_WALK_COLUMNS: Final = (
    "c.name_key, c.name_en_key, c.number, c.uscc, c.province, c.level, c.body, "
    "c.status, c.valid_from, c.valid_until"
)
#: What a tier query returns: the row's key (`rid`) and enough to order and page.
KEYS: Final = "c.rid, c.name_key, c.name_en_key, c.number"


class Dialect(ABC):
    """How a tier's rows are found on one engine; the engines' own parts are abstract."""

    #: The key a tier gives each row, to fetch it once the page is known: the
    #: rowid on SQLite (in every index), the id on PostgreSQL.
    row_id: ClassVar[str]

    def __init__(self, engine: Engine[Any], query: SearchQuery, body_id: int | None) -> None:
        self.engine = engine
        self.query = query
        self.body_id = body_id
        self.tiers = tiers_for(query)

    # --- what is the same on both engines

    async def rows(self, template: str, *args: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.engine.run_querystring(sql(template, *args))
        return rows

    @property
    def number(self) -> str:
        return "c.number"

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
            return sql("TRUE")
        if tier is IDENTIFIER:
            code = query.terms[0].upper()
            return sql("(c.number = {} OR c.uscc = {})", code, code)
        if tier is NAME_START:
            return starts_with("c.name_key", query.text)
        if tier is NAME_EN_START:
            return starts_with("c.name_en_key", query.text)
        per_term = []
        for term in query.terms:
            places = [self.contains("c.name_key", term), self.contains("c.name_en_key", term)]
            if tier is TEXT:
                if len(term) > SHORT_TERM_MAX:
                    places.append(self.contains("c.scope_key", term))
                    places.append(self.contains(f"({IDENTS_SQL})", term))
                elif is_ascii_free(term):
                    # As the gram index has them: short terms look in the Chinese scope.
                    places.append(self.contains("c.scope_key", term))
            per_term.append(join(places, " OR "))
        return join([sql("({})", p) for p in per_term], " AND ")

    def keyset(self, tier: Tier) -> QueryString:
        after = self.query.after
        if after is None or after.rank != tier.rank:
            return sql("TRUE")
        return sql(f"(c.{tier.key}, {self.number}) > ({{}}, {{}})", after.key, after.number)

    def conditions(self, tier: Tier) -> QueryString:
        """The tier's own test, not an earlier tier's, the filters, after the cursor."""
        parts = [self.matches(tier)]
        # A row is in the first tier it matches.
        parts += [sql("NOT ({})", self.matches(t)) for t in self.tiers[: self.tiers.index(tier)]]
        parts += _filters(self.query, self.body_id)
        parts.append(self.keyset(tier))
        return join(parts, " AND ")

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
            return await self.select(tier, sql("certificate c"), need)
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
            return await self.select(tier, sql(self.walk_source), need)
        # The inner query reads `bound` index entries from the cursor on; it
        # names only columns the index holds (names, number, filters), so the
        # table is not read, except for the scope in the text tier.
        columns = self.walk_columns(tier)
        start = [self.keyset(tier)]
        if self.query.province:
            start.append(sql("c.province = {}", self.query.province))
        return await self.rows(
            f"SELECT {KEYS} FROM (SELECT {columns} FROM {self.walk_source} WHERE {{}} "  # noqa: S608 - names from this module
            f"ORDER BY {self.order(tier)} LIMIT {{}}) c "
            f"WHERE {{}} ORDER BY {self.order(tier)} LIMIT {{}}",
            join(start, " AND "),
            bound,
            self.conditions(tier),
            need,
        )

    @property
    def walk_names(self) -> int:
        """How many index entries the name tiers walk before asking the index."""
        return WALK_NAMES

    @property
    def walk_text(self) -> int:
        return WALK_TEXT

    @property
    def candidate_limit(self) -> int:
        return CANDIDATE_LIMIT

    # --- each engine's own

    @abstractmethod
    def contains(self, column: str, term: str) -> QueryString:
        """A substring test, no index."""

    @property
    @abstractmethod
    def walk_source(self) -> str:
        """The table (and index) a walk in name order reads."""

    @abstractmethod
    async def from_index(self, tier: Tier, need: int) -> list[dict[str, Any]] | None:
        """The tier's rows from the full-text indexes, sorted; None when more
        than `candidate_limit`."""
