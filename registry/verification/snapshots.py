"""Loading what the registry holds about certificates: one *snapshot* each.

A snapshot is one JSON text made by one query: the certificate row (the
copies that lists and filters use) and its body's code, every revision and
status event as the transparency log holds them (the exact JWS texts, in log
order, with their leaf index and the time the registry recorded them: the
revision and event tables are indexes, never read here, so a row deleted or
edited there changes no answer), the body's keys, and the body's English name
and contact details (`BodyCard`: shown beside the certificate, never judged).
The same text, parsed once by `Snapshot.parse`, feeds every answer
(`registry.verification.judging`); it is also the key of the page's caches,
since a changed row changes the text.

Two ways in, one query shape:

* `SnapshotReader.read(number)`: one certificate, for the verification page
  and the APIs about one certificate. On SQLite a long-lived read-only
  connection per thread with the standard library's `sqlite3` (Piccolo's
  engine opens a connection for every query, NOTES.md), and snapshots are
  kept while `PRAGMA data_version` says no one has committed since. On
  PostgreSQL the same, kept while the `registry_change` counter (bumped by
  triggers in every writing transaction) stays the same.
* `SnapshotReader.read_many(numbers=, usccs=)`: many certificates in one
  query (bulk checks, search results, feeds), found by number or by the
  USCC copy column. Finding is all a copy does: the judge decides.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

import anyio.to_thread
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from registry.bodies.services import key_record_from_row
from registry.certificates.columns import COPIED_COLUMNS
from signing.errors import SigningError
from signing.jwks import KeySet
from signing.keys import KeyRecord, PublicKey
from signing.verdict import compromise_marks

__all__ = [
    "COPIED_COLUMNS",
    "BodyCard",
    "LoggedDocument",
    "PiccoloSnapshotReader",
    "PostgresSnapshotReader",
    "SQLiteSnapshotReader",
    "Snapshot",
    "SnapshotReader",
    "reader_for",
]

#: Snapshot texts kept per thread while the database is unchanged (a few KB each).
SNAPSHOTS_PER_THREAD: Final = 2048

_ROW_MEMBERS: Final = ", ".join(
    f"'{column}', c.{column}" for column in (*COPIED_COLUMNS, "status", "event_count")
)

# One query, one JSON text per certificate. The order of the members is fixed,
# so the same rows always give the same text. WHERE is filled in per use.
_SQLITE_SNAPSHOT: Final = f"""
SELECT json_object(
  'certificate', json_object('number', c.number, 'body_code', b.code, {_ROW_MEMBERS}),
  'revisions', json((SELECT json_group_array(json_array(l.id, l.jws, l.recorded_at))
                     FROM (SELECT id, jws, recorded_at FROM log_entry
                           WHERE number = c.number AND typ = 'starmark-cert+jws'
                           ORDER BY id) AS l)),
  'events', json((SELECT json_group_array(json_array(l.id, l.jws, l.recorded_at))
                  FROM (SELECT id, jws, recorded_at FROM log_entry
                        WHERE number = c.number AND typ = 'starmark-status+jws'
                        ORDER BY id) AS l)),
  'keys', json((SELECT json_group_array(json_array(
                  k.kid, k.public_jwk, k.not_before, k.not_after, k.state, k.compromised_at))
                FROM (SELECT kid, public_jwk, not_before, not_after, state, compromised_at
                      FROM signing_key WHERE body = c.body ORDER BY id) AS k)),
  'key_statements', json((SELECT json_group_array(json_array(l.id, l.jws))
                          FROM (SELECT id, jws FROM log_entry
                                WHERE body = b.code AND typ = 'starmark-key+jws'
                                ORDER BY id) AS l)),
  'registry_keys', json((SELECT json_group_array(k.public_jwk)
                         FROM (SELECT public_jwk FROM signing_key WHERE body IS NULL
                               ORDER BY id) AS k)),
  'body', json_object('name_en', b.name_en, 'approval_no', b.approval_no,
                      'website', b.website, 'phone', b.phone)
) AS snapshot
FROM certificate AS c JOIN certification_body AS b ON b.id = c.body
WHERE """  # noqa: S608 - column names from this module

_POSTGRES_SNAPSHOT: Final = f"""
SELECT json_build_object(
  'certificate', json_build_object('number', c.number, 'body_code', b.code, {_ROW_MEMBERS}),
  'revisions', coalesce((SELECT json_agg(json_build_array(l.id, l.jws, l.recorded_at)
                                         ORDER BY l.id)
                         FROM log_entry AS l
                         WHERE l.number = c.number AND l.typ = 'starmark-cert+jws'), '[]'::json),
  'events', coalesce((SELECT json_agg(json_build_array(l.id, l.jws, l.recorded_at) ORDER BY l.id)
                      FROM log_entry AS l
                      WHERE l.number = c.number AND l.typ = 'starmark-status+jws'), '[]'::json),
  'keys', coalesce((SELECT json_agg(json_build_array(
                              k.kid, k.public_jwk, k.not_before, k.not_after, k.state,
                              k.compromised_at) ORDER BY k.id)
                    FROM signing_key AS k WHERE k.body = c.body), '[]'::json),
  'key_statements', coalesce((SELECT json_agg(json_build_array(l.id, l.jws) ORDER BY l.id)
                              FROM log_entry AS l
                              WHERE l.body = b.code AND l.typ = 'starmark-key+jws'), '[]'::json),
  'registry_keys', coalesce((SELECT json_agg(k.public_jwk ORDER BY k.id)
                             FROM signing_key AS k WHERE k.body IS NULL), '[]'::json),
  'body', json_build_object('name_en', b.name_en, 'approval_no', b.approval_no,
                            'website', b.website, 'phone', b.phone)
)::text AS snapshot
FROM certificate AS c JOIN certification_body AS b ON b.id = c.body
WHERE """  # noqa: S608 - column names from this module


def _instant(value: Any) -> datetime:
    """A timestamp as SQLite (text) or PostgreSQL (ISO JSON) gives it, aware.

    Raises:
        ValueError: not a timestamp with an offset.
    """
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without offset: {value!r}")
    return parsed


def _optional_instant(value: Any) -> datetime | None:
    return None if value is None else _instant(value)


@functools.lru_cache(maxsize=1024)
def _compromise_marks(
    statements: tuple[tuple[int, str], ...], registry_jwks: tuple[str, ...], body_code: str
) -> dict[str, tuple[datetime, int]]:
    """`signing.verdict.compromise_marks` over a body's key statements, kept while they
    stay the same (a body's certificates share them: one signature check each).

    Raises:
        SigningError: a statement or a registry key that does not read or verify.
    """
    registry_keys = KeySet(
        KeyRecord(PublicKey.from_jwk(json.loads(jwk)), body="registry") for jwk in registry_jwks
    )
    return compromise_marks(statements, registry_keys=registry_keys, body=body_code)


@dataclass(frozen=True, slots=True)
class LoggedDocument:
    """A signed document as the transparency log holds it: its leaf, JWS and time."""

    log_index: int
    jws: str
    #: When the registry accepted it: the time the registry trusts.
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class BodyCard:
    """What the registry knows about the issuing body besides its signed name and code:
    registry data, shown beside the certificate, never part of the verdict."""

    name_en: str | None = None
    approval_no: str | None = None
    website: str | None = None
    phone: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> BodyCard:
        if not isinstance(data, dict):
            return cls()

        def text(name: str) -> str | None:
            value = data.get(name)
            return str(value) if value else None

        website = text("website")
        if website is not None and not website.startswith(("https://", "http://")):
            # Checked when written (registry.bodies); a row edited behind the app
            # must not put a javascript: link on the page.
            website = None
        return cls(
            name_en=text("name_en"),
            approval_no=text("approval_no"),
            website=website,
            phone=text("phone"),
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the database holds about one certificate, parsed from its snapshot text."""

    #: The text as read: the cache key of everything derived from it.
    text: str
    number: str
    body_code: str
    #: The copy columns (`COPIED_COLUMNS`) and `status`, `event_count`, as stored.
    row: dict[str, Any]
    #: The certificate's revisions and status events, in log order (the order
    #: the registry recorded them), read from the log itself (registry/log).
    revisions: tuple[LoggedDocument, ...]
    events: tuple[LoggedDocument, ...]
    #: The body's keys; empty when a key row is damaged (it vouches for nothing).
    keys: KeySet
    #: The body's English name and contact details (registry data, not signed).
    body: BodyCard = field(default_factory=BodyCard)

    @classmethod
    def parse(cls, text: str) -> Snapshot:
        """Read a snapshot text.

        Raises:
            ValueError, TypeError, KeyError: a stored row cannot be read at all
                (a timestamp without offset, a missing member).
        """
        data = json.loads(text)
        row = data["certificate"]
        body_code = str(row["body_code"])
        try:
            keys = KeySet.of(
                *(
                    key_record_from_row(
                        {
                            "public_jwk": public_jwk,
                            "not_before": _instant(not_before),
                            "not_after": _optional_instant(not_after),
                            "state": state,
                            "compromised_at": _optional_instant(compromised_at),
                        },
                        body_code,
                    )
                    for _, public_jwk, not_before, not_after, state, compromised_at in data["keys"]
                )
            )
            marks = _compromise_marks(
                tuple((int(i), str(jws)) for i, jws in data["key_statements"]),
                tuple(str(jwk) for jwk in data["registry_keys"]),
                body_code,
            )
            keys = keys.with_compromises(marks)
        except SigningError:
            # A damaged key row or key statement: the body's keys vouch for nothing.
            keys = KeySet.of()
        return cls(
            text=text,
            number=str(row["number"]),
            body_code=body_code,
            row=row,
            revisions=tuple(
                LoggedDocument(int(index), str(jws), _instant(recorded_at))
                for index, jws, recorded_at in data["revisions"]
            ),
            events=tuple(
                LoggedDocument(int(index), str(jws), _instant(recorded_at))
                for index, jws, recorded_at in data["events"]
            ),
            keys=keys,
            body=BodyCard.from_json(data.get("body")),
        )


class SnapshotReader(Protocol):
    async def read(self, number: str) -> str | None:
        """The snapshot text of certificate `number` (canonical), or None."""

    async def read_many(
        self, *, numbers: Collection[str] = (), usccs: Collection[str] = ()
    ) -> list[str]:
        """The snapshot texts of the certificates with these numbers or USCC copies."""

    def generation(self) -> int | None:
        """What the database looked like at this task's last `read`, as a number.

        It changes whenever anything was committed since (the signed
        checkpoints included); None when this reader cannot tell. Asked right
        after `read`, with no await between.
        """

    def close(self) -> None:
        """Release connections."""


def _where_many(numbers: Sequence[str], usccs: Sequence[str], mark: str) -> str:
    parts = []
    if numbers:
        parts.append(f"c.number IN ({', '.join(mark for _ in numbers)})")
    if usccs:
        parts.append(f"c.uscc IN ({', '.join(mark for _ in usccs)})")
    return " OR ".join(parts)


class _ThreadReader(threading.local):
    conn: sqlite3.Connection | None = None
    #: `PRAGMA data_version` when `snapshots` were read.
    version: int = -1
    #: `version` was asked in the event loop's current iteration.
    checked: bool = False
    snapshots: dict[str, str | None]

    def __init__(self) -> None:
        self.snapshots = {}

    def forget_check(self) -> None:
        self.checked = False


class SQLiteSnapshotReader:
    """Reads snapshots over one long-lived connection per thread.

    WAL mode (set by `db.start`) lets this reader see every committed write at
    its next query while writers proceed; `query_only` makes it unable to write.

    `PRAGMA data_version` changes whenever another connection (or process) has
    committed since this connection last asked (https://sqlite.org/pragma.html#pragma_data_version).
    While it stays the same, the snapshots this thread has read are still the
    database's current rows, so a request costs that pragma (about 3 µs) instead
    of the snapshot query (about 14 µs, bench/bench_verify_page.py).

    The reads of one event-loop iteration share one pragma (a tenth of the
    page's rate when served, under load). That is still a read of the
    database as it was during each of those requests: a request's task first
    runs in the iteration after its bytes arrived, so every request read in
    this iteration had arrived before the pragma ran, and is answered after
    it. A write that finishes in this process (its future resolved) resumes
    its waiter in a later iteration, and a client that saw a write's answer
    sends its next request later still: both look again.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = _ThreadReader()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn = self._local.conn
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=5.0
            )
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    async def read(self, number: str) -> str | None:
        conn = self._connection()
        local = self._local
        snapshots = local.snapshots
        if not local.checked:
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version != local.version:
                snapshots.clear()
                local.version = version
            local.checked = True
            asyncio.get_running_loop().call_soon(local.forget_check)
        try:
            return snapshots[number]
        except KeyError:
            pass
        # A commit between the pragma and this query only makes the snapshot newer
        # than `version`: the next request sees a new version and reads again.
        row = conn.execute(_SQLITE_SNAPSHOT + "c.number = ?", (number,)).fetchone()
        snapshot = None if row is None else str(row[0])
        if len(snapshots) >= SNAPSHOTS_PER_THREAD:
            snapshots.clear()
        snapshots[number] = snapshot
        return snapshot

    def generation(self) -> int | None:
        # `PRAGMA data_version` of this thread's connection: any commit by another
        # connection, of any table, changes it.
        version = self._local.version
        return None if version < 0 else version

    async def read_many(
        self, *, numbers: Collection[str] = (), usccs: Collection[str] = ()
    ) -> list[str]:
        numbers, usccs = sorted(set(numbers)), sorted(set(usccs))
        if not numbers and not usccs:
            return []

        def query() -> list[str]:
            # In a worker thread (its own connection): hundreds of snapshots take
            # milliseconds, which the event loop should not wait for.
            sql = _SQLITE_SNAPSHOT + _where_many(numbers, usccs, "?") + " ORDER BY c.number"
            return [str(r[0]) for r in self._connection().execute(sql, (*numbers, *usccs))]

        return await anyio.to_thread.run_sync(query)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = _ThreadReader()


class PiccoloSnapshotReader:
    """Reads snapshots through a Piccolo engine (PostgreSQL: its pool when started)."""

    def __init__(self, engine: Engine[Any]) -> None:
        self.engine = engine
        self._template = (
            _SQLITE_SNAPSHOT if isinstance(engine, SQLiteEngine) else _POSTGRES_SNAPSHOT
        )

    async def read(self, number: str) -> str | None:
        rows = await self.engine.run_querystring(
            QueryString(self._template + "c.number = {}", number)
        )
        return None if not rows else str(rows[0]["snapshot"])

    async def read_many(
        self, *, numbers: Collection[str] = (), usccs: Collection[str] = ()
    ) -> list[str]:
        numbers, usccs = sorted(set(numbers)), sorted(set(usccs))
        if not numbers and not usccs:
            return []
        sql = self._template + _where_many(numbers, usccs, "{}") + " ORDER BY c.number"
        rows = await self.engine.run_querystring(QueryString(sql, *numbers, *usccs))
        return [str(r["snapshot"]) for r in rows]

    def generation(self) -> int | None:
        return None

    def close(self) -> None:
        pass


#: Bumped in every transaction that writes what a snapshot reads (the
#: migration of 2026-12-02); read once a request.
_CHANGE_COUNTER: Final = "SELECT counter FROM registry_change"


class PostgresSnapshotReader(PiccoloSnapshotReader):
    """`PiccoloSnapshotReader` with the page's snapshot cache, on PostgreSQL.

    The snapshots read by `read` are kept in this process while the
    `registry_change` counter is the one read with them: triggers bump it in
    the transaction of every write to the tables a snapshot is made of, so a
    commit from any process changes it for the next request. A request costs
    that one-row read instead of the snapshot query (bench/bench_verify_page.py).

    Requests that arrive together share one read of the counter: a request
    waits for the next read that *starts* after it arrived (never one already
    under way, which may have missed a commit the request must see), so at
    most one read is in flight and a busy process asks once per round trip,
    not once per request.
    """

    def __init__(self, engine: PostgresEngine) -> None:
        super().__init__(engine)
        self.postgres = engine
        #: The counter when `snapshots` were read (None: nothing read yet).
        self.counter: int | None = None
        self.snapshots: dict[str, str | None] = {}
        #: Requests waiting for the next read of the counter (not started yet),
        #: on `_loop`; `_reading` reads for them while there are any.
        self._waiting: list[asyncio.Future[int]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading: asyncio.Task[None] | None = None
        #: The counter the last `read` went by (None: read inside a transaction).
        self._generation: int | None = None

    def generation(self) -> int | None:
        return self._generation

    async def read(self, number: str) -> str | None:
        if self.postgres.current_transaction.get() is not None:
            # Inside a transaction the rows may be its own, uncommitted: never cached.
            self._generation = None
            return await super().read(number)
        counter = await self._counter()
        self._generation = counter
        if counter != self.counter:
            self.snapshots = {}
            self.counter = counter
        snapshots = self.snapshots
        try:
            return snapshots[number]
        except KeyError:
            pass
        # Another statement, another snapshot of the database: a commit in
        # between only makes this text newer than `counter`, and the next
        # request reads a new counter and drops it.
        async with self._connection() as conn:
            text = await conn.fetchval(_POSTGRES_SNAPSHOT + "c.number = $1", number)
        snapshot = None if text is None else str(text)
        if len(snapshots) >= SNAPSHOTS_PER_THREAD:
            snapshots.clear()
        snapshots[number] = snapshot
        return snapshot

    async def _counter(self) -> int:
        """The counter, read after this call began."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A reader outlives an event loop in tests (a loop per call).
            self._loop, self._waiting, self._reading = loop, [], None
        # A future of its own: a caller that goes away cancels only its wait.
        future: asyncio.Future[int] = loop.create_future()
        self._waiting.append(future)
        if self._reading is None:
            self._reading = loop.create_task(self._read_counters())
        return await future

    async def _read_counters(self) -> None:
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, []
                try:
                    async with self._connection() as conn:
                        value = int(await conn.fetchval(_CHANGE_COUNTER))
                except Exception as e:
                    for future in waiting:
                        if not future.done():
                            future.set_exception(e)
                else:
                    for future in waiting:
                        if not future.done():
                            future.set_result(value)
        finally:
            self._reading = None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        # The engine's pool once started (`db.start`), else a connection of its own.
        pool = self.postgres.pool
        if pool is not None:
            async with pool.acquire() as conn:
                yield conn
            return
        conn = await self.postgres.get_new_connection()
        try:
            yield conn
        finally:
            await conn.close()


def reader_for(engine: Engine[Any]) -> SnapshotReader:
    if isinstance(engine, SQLiteEngine):
        return SQLiteSnapshotReader(str(engine.connection_kwargs["database"]))
    if isinstance(engine, PostgresEngine):
        return PostgresSnapshotReader(engine)
    return PiccoloSnapshotReader(engine)
