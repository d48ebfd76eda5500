"""Search indexes on both engines (issue 5, PRODUCT §6), written by hand.

Fills the search columns of existing certificates, then builds:

SQLite
    Two FTS5 tables with the `trigram` tokenizer: `certificate_names`
    (Chinese name, English name) and `certificate_text` (number and USCC,
    scope), each with columns of filter tokens (`f_level`, `f_province`,
    `f_status`, `f_body`), so that a query and its filters meet in one index. Contentless (the text is in
    `certificate`) and keyed by `certificate.search_rowid`, a stable integer:
    the implicit rowid of a table without an INTEGER PRIMARY KEY may change on
    VACUUM. Names and scope end in two newlines, so that every character of
    them starts a trigram: a query of one or two characters is answered from
    the trigrams that start with it, listed by fts5vocab
    (`certificate_names_terms`, `certificate_text_terms`). Triggers keep the
    indexes in step with every write to `certificate`: issue, revise, bulk
    import and status changes alike.
PostgreSQL
    `pg_trgm` GIN indexes on the same fields; for one or two characters, a GIN
    index on `certificate_grams(...)`, every character and two-character
    window of the names and of the Chinese scope, computed by the database.
    `name_key` and `name_en_key` use the "C" collation, so both engines order
    names by code point.
Both
    B-tree indexes on (name_key, number), (name_en_key, number) and
    (province, name_key, number): the order of results, and the walk that
    answers a query matching many certificates. The walks' indexes also hold
    the filter columns, so a walk reads no table rows.

docs/search.md explains the design and shows the query plans.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from registry.search.text import search_columns

ID = "2026-12-01T10:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search: SQLite FTS5 trigram or PostgreSQL pg_trgm GIN; triggers; backfill"

BACKFILL_BATCH = 500


def _facets(row: str) -> str:
    # Filter tokens of one row, as SQL over its columns (`row` is NEW or OLD):
    # f_level, f_province, f_status, f_body. Each is three characters, a
    # Private Use mark and two more, so exactly one trigram in its own column.
    # registry.search.services builds the same (FACET_MARKS).
    return (
        f"char(57345) || substr({row}.level, 1, 2), char(57346) || {row}.province, "
        f"char(57347) || substr({row}.status, 1, 2), "
        f"char(57348) || char(57600 + {row}.body / 4096) || char(61440 + {row}.body % 4096)"
    )


def _names(row: str) -> str:
    # certificate_names: name_zh, name_en, facets. Names end in two newlines:
    # a query never holds a newline, so no term is found in them.
    return f"{row}.name_key || char(10, 10), {row}.name_en_key || char(10, 10), {_facets(row)}"


def _text(row: str) -> str:
    # certificate_text: idents, scope, facets.
    return (
        f"lower({row}.number) || ' ' || lower({row}.uscc), {row}.scope_key || char(10, 10), "
        f"{_facets(row)}"
    )


#: What the walk in name order tests besides the names: with these in the
#: index, the walk reads no table rows (an index-only scan). SQLite finds a
#: row by the rowid every index entry holds; PostgreSQL needs the id.
COVERED = "uscc, province, level, body, status, valid_from, valid_until"
FACETS = "f_level, f_province, f_status, f_body"
NAMES = f"name_zh, name_en, {FACETS}"
TEXT = f"idents, scope, {FACETS}"
INDEXED = "name_key, name_en_key, scope_key, number, uscc, level, province, body, status"
#: No column sizes (no bm25). case_sensitive 1: text and query are folded
#: already. detail=column: a term is asked as trigrams in a column group, not
#: as a phrase; every candidate is checked against the stored text anyway,
#: and positions would double the index.
FTS_OPTIONS = "content='', columnsize=0, detail=column, tokenize='trigram case_sensitive 1'"


def _index_rows(table: str, columns: str, values: str) -> str:
    return f"INSERT INTO {table}(rowid, {columns}) VALUES ({values})"


def _forget_rows(table: str, columns: str, values: str) -> str:
    # A contentless FTS5 row is deleted by giving its old values back.
    return f"INSERT INTO {table}({table}, rowid, {columns}) VALUES ('delete', {values})"


SQLITE = (
    "ALTER TABLE certificate ADD COLUMN search_rowid INTEGER",
    "UPDATE certificate SET search_rowid = rowid",
    "CREATE UNIQUE INDEX certificate_search_rowid ON certificate (search_rowid)",
    # Covering: the walk in name order reads no table rows (SQLite has no
    # INCLUDE, so the columns follow the key).
    f"CREATE INDEX certificate_name_order ON certificate (name_key, number, name_en_key, {COVERED})",
    # Only ranges of English names that start with the query use it.
    "CREATE INDEX certificate_name_en_order ON certificate (name_en_key, number)",
    # Names in order within a province: the filter that follows the order of
    # names (they start with the city), so a walk with it starts at its rows.
    "CREATE INDEX certificate_province_order "
    f"ON certificate (province, name_key, number, name_en_key, {COVERED})",
    f"CREATE VIRTUAL TABLE certificate_names USING fts5({NAMES}, {FTS_OPTIONS})",
    f"CREATE VIRTUAL TABLE certificate_text USING fts5({TEXT}, {FTS_OPTIONS})",
    "CREATE VIRTUAL TABLE certificate_names_terms USING fts5vocab(certificate_names, 'row')",
    "CREATE VIRTUAL TABLE certificate_text_terms USING fts5vocab(certificate_text, 'row')",
    f"INSERT INTO certificate_names(rowid, {NAMES}) SELECT c.search_rowid, {_names('c')} "
    "FROM certificate c",
    f"INSERT INTO certificate_text(rowid, {TEXT}) SELECT c.search_rowid, {_text('c')} "
    "FROM certificate c",
    # A new certificate gets the next search_rowid, then its index entries.
    f"""CREATE TRIGGER certificate_search_insert AFTER INSERT ON certificate BEGIN
    UPDATE certificate
       SET search_rowid = (SELECT IFNULL(MAX(search_rowid), 0) + 1 FROM certificate)
     WHERE rowid = NEW.rowid;
    INSERT INTO certificate_names(rowid, {NAMES})
    SELECT c.search_rowid, {_names("NEW")} FROM certificate c WHERE c.rowid = NEW.rowid;
    INSERT INTO certificate_text(rowid, {TEXT})
    SELECT c.search_rowid, {_text("NEW")} FROM certificate c WHERE c.rowid = NEW.rowid;
