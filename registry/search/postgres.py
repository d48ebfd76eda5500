"""PostgreSQL's dialect of search: pg_trgm and gram GIN indexes, and the covering
(name, number) B-tree walked index-only.

The indexes are in the search migration; docs/search.md ("PostgreSQL") has
the plans.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from piccolo.querystring import QueryString

from registry.certificates.search_text import SHORT_TERM_MAX, is_ascii_free
from registry.search.dialect import IDENTS_SQL, KEYS, Dialect, indexed_filters, join, sql
from registry.search.tiers import EVERYTHING, TEXT, Tier

__all__ = ["PostgresDialect"]


def _short_places(tier: Tier, term: str) -> tuple[str, ...]:
    """Where a short term is looked for: names, and the scope when it has no
    ASCII (registry/certificates/search_text.py): "n" and "s"."""
    if tier is TEXT and is_ascii_free(term):
        return ("n", "s")
    return ("n",)


#: The expression of PostgreSQL's index for short terms (see the migration).
_GRAMS_SQL: Final = "certificate_grams(c.name_key || chr(10) || c.name_en_key, c.scope_key)"
#: PostgreSQL: a condition expected to match more rows than this is tested row
#: by row, not turned into a bitmap.
BITMAP_LIMIT: Final = 100_000


class PostgresDialect(Dialect):
    """PostgreSQL: GIN bitmaps find few rows, the covering (name, number) index
    walks through many without reading the table."""

    row_id = "c.id"

    @property
    def walk_source(self) -> str:
        return "certificate c"

    def contains(self, column: str, term: str) -> QueryString:
        return sql(f"strpos({column}, {{}}) > 0", term)

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
        return 4 * super().walk_names

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
        if not looked_up or expected > 4 * self.candidate_limit:
            return None
        rows = await self.rows(
            f"WITH m AS MATERIALIZED (SELECT {self.walk_columns(TEXT)} FROM certificate c "  # noqa: S608
            "WHERE {} LIMIT {}) "
            "SELECT n.candidates, h.* FROM (SELECT count(*) AS candidates FROM m) n "
            f"LEFT JOIN LATERAL (SELECT {KEYS} FROM m c WHERE {{}} "
            f"ORDER BY {self.order(tier)} LIMIT {{}}) h ON TRUE",
            join(looked_up, " AND "),
            self.candidate_limit + 1,
            self.conditions(tier),
            need,
        )
        if int(rows[0]["candidates"]) > self.candidate_limit:
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
        filters = indexed_filters(self.query, self.body_id)
        return join(filters, " AND ") if filters else None

    def _text_indexed(self, tier: Tier) -> QueryString | None:
        """Each term as the GIN indexes answer it: trigram LIKE, or grams."""
        parts: list[QueryString] = []
        for term in self.query.terms if tier is not EVERYTHING else ():
            if len(term) > SHORT_TERM_MAX:
                pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
                columns = ["c.name_key", "c.name_en_key"]
                if tier is TEXT:
                    columns += ["c.scope_key", f"({IDENTS_SQL})"]
                parts.append(join([sql(f"{col} LIKE {{}}", pattern) for col in columns], " OR "))
            else:
                tokens = [place + term for place in _short_places(tier, term)]
                parts.append(
                    sql(
                        f"{_GRAMS_SQL} && ARRAY[" + ", ".join("{}::text" for _ in tokens) + "]",
                        *tokens,
                    )
                )
        return join([sql("({})", p) for p in parts], " AND ") if parts else None


#: For the walk only (is_local: this transaction), then back to the defaults.
_PLANNER_WALK: Final = (
    "SELECT set_config('enable_seqscan', 'off', true), "
    "set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)"
)
_PLANNER_DEFAULT: Final = (
    "SELECT set_config('enable_seqscan', 'on', true), "
    "set_config('enable_bitmapscan', 'on', true), set_config('enable_sort', 'on', true)"
)
