"""Appending to the log and reading its stored hashes, on both engines.

Appends (PRODUCT §3, issue 10):

* run inside the caller's write transaction, so a document and its leaf are
  committed together or not at all;
* are serialised, so concurrent writers get consecutive indexes with no gap and
  no duplicate: on PostgreSQL a transaction-level advisory lock taken before
  the size is read; on SQLite the write transaction is IMMEDIATE already
  (`registry.db.write_transaction`), so one writer at a time reaches this code;
* cost O(log n) reads and writes whatever the size of the tree: the right
  edge (`signing.merkle.root_nodes`) is read in one query, and the new
  complete-subtree hashes (`signing.merkle.append_leaves`) are written in one;
* write their rows with one prepared INSERT run for every row on the
  transaction's connection (`registry.db.insert_rows`), not through Piccolo
  `Table` objects: building a `Table` and its query string cost ~250 µs of
  the ~380 µs an entry took in a 2,000-entry batch, more than validating and
  signing a certificate (docs/benchmarks.md, "Bulk issuance").
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from registry.db import insert_rows
from registry.log.tables import LogEntry, LogNode
from signing.merkle import Node, append_leaves, leaf_hash, root_nodes

__all__ = [
    "NewEntry",
    "append_entries",
    "checkpointed_hashes",
    "log_size",
    "node_id",
    "subtree_hashes",
]

#: `pg_advisory_xact_lock` key of the log's appends ("SMLOG" in ASCII).
_APPEND_LOCK: Final = 0x534D4C4F47
#: Leaf indexes stay below 2**48 (281 trillion); the level goes above them.
_LEVEL_SHIFT: Final = 48


def node_id(node: Node) -> int:
    """The `log_node.id` of a complete subtree."""
    return (node.level << _LEVEL_SHIFT) | node.index


def _node_of(row_id: int) -> Node:
    return Node(row_id >> _LEVEL_SHIFT, row_id & ((1 << _LEVEL_SHIFT) - 1))


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A signed document to append: its JWS and what finds it."""

    typ: str
    jws: str
    body: str
    #: The certificate it is about; None for a key statement.
    number: str | None = None
    #: When the registry accepted it, if not now (documents logged after the fact).
    recorded_at: datetime | None = None


async def log_size() -> int:
    """The number of leaves the log holds now."""
    rows = await LogEntry.raw("SELECT COALESCE(MAX(id) + 1, 0) AS size FROM log_entry")
    return int(rows[0]["size"])


async def subtree_hashes(nodes: Collection[Node]) -> dict[Node, bytes]:
    """The stored hashes of those of ``nodes`` that exist (one query)."""
    if not nodes:
        return {}
    rows = await LogNode.select(LogNode.id, LogNode.hash).where(
        LogNode.id.is_in([node_id(n) for n in nodes])
    )
    return {_node_of(int(r["id"])): bytes(r["hash"]) for r in rows}


async def append_entries(entries: Sequence[NewEntry], *, recorded_at: datetime) -> list[int]:
    """Append ``entries`` in order; answers their leaf indexes.

    Must be called inside a write transaction (`registry.db.write_transaction`):
    the entries, their hashes and the caller's rows commit together.
    """
    if not entries:
        return []
    if isinstance(LogEntry._meta.db, PostgresEngine):
        await LogEntry.raw("SELECT pg_advisory_xact_lock({})", _APPEND_LOCK)
    size = await log_size()
    edge: Mapping[Node, bytes] = await subtree_hashes(root_nodes(size))
    stored = append_leaves(
        [leaf_hash(entry.jws.encode("ascii")) for entry in entries], size=size, edge=edge
    )
    indexes = list(range(size, size + len(entries)))
    engine = LogEntry._meta.db
    await insert_rows(
        engine,
        "log_entry",
        ("id", "typ", "jws", "recorded_at", "number", "body"),
        [
            (index, e.typ, e.jws, e.recorded_at or recorded_at, e.number, e.body)
            for index, e in zip(indexes, entries, strict=True)
        ],
    )
    await insert_rows(
        engine, "log_node", ("id", "hash"), [(node_id(node), h) for node, h in stored.items()]
    )
    return indexes


