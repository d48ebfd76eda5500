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


#: A run of the characters pg_trgm takes for a word's (letters and digits, by
#: the database's locale, close to Python's): it cuts words at any other
#: character and pads each word with spaces, so a term holding one (a bracket,
#: a hyphen) gives it only the trigrams of its words on their own.
_WORD: Final = re.compile(r"[^\W_]+")


#: A word this long has three trigrams of its own, unpadded: asked alone, it
#: finds few rows. A shorter one (`100` of `100%`) may be in thousands, more
#: than the padded trigrams of the whole term find.
_SELECTIVE_WORD: Final = 5


def _windows(term: str) -> list[str]:
    """Every two-character window of `term`, each once: what the gram index holds."""
    return list(dict.fromkeys(term[i : i + 2] for i in range(len(term) - 1)))


_NAME_COLUMNS: Final = ("c.name_key", "c.name_en_key")


def _like(term: str) -> str:
    """`term` anywhere, as LIKE asks it (`%`, `_` and `\\` escaped)."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"


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
        becomes a bitmap of most of the table. Without parallel workers
        (`_PLANNER_SERIAL`)."""
        branches = self._text_indexed(tier)
        filters = self._filters_indexed()
        looked_up: list[QueryString] = []
        expected = float("inf")
        if branches is not None:
            estimate = await self._estimate(join(branches, " OR "))
            if estimate <= BITMAP_LIMIT:
                expected = estimate
            else:
                branches = None
        if filters is not None:
            estimate = await self._estimate(filters)
            if estimate <= BITMAP_LIMIT:
                looked_up.append(filters)
                expected = min(expected, estimate)
        if (branches is None and not looked_up) or expected > 4 * self.candidate_limit:
            return None
        limit = self.candidate_limit + 1
        # Each branch on its own, then their UNION (see `_text_indexed`).
        selects = [
            sql(
                f"SELECT {self.walk_columns(TEXT)} FROM certificate c WHERE {{}} LIMIT {{}}",  # noqa: S608
                join([branch, *looked_up], " AND "),
                limit,
            )
            for branch in (branches or [sql("TRUE")])
        ]
        candidates = (
            selects[0]
            if len(selects) == 1
            else sql(" UNION ".join("({})" for _ in selects) + " LIMIT {}", *selects, limit)
        )
        await self.rows(_PLANNER_SERIAL)
        try:
            rows = await self._candidates(tier, candidates, need)
        finally:
            await self.rows(_PLANNER_PARALLEL)
        if int(rows[0]["candidates"]) > self.candidate_limit:
            return None
        return [r for r in rows if r["rid"] is not None]

    async def _candidates(
        self, tier: Tier, candidates: QueryString, need: int
    ) -> list[dict[str, Any]]:
        """The count of the candidates, and the first `need` that match, in order."""
        return await self.rows(
            "WITH m AS MATERIALIZED ({}) "  # noqa: S608
            "SELECT n.candidates, h.* FROM (SELECT count(*) AS candidates FROM m) n "
            f"LEFT JOIN LATERAL (SELECT {KEYS} FROM m c WHERE {{}} "
            f"ORDER BY {self.order(tier)} LIMIT {{}}) h ON TRUE",
            candidates,
            self.conditions(tier),
            need,
        )

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

    def _text_indexed(self, tier: Tier) -> list[QueryString] | None:
        """Each term as the GIN indexes answer it: trigram LIKE, or grams; one
        condition, or two whose rows together are the candidates.

        Only candidates: every row is then tested against the stored text
        (`conditions`), so a term may be asked as something every match also
        has. A term that is one word for pg_trgm is asked as it is. One that
        is not (`械(大`, `scqa-2024-sh-0927117`) would be asked by the trigrams
        of its words alone, padded as if each were a whole word: one or two
        characters give one trigram that thousands of names have (`械(大`
        gave the trigram of words starting with 大), and the short words of
        a number (`sh`, `2024`) are in most rows. Such a term is asked of
        the names as all its two-character windows in the gram index, which
        holds every window of the names, brackets and hyphens included; of
        the scope and the identifiers (text tier) as its longest word,
        unpadded, when that is `_SELECTIVE_WORD` long, else as it is. The
        first such term of the text tier splits the condition in two: the
        names by grams, and the rest, each with the other terms: in one
        condition, a Bitmap Heap Scan would recheck every row that the
        trigram indexes hand it (they are lossy) against the whole condition,
        computing the gram expression row by row.
        """
        per_term: list[list[QueryString]] = []
        split: int | None = None
        for term in self.query.terms if tier is not EVERYTHING else ():
            if len(term) <= SHORT_TERM_MAX:
                per_term.append([_grams("&&", [p + term for p in _short_places(tier, term)])])
                continue
            words = _WORD.findall(term)
            if words == [term]:
                places = [sql(f"{col} LIKE {{}}", _like(term)) for col in _NAME_COLUMNS]
                elsewhere = term
            else:
                places = [_grams("@>", ["n" + window for window in _windows(term)])]
                longest = max(words, key=len, default="")
                elsewhere = longest if len(longest) >= _SELECTIVE_WORD else term
                if tier is TEXT and split is None:
                    split = len(per_term)
            if tier is TEXT:
                places += [
                    sql(f"{col} LIKE {{}}", _like(elsewhere))
                    for col in ("c.scope_key", f"({IDENTS_SQL})")
                ]
            per_term.append(places)
        if not per_term:
            return None
        if split is None:
            return [_all_of(per_term)]
        rest = per_term[:split] + per_term[split + 1 :]
        names, elsewhere_places = per_term[split][:1], per_term[split][1:]
        return [_all_of([names, *rest]), _all_of([elsewhere_places, *rest])]


def _all_of(per_term: list[list[QueryString]]) -> QueryString:
    """Every term found in one of its places."""
    return join([sql("({})", join(places, " OR ")) for places in per_term], " AND ")


def _grams(operator: str, tokens: list[str]) -> QueryString:
    """The gram index asked for any (`&&`) or all (`@>`) of `tokens`."""
    return sql(
        f"{_GRAMS_SQL} {operator} ARRAY[" + ", ".join("{}::text" for _ in tokens) + "]", *tokens
    )


#: For the walk only (is_local: this transaction), then back to the defaults.
_PLANNER_WALK: Final = (
    "SELECT set_config('enable_seqscan', 'off', true), "
    "set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)"
)
_PLANNER_DEFAULT: Final = (
    "SELECT set_config('enable_seqscan', 'on', true), "
    "set_config('enable_bitmapscan', 'on', true), set_config('enable_sort', 'on', true)"
)
#: For the look-up in the indexes only: no parallel workers. The planner takes
#: a gram outside the most common elements of its statistics (most grams) to
#: be in 5,000 rows and would start two workers to read what is often a few
#: hundred: their start costs more than the scan, and on a small machine they
#: take the cores from the server.
_PLANNER_SERIAL: Final = "SET LOCAL max_parallel_workers_per_gather = 0"
_PLANNER_PARALLEL: Final = "SET LOCAL max_parallel_workers_per_gather TO DEFAULT"
