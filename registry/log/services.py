"""Checkpoints, proofs, entries and bundles of the transparency log (PRODUCT §3).

Checkpoints are signed on demand: whoever asks for the latest checkpoint
(`GET /log/checkpoint`, a receipt, a bundle) and finds the log larger than the
newest one signed, signs one for the current size and stores it (a second
process signing the same size at the same time stores nothing more: the size
is the key, and Ed25519 is deterministic, so both signed the same bytes). A
checkpoint covering a write is therefore served at the first request after it,
from any process, well within the 5 seconds PRODUCT §3 allows.

A proof reads the latest checkpoint's size and its O(log n) stored subtree
hashes in one query (`signing.merkle` plans which; `registry.log.store`
fetches them over a long-lived read connection).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from registry.errors import FieldError, InvalidInputError, NotFoundError
from registry.log.store import (
    checkpointed_hashes,
    log_size,
    sqlite_read_connection,
    subtree_hashes,
)
from registry.log.tables import LogCheckpoint, LogEntry
from signing.checkpoint import Checkpoint, sign_checkpoint
from signing.documents import KeyStatementPayload
from signing.errors import SigningError
from signing.fields import read_json
from signing.jws import KEY_TYP, CompactJWS
from signing.keys import PrivateKey
from signing.merkle import (
    Node,
    assemble_consistency_proof,
    assemble_inclusion_proof,
    assemble_root_hash,
    consistency_proof_nodes,
    inclusion_proof_nodes,
    leaf_hash,
    root_nodes,
)
from signing.note import NoteSigner, NoteVerifier

__all__ = [
    "MAX_ENTRIES",
    "SignedCheckpoint",
    "consistency",
    "covering_checkpoint_sizes",
    "entries",
    "inclusion",
    "key_statement_of",
    "latest_checkpoint",
    "verifier_key",
]

#: PRODUCT §3: `GET /api/v1/log/entries` gives at most 1000 entries a call.
MAX_ENTRIES: Final = 1000

#: Leaves looked up per query by `covering_checkpoint_sizes`.
_COVERING_CHUNK: Final = 500

#: Gives the registry's own signing key (created on first use).
RegistrySigner = Callable[[], Awaitable[PrivateKey]]


def b64(data: bytes) -> str:
    """Standard base64, as C2SP checkpoints and the proof APIs write hashes."""
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    size: int
    root: bytes
    #: The signed note, exactly as served.
    text: str

    def summary(self, origin: str) -> dict[str, Any]:
        """``{"origin", "size", "root"}``: what a receipt records (PRODUCT §3)."""
        return {"origin": origin, "size": self.size, "root": b64(self.root)}


def verifier_key(origin: str, key: PrivateKey) -> str:
    """`GET /log/key`: ``origin+hex(keyhash)+base64(0x01 || pubkey)``."""
    return NoteVerifier.for_key(origin, key.public_key).to_text()


async def _stored_latest() -> SignedCheckpoint | None:
    row = (
        await LogCheckpoint.select(LogCheckpoint.size, LogCheckpoint.root, LogCheckpoint.text)
        .order_by(LogCheckpoint.size, ascending=False)
        .first()
    )
    if row is None:
        return None
    return SignedCheckpoint(int(row["size"]), bytes(row["root"]), str(row["text"]))


async def latest_checkpoint(
    *, origin: str, signer: RegistrySigner, now: datetime
) -> SignedCheckpoint:
    """The checkpoint of the log as it is now: the stored one, or a new one signed."""
    size = await log_size()
    stored = await _stored_latest()
    if stored is not None and stored.size >= size:
        return stored
    root = assemble_root_hash(size, await subtree_hashes(root_nodes(size)))
    note = sign_checkpoint(
        Checkpoint(origin=origin, size=size, root=root),
        signer=NoteSigner(name=origin, key=await signer()),
    )
    await LogCheckpoint.insert(
        LogCheckpoint(size=size, root=root, text=note, created_at=now)
    ).on_conflict(target=LogCheckpoint.size, action="DO NOTHING")
    return SignedCheckpoint(size, root, note)


async def covering_checkpoint_sizes(
    indexes: Collection[int], *, engine: Engine[Any]
) -> dict[int, int]:
    """The size of the first signed checkpoint that covers each leaf of `indexes`.

    A checkpoint of size n covers leaves 0..n-1 (RFC 6962 §2.1), so it is the
    smallest stored size above the index. An index no checkpoint covers yet is
    left out. One query through `engine` (the read engine: the replica, if
    any); outside a transaction over a long-lived connection (SQLite) or the
    pool (PostgreSQL), not a Piccolo query: the page asks this when the
    database has changed, for every certificate asked at once.
    """
    wanted = sorted(set(indexes))
    covered: dict[int, int] = {}
    # A column per index, in chunks: SQLite allows at most 2000 result columns.
    for start in range(0, len(wanted), _COVERING_CHUNK):
        chunk = wanted[start : start + _COVERING_CHUNK]
        for index, size in zip(chunk, await _covering(chunk, engine), strict=True):
            if size is not None:
                covered[index] = int(size)
    return covered


_FIRST_COVERING: Final = "(SELECT MIN(size) FROM log_checkpoint WHERE size > {})"


async def _covering(chunk: list[int], engine: Engine[Any]) -> list[Any]:
    """The first covering size of each index of `chunk`, in order (None: not covered)."""

    def select(mark: Callable[[int], str]) -> str:
        return "SELECT " + ", ".join(
            _FIRST_COVERING.format(mark(i)) + f" AS c{i}" for i in range(len(chunk))
        )

    if engine.current_transaction.get() is None:
        if isinstance(engine, SQLiteEngine):
            conn = sqlite_read_connection(str(engine.connection_kwargs["database"]))
            return list(conn.execute(select(lambda _: "?"), chunk).fetchone())
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            async with engine.pool.acquire() as pooled:
                return list(await pooled.fetchrow(select(lambda i: f"${i + 1}"), *chunk))
    rows = await engine.run_querystring(QueryString(select(lambda _: "{}"), *chunk))
    return [rows[0][f"c{i}"] for i in range(len(chunk))]


def _whole(value: str | None, name: str, *, minimum: int = 0) -> int:
    """A query parameter that must be a whole number (4xx otherwise, never 5xx)."""
    if value is None or value == "":
        raise InvalidInputError(f"{name} is required", errors=[FieldError(name, "is required")])
    # ASCII digits only: `isdigit` also holds for '¹' or '٣', which `int` refuses or reads.
    if not (value.isascii() and value.isdigit()) or len(value) > 18 or int(value) < minimum:
        raise InvalidInputError(
            f"{name} must be a whole number from {minimum}, got {value[:40]!r}",
            errors=[FieldError(name, f"a whole number from {minimum}")],
        )
    return int(value)


async def inclusion(index_text: str | None, size_text: str | None) -> dict[str, Any]:
    """`GET /api/v1/log/proofs/inclusion?index=&size=` (RFC 6962 §2.1.1).

    Raises:
        InvalidInputError: not whole numbers, an index outside the tree, or a
            size beyond the latest checkpoint.
    """
    index = _whole(index_text, "index")
    size = _whole(size_text, "size", minimum=1)
    leaf = Node(0, index)
    # One query: the checkpointed size and the planned nodes (none for a bad index).
    planned = [*inclusion_proof_nodes(index, size), leaf] if index < size else []
    signed, hashes = await checkpointed_hashes(planned)
    if size > signed:
        raise InvalidInputError(
            f"size {size} is beyond the latest checkpoint ({signed}): fetch /log/checkpoint",
            errors=[FieldError("size", f"at most {signed}")],
        )
    if index >= size:
        raise InvalidInputError(
            f"index {index} is outside a tree of size {size}",
            errors=[FieldError("index", f"less than size ({size})")],
        )
    proof = assemble_inclusion_proof(index, size, hashes)
    return {
        "index": index,
        "size": size,
        "leaf_hash": b64(hashes[leaf]),
        "proof": [b64(h) for h in proof],
    }


async def consistency(from_text: str | None, to_text: str | None) -> dict[str, Any]:
    """`GET /api/v1/log/proofs/consistency?from=&to=` (RFC 6962 §2.1.2).

    Raises:
        InvalidInputError: not whole numbers, ``from`` of 0 (RFC 9162 §2.1.4
            defines no proof from an empty tree), ``from > to``, or ``to``
            beyond the latest checkpoint.
    """
    old = _whole(from_text, "from", minimum=1)
    new = _whole(to_text, "to", minimum=1)
    # One query: the checkpointed size and the planned nodes (none when from > to).
    planned = consistency_proof_nodes(old, new) if old <= new else []
    signed, hashes = await checkpointed_hashes(planned)
    if new > signed:
        raise InvalidInputError(
            f"to={new} is beyond the latest checkpoint ({signed}): fetch /log/checkpoint",
            errors=[FieldError("to", f"at most {signed}")],
        )
    if old > new:
        raise InvalidInputError(
            f"from={old} is larger than to={new}", errors=[FieldError("from", "at most `to`")]
        )
    proof = assemble_consistency_proof(old, new, hashes)
    return {"from": old, "to": new, "proof": [b64(h) for h in proof]}


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    recorded: datetime = row["recorded_at"]
    return {
        "index": int(row["id"]),
        "typ": str(row["typ"]),
        "jws": str(row["jws"]),
        "recorded_at": recorded.isoformat().replace("+00:00", "Z"),
    }


async def entries(start_text: str | None, end_text: str | None) -> dict[str, Any]:
    """`GET /api/v1/log/entries?start=&end=` (end exclusive, at most 1000 a call).

    Raises:
        InvalidInputError: not whole numbers, ``end <= start``, or more than 1000.
    """
    start = _whole(start_text, "start")
    end = _whole(end_text, "end", minimum=1)
    if end <= start or end - start > MAX_ENTRIES:
        raise InvalidInputError(
            f"give start < end with at most {MAX_ENTRIES} entries, got {start}..{end}",
            errors=[FieldError("end", f"greater than start, at most start + {MAX_ENTRIES}")],
        )
    rows = (
        await LogEntry.select(LogEntry.id, LogEntry.typ, LogEntry.jws, LogEntry.recorded_at)
        .where((LogEntry.id >= start) & (LogEntry.id < end))
        .order_by(LogEntry.id)
    )
    return {"entries": [_entry(r) for r in rows]}


async def bundle(
    index_text: str | None, *, origin: str, signer: RegistrySigner, now: datetime
) -> dict[str, Any]:
    """`GET /api/v1/log/bundle?index=`: a document with what checks it offline.

    ``{"jws", "index", "checkpoint", "proof"}``: the entry's JWS, its inclusion
    proof in the tree of the latest checkpoint, and that signed checkpoint
    (`starmark verify BUNDLE --jwks J --log-key K`).

    Raises:
        InvalidInputError: not a whole number.
        NotFoundError: no such entry.
    """
    index = _whole(index_text, "index")
    row = await LogEntry.select(LogEntry.jws, LogEntry.body).where(LogEntry.id == index).first()
    if row is None:
        raise NotFoundError(f"the log has no entry {index}")
    checkpoint = await latest_checkpoint(origin=origin, signer=signer, now=now)
    token = str(row["jws"])
    statements = await _key_statements_of(token, str(row["body"]), size=checkpoint.size)
    return {
        "jws": token,
        "index": index,
        "checkpoint": checkpoint.text,
        "proof": await _inclusion_proof(index, checkpoint.size),
        "key_statements": [
            {"jws": jws, "index": at, "proof": await _inclusion_proof(at, checkpoint.size)}
            for at, jws in statements
        ],
    }


async def _inclusion_proof(index: int, size: int) -> list[str]:
    hashes = await subtree_hashes(inclusion_proof_nodes(index, size))
    return [b64(h) for h in assemble_inclusion_proof(index, size, hashes)]


async def _key_statements_of(token: str, body: str, *, size: int) -> list[tuple[int, str]]:
    """The log's statements (index, JWS) about the key that signed ``token``, below ``size``.

    A bundle carries them so an offline verifier judges a compromised key by
    log position, as the registry does (`signing.verdict.compromise_marks`).
    """
    try:
        kid = CompactJWS.parse(token).kid
    except SigningError:
        return []
    rows = (
        await LogEntry.select(LogEntry.id, LogEntry.jws)
        .where((LogEntry.typ == KEY_TYP) & (LogEntry.body == body) & (LogEntry.id < size))
        .order_by(LogEntry.id)
    )
    out = []
    for r in rows:
        statement = key_statement_of(str(r["jws"]))
        if statement is not None and statement.kid == kid:
            out.append((int(r["id"]), str(r["jws"])))
    return out


def key_statement_of(token: str) -> KeyStatementPayload | None:
    """The payload of a logged key statement, read (not verified: the log's own
    entries, to find them by kid); None when it does not read."""
    try:
        return KeyStatementPayload.from_json(read_json(CompactJWS.parse(token).payload_bytes))
    except SigningError:
        return None


def entry_leaf_hash(jws: str) -> bytes:
    """RFC 6962 §2.1: the leaf hash of a log entry (its JWS's ASCII bytes)."""
    return leaf_hash(jws.encode("ascii"))
