"""Database engines: SQLite (embedded default) or PostgreSQL, chosen by URL.

Piccolo finds its engine through a `piccolo_conf` module; ours is
`registry.piccolo_conf`. `use_engine` binds one engine to every table and to
Piccolo's migration machinery, so the app, the CLI and the tests all say
explicitly which database they talk to.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from registry.errors import ConflictError
from registry.settings import DatabaseSettings

PICCOLO_CONF_MODULE = "registry.piccolo_conf"
#: How long a SQLite writer waits for another to finish (seconds).
SQLITE_BUSY_TIMEOUT = 30.0


class DatabaseUrlError(ValueError):
    pass


def sqlite_path_from_url(url: str) -> Path:
    """`sqlite:///relative/path` or `sqlite:////absolute/path` -> Path."""
    if not url.startswith("sqlite:///"):
        raise DatabaseUrlError(f"not a SQLite URL: {url!r} (expected sqlite:///path)")
    rest = url[len("sqlite:///") :]
    if not rest:
        raise DatabaseUrlError("the SQLite URL names no file")
    return Path(unquote(rest))


def engine_from_url(url: str) -> Engine[Any]:
    """Build a Piccolo engine for a DATABASE_URL (PRODUCT §4)."""
    if url.startswith("sqlite:"):
        path = sqlite_path_from_url(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT)
    scheme = urlsplit(url).scheme
    if scheme in ("postgresql", "postgres"):
        # asyncpg takes the DSN as is (both schemes).
        return PostgresEngine(config={"dsn": url})
    raise DatabaseUrlError(
        f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite:///path or postgresql://..."
    )


def replica_engine(settings: DatabaseSettings) -> Engine[Any] | None:
    """The engine for public reads when DATABASE_REPLICA_URL is set (PRODUCT §6).

    Never bound to the tables: `use_engine` binds the primary, so nothing
    writes through this one by accident (a hot standby would refuse anyway).
    """
    if not settings.replica_url:
        return None
    return engine_from_url(settings.replica_url)


def use_engine(engine: Engine[Any]) -> None:
    """Bind `engine` to every registry table and to Piccolo's migrations."""
    os.environ["PICCOLO_CONF"] = PICCOLO_CONF_MODULE
    from piccolo.apps.migrations.tables import Migration

    from registry import piccolo_conf
    from registry.piccolo_app import APP_CONFIG

    piccolo_conf.DB = engine
    tables: list[type[Table]] = [*APP_CONFIG.table_classes, Migration]
    for table in tables:
        table._meta.db = engine


async def start(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)
    elif isinstance(engine, SQLiteEngine):
        # WAL lets readers proceed while one writer writes (PRODUCT §6); it is
        # a property of the database file, so setting it once is enough.
        await engine.run_ddl("PRAGMA journal_mode=WAL")


async def stop(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


async def migrate(engine: Engine[Any]) -> None:
    """Run every pending migration (forwards only)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    use_engine(engine)
    # Piccolo prints its progress. Standard output is for what scripts read (`key
    # generate` prints the kid last, `token create` the token), so it goes to standard
    # error, and only when a migration ran or failed: not a banner on every command.
    progress = io.StringIO()
    with contextlib.redirect_stdout(progress):
        result = await run_forwards(app_name="all")
    ran = "Running" in progress.getvalue()
    if ran or not result.success:
        sys.stderr.write(progress.getvalue())
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")


def write_transaction(engine: Engine[Any]) -> Any:
    """A transaction for a write: all of it or nothing.

    On SQLite it is IMMEDIATE, so that two writers queue for the lock instead
    of both reading and one failing at commit (SQLITE_BUSY_SNAPSHOT).
    """
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def insert_rows(
    engine: Engine[Any], into: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """``INSERT INTO into (columns) VALUES (...)`` for every row, in the current write transaction.

    The statement is prepared once and run for every row on the transaction's
    own connection (SQLite and asyncpg `executemany`), with the values as
    parameters; SQLite converts them with the adapters Piccolo registers, so
    the stored text is what a Piccolo insert stores. Bulk writes (the
    importer, the log) use it: building a Piccolo `Table` object and its query
    string costs more than validating and signing the certificate it stores
    (docs/benchmarks.md, "Bulk issuance").

    Raises:
        RuntimeError: called outside a transaction (a bulk write is all or nothing).
    """
    if not rows:
        return
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("insert_rows runs inside write_transaction(engine)")
    names = ", ".join(columns)
    if isinstance(engine, PostgresEngine):
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    else:
        marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {into} ({names}) VALUES ({marks})"  # noqa: S608 - names from the callers
    await transaction.connection.executemany(sql, rows)


def is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg ships with piccolo[postgres]
        return False
    return isinstance(exc, asyncpg.UniqueViolationError)


@contextmanager
def unique_conflicts(message: str) -> Iterator[None]:
    """Turn a unique-constraint violation into a 409 with `message`."""
    try:
        yield
    except Exception as exc:
        if is_unique_violation(exc):
            raise ConflictError(message) from exc
        raise


@asynccontextmanager
async def connected(url: str, *, run_migrations: bool = True) -> AsyncIterator[Engine[Any]]:
    """Open the database at `url` for a command-line run, migrated."""
    engine = engine_from_url(url)
    use_engine(engine)
    await start(engine)
    try:
        if run_migrations:
            await migrate(engine)
        yield engine
    finally:
        await stop(engine)