END""",
    f"""CREATE TRIGGER certificate_search_update AFTER UPDATE OF {INDEXED} ON certificate BEGIN
    {_forget_rows("certificate_names", NAMES, f"OLD.search_rowid, {_names('OLD')}")};
    {_forget_rows("certificate_text", TEXT, f"OLD.search_rowid, {_text('OLD')}")};
    {_index_rows("certificate_names", NAMES, f"NEW.search_rowid, {_names('NEW')}")};
    {_index_rows("certificate_text", TEXT, f"NEW.search_rowid, {_text('NEW')}")};
END""",
    f"""CREATE TRIGGER certificate_search_delete AFTER DELETE ON certificate BEGIN
    {_forget_rows("certificate_names", NAMES, f"OLD.search_rowid, {_names('OLD')}")};
    {_forget_rows("certificate_text", TEXT, f"OLD.search_rowid, {_text('OLD')}")};
END""",
)

POSTGRES_BEFORE_BACKFILL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'ALTER TABLE certificate ALTER COLUMN name_key TYPE text COLLATE "C"',
    'ALTER TABLE certificate ALTER COLUMN name_en_key TYPE text COLLATE "C"',
)
#: Every character and two-character window: of the names without spaces or
#: newlines (a query term has neither), of the scope without ASCII
#: (registry/search/text.py). 'n' or 's' says which. COST: computing it for a
#: row takes some time; the planner must look it up in the index, never
#: compute it row by row.
GRAMS_FUNCTION = r"""
CREATE FUNCTION certificate_grams(names text, scope text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000 AS $$
SELECT coalesce(array_agg(DISTINCT g), '{}') FROM (
    SELECT 'n' || substr(names, i, n) AS g
      FROM generate_series(1, char_length(names)) AS i, generate_series(1, 2) AS n
     WHERE i + n - 1 <= char_length(names)
       AND strpos(substr(names, i, n), ' ') = 0 AND strpos(substr(names, i, n), chr(10)) = 0
    UNION ALL
    SELECT 's' || substr(scope, i, n)
      FROM generate_series(1, char_length(scope)) AS i, generate_series(1, 2) AS n
     WHERE i + n - 1 <= char_length(scope)
       AND ascii(substr(scope, i, 1)) >= 128
       AND (n = 1 OR ascii(substr(scope, i + 1, 1)) >= 128)
) AS windows
$$
"""
POSTGRES = (
    GRAMS_FUNCTION,
    'CREATE INDEX certificate_name_order ON certificate (name_key, number COLLATE "C") '
    f"INCLUDE (name_en_key, {COVERED}, id, event_count)",
    'CREATE INDEX certificate_name_en_order ON certificate (name_en_key, number COLLATE "C") '
    f"INCLUDE (name_key, {COVERED}, id, event_count)",
    "CREATE INDEX certificate_province_order "
    'ON certificate (province, name_key, number COLLATE "C") '
    f"INCLUDE (name_en_key, {COVERED}, id, event_count)",
    "CREATE INDEX certificate_name_trgm ON certificate USING gin (name_key gin_trgm_ops)",
    "CREATE INDEX certificate_name_en_trgm ON certificate USING gin (name_en_key gin_trgm_ops)",
    "CREATE INDEX certificate_scope_trgm ON certificate USING gin (scope_key gin_trgm_ops)",
    "CREATE INDEX certificate_idents_trgm ON certificate "
    "USING gin ((lower(number) || ' ' || lower(uscc)) gin_trgm_ops)",
    # The same expression as registry.search.services asks (GRAMS_SQL).
    "CREATE INDEX certificate_grams ON certificate "
    "USING gin (certificate_grams(name_key || chr(10) || name_en_key, scope_key))",
)


async def _check_pg_trgm(engine: Any) -> None:
    # pg_trgm takes characters for words by the database's LC_CTYPE: under "C"
    # it sees no Chinese at all, and every Chinese query would find nothing.
    rows = await engine.run_querystring(
        QueryString("SELECT cardinality(show_trgm({})) AS n", "海尔智家")
    )
    if not rows or rows[0]["n"] == 0:
        raise RuntimeError(
            "pg_trgm cannot index Chinese in this database: its LC_CTYPE is not a "
            "UTF-8 locale. Create the database with LC_CTYPE 'C.UTF-8' (or another "
            "UTF-8 locale) and migrate again."
        )


async def _backfill(engine: Any) -> None:
    """Search columns for the certificates written before this migration."""
    postgres = isinstance(engine, PostgresEngine)
    last = None
    while True:
        where = "" if last is None else "WHERE id > {}"
        rows = await engine.run_querystring(
            QueryString(
                "SELECT id, holder_name, holder_name_en, scope_zh, scope_en FROM certificate "
                f"{where} ORDER BY id LIMIT {BACKFILL_BATCH}",
                *([] if last is None else [last]),
            )
        )
        if not rows:
            return
        last = rows[-1]["id"]
        values = []
        args: list[Any] = []
        for row in rows:
            columns = search_columns(
                holder_name=row["holder_name"],
                holder_name_en=row["holder_name_en"],
                scope_zh=row["scope_zh"],
                scope_en=row["scope_en"],
            )
            values.append("({}::uuid, {}, {}, {})" if postgres else "({}, {}, {}, {})")
            args += [row["id"], columns["name_key"], columns["name_en_key"], columns["scope_key"]]
        if postgres:
            sql = (
                "UPDATE certificate SET name_key = v.name_key, name_en_key = v.name_en_key, "
                f"scope_key = v.scope_key FROM (VALUES {', '.join(values)}) "
                "AS v(id, name_key, name_en_key, scope_key) WHERE certificate.id = v.id"
            )
        else:
            sql = (
                "UPDATE certificate SET name_key = v.column2, name_en_key = v.column3, "
                f"scope_key = v.column4 FROM (VALUES {', '.join(values)}) AS v "
                "WHERE certificate.id = v.column1"
            )
        await engine.run_querystring(QueryString(sql, *args))


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        if isinstance(engine, PostgresEngine):
            for statement in POSTGRES_BEFORE_BACKFILL:
                await engine.run_ddl(statement)
            await _check_pg_trgm(engine)
            await _backfill(engine)
            for statement in POSTGRES:
                await engine.run_ddl(statement)
        else:
            await _backfill(engine)
            for statement in SQLITE:
                await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
