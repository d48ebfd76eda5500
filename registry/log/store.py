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

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from piccolo.engine.postgres import PostgresEngine

from registry.db import insert_rows
from registry.log.tables import LogEntry, LogNode
from signing.merkle import Node, append_leaves, leaf_hash, root_nodes

__all__ = [
    "NewEntry",
    "append_entries",
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