# Proofs (`registry.log.services`) read the checkpointed size and the planned
# subtree hashes in one query. The LEFT JOIN keeps one row when no node matches.
_PROOF_SQL: Final = (
    "SELECT c.signed, n.id, n.hash "
    "FROM (SELECT COALESCE(MAX(size), 0) AS signed FROM log_checkpoint) AS c "
    "LEFT JOIN log_node AS n ON n.id IN ({})"
)
_PROOF_SQL_POSTGRES: Final = (
    "SELECT c.signed, n.id, n.hash "
    "FROM (SELECT COALESCE(MAX(size), 0) AS signed FROM log_checkpoint) AS c "
    "LEFT JOIN log_node AS n ON n.id = ANY($1::bigint[])"
)


class _SQLiteProofConnections(threading.local):
    conn: sqlite3.Connection | None = None
    #: (st_dev, st_ino) of the file `conn` opened: a file replaced at the same
    #: path (a restored backup, a test's fresh database) is opened again.
    file: tuple[int, int] | None = None


#: One long-lived read-only connection per SQLite file and thread.
_sqlite_proof_connections: dict[str, _SQLiteProofConnections] = {}


def sqlite_read_connection(path: str) -> sqlite3.Connection:
    """This thread's long-lived read-only connection to the SQLite file at `path`.

    For the log's hot reads (proofs; the checkpoints covering a page's
    documents): Piccolo's SQLite engine opens a connection, in a thread of
    its own, for every query. WAL lets this one see every commit at its next
    statement. Never inside a write transaction: it cannot see its rows.
    """
    local = _sqlite_proof_connections.setdefault(path, _SQLiteProofConnections())
    stat = os.stat(path)
    file = (stat.st_dev, stat.st_ino)
    if local.conn is None or local.file != file:
        if local.conn is not None:
            local.conn.close()
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        conn.execute("PRAGMA query_only = ON")
        local.conn, local.file = conn, file
    return local.conn


async def checkpointed_hashes(nodes: Collection[Node]) -> tuple[int, dict[Node, bytes]]:
    """The size of the latest signed checkpoint and the stored hashes of ``nodes``, in one query.

    What a proof reads (PRODUCT §3). Outside a transaction it does not go
    through Piccolo: on SQLite a long-lived read-only connection per thread
    (WAL lets it see every commit at its next query), on PostgreSQL a pooled
    connection, one round trip. Piccolo's SQLite engine opens a connection for
    every query, which was most of a proof's time (docs/benchmarks.md).
    """
    ids = sorted({node_id(n) for n in nodes})
    engine = LogNode._meta.db
    rows: list[tuple[Any, Any, Any]]
    if engine.current_transaction.get() is not None:
        # Inside a transaction the rows may be its own, uncommitted.
        result = await engine.run_querystring(
            QueryString(_PROOF_SQL.format(", ".join("{}" for _ in ids) or "NULL"), *ids)
            if not isinstance(engine, PostgresEngine)
            else QueryString(_PROOF_SQL_POSTGRES.replace("$1", "{}"), ids)
        )
        rows = [(r["signed"], r["id"], r["hash"]) for r in result]
    elif isinstance(engine, SQLiteEngine):
        conn = sqlite_read_connection(str(engine.connection_kwargs["database"]))
        sql = _PROOF_SQL.format(", ".join("?" for _ in ids) or "NULL")
        rows = conn.execute(sql, ids).fetchall()
    elif isinstance(engine, PostgresEngine) and engine.pool is not None:
        async with engine.pool.acquire() as conn:
            rows = [tuple(r) for r in await conn.fetch(_PROOF_SQL_POSTGRES, ids)]
    else:
        result = await engine.run_querystring(
            QueryString(_PROOF_SQL_POSTGRES.replace("$1", "{}"), ids)
        )
        rows = [(r["signed"], r["id"], r["hash"]) for r in result]
    signed = int(rows[0][0])
    hashes = {_node_of(int(row_id)): bytes(h) for _, row_id, h in rows if row_id is not None}
    return signed, hashes
