"""SQLite's dialect of search: FTS5 trigram tables with the filters as tokens.

The tables and their triggers are in the search migration; docs/search.md
("SQLite") has the plans.
"""

from __future__ import annotations

from typing import Any, Final

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from registry.certificates.search_text import FACET_MARKS, SHORT_TERM_MAX, is_ascii_free
from registry.search.dialect import Dialect, sql, successor
from registry.search.query import SearchQuery
from registry.search.tiers import EVERYTHING, TEXT, Tier

__all__ = ["SQLiteDialect"]


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


def _fts_string(text: str) -> str:
    # An FTS5 string: everything inside the double quotes is literal text.
    return '"' + text.replace('"', '""') + '"'


#: A short term that starts more distinct trigrams than this is too common to
#: look up in SQLite's index (one or two very common characters).
MAX_SHORT_EXPANSION: Final = 400


class SQLiteDialect(Dialect):
    """SQLite: FTS5 answers how many rows match, and which (services.py's docstring)."""

    row_id = "c.rowid"

    def __init__(self, engine: Engine[Any], query: SearchQuery, body_id: int | None) -> None:
        super().__init__(engine, query, body_id)
        self._expansions: dict[tuple[str, str], list[str] | None] = {}

    def contains(self, column: str, term: str) -> QueryString:
        return sql(f"instr({column}, {{}}) > 0", term)

    @property
    def walk_source(self) -> str:
        index = "certificate_province_order" if self.query.province else "certificate_name_order"
        return f"certificate c INDEXED BY {index}"

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
            self.candidate_limit + 1,
        )
        count = int(counted[0]["n"])
        if count > self.candidate_limit:
            return None
        if count == 0:
            return []
        # Not one statement with the count: a materialized list of candidates
        # makes SQLite build a Bloom filter over the whole table to join it.
        source = sql(
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
            upper = successor(term)
            rows = await self.rows(
                f"SELECT term FROM {table}_terms WHERE term >= {{}} AND term < {{}} LIMIT {{}}",  # noqa: S608
                term,
                upper if upper is not None else term + "\U0010ffff",
                MAX_SHORT_EXPANSION + 1,
            )
            found = [str(r["term"]) for r in rows]
            self._expansions[key] = found if len(found) <= MAX_SHORT_EXPANSION else None
        return self._expansions[key]
