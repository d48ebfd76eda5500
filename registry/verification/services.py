"""What the verification page shows, verified on every request and cached by content.

Honesty and freshness (PRODUCT §4, issue 4):

* Every request reads the certificate's *current* rows: the certificate row, its
  body, every revision and status event (the exact JWS texts) and the body's
  keys, in one query that returns them as one JSON text, the *snapshot*.
* What is derived from a snapshot (the verdict, with every Ed25519 signature
  checked by `signing.verdict`, and the rendered page) is cached under the
  snapshot text itself. A changed row, a damaged JWS or a key marked compromised
  changes the text, so it is verified afresh; nothing is served from a cache
  that the database no longer backs.
* A row changed without a new signature (a holder name, a level, a status in
  the copy columns that lists and search read) no longer agrees with the signed
  documents: the page then says `signature_invalid`, never green
  (`record_problem`).
* The status "now" changes with time alone (expiry at midnight CST, a start of
  validity, surveillance falling overdue, an event published a little ahead of
  its effective time). A "now" entry is kept only until the next such instant
  (`CertificateView.fresh_until`, at most an hour).

Reading: on SQLite, a long-lived read-only connection per thread with the
standard library's `sqlite3` (Piccolo's engine opens a connection for every
query, NOTES.md); the query takes microseconds and runs on the event loop. On
PostgreSQL the query goes through the Piccolo engine, which uses its asyncpg
pool when `db.start` has made one.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Generic, Protocol, TypeVar

import anyio.to_thread
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString

from registry.bodies.services import key_record_from_row
from registry.certificates.services import certificate_columns, underlying_state
from registry.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from registry.marks import MarkSizeError, mark_url, render_mark
from registry.marks.render import MarkFormat
from signing.documents import CertificatePayload, StatusEventPayload
from signing.errors import InvalidKeyError, MalformedError, SigningError
from signing.identifiers import parse_certificate_number
from signing.instants import end_of_validity, format_instant, start_of_day
from signing.jwks import KeySet
from signing.jws import CompactJWS
from signing.verdict import (
    SignedInput,
    Verdict,
    VerdictStatus,
    certificate_verdict,
    failed_verdict,
)

__all__ = [
    "CertificateView",
    "EventLine",
    "RenderedPage",
    "SnapshotReader",
    "VerificationService",
    "canonical_number",
    "mark_bytes",
    "reader_for",
    "record_problem",
]

#: A "now" answer is re-verified at least this often, whatever the documents say.
MAX_FRESHNESS: Final = timedelta(hours=1)
#: Views (verdict + page data) kept; each holds its rendered pages (5-10 KB a language),
#: so the cache stays under about 25 MB (PRODUCT §7: under 200 MB a worker).
VIEW_CACHE_SIZE: Final = 1024
#: Snapshot texts kept per thread while the database is unchanged (a few KB each).
SNAPSHOTS_PER_THREAD: Final = 2048

#: The certificate row's copies of signed fields (`certificate_columns`), which lists
#: and search show; columns derived for search are not the page's concern.
COPIED_COLUMNS: Final = (
    "holder_name",
    "holder_name_en",
    "uscc",
    "province",
    "level",
    "score",
    "scope_zh",
    "scope_en",
    "issued_on",
    "valid_from",
    "valid_until",
    "current_revision",
)

# One query, one JSON text: the certificate row and its body, every revision and
# event (exact JWS texts, in order) and the body's keys. The order of the members
# is fixed, so the same rows always give the same text.
_SQLITE_SNAPSHOT: Final = """
SELECT json_object(
  'certificate', json_object(
    'id', c.id, 'number', c.number, 'body_code', b.code,
    'holder_name', c.holder_name, 'holder_name_en', c.holder_name_en, 'uscc', c.uscc,
    'province', c.province, 'level', c.level, 'score', c.score,
    'scope_zh', c.scope_zh, 'scope_en', c.scope_en, 'issued_on', c.issued_on,
    'valid_from', c.valid_from, 'valid_until', c.valid_until, 'status', c.status,
    'current_revision', c.current_revision, 'event_count', c.event_count),
  'revisions', json((SELECT json_group_array(json_array(r.revision, r.jws, r.recorded_at))
                     FROM (SELECT revision, jws, recorded_at FROM certificate_revision
                           WHERE certificate = c.id ORDER BY revision) AS r)),
  'events', json((SELECT json_group_array(
                    json_array(e.seq, e.status, e.effective_at, e.reason, e.jws, e.recorded_at))
                  FROM (SELECT seq, status, effective_at, reason, jws, recorded_at
                        FROM status_event WHERE certificate = c.id ORDER BY seq) AS e)),
  'keys', json((SELECT json_group_array(json_array(
                  k.kid, k.public_jwk, k.not_before, k.not_after, k.state, k.compromised_at))
                FROM (SELECT kid, public_jwk, not_before, not_after, state, compromised_at
                      FROM signing_key WHERE body = c.body ORDER BY id) AS k))
)
FROM certificate AS c JOIN certification_body AS b ON b.id = c.body
WHERE c.number = ?
"""

_POSTGRES_SNAPSHOT: Final = """
SELECT json_build_object(
  'certificate', json_build_object(
    'id', c.id, 'number', c.number, 'body_code', b.code,
    'holder_name', c.holder_name, 'holder_name_en', c.holder_name_en, 'uscc', c.uscc,
    'province', c.province, 'level', c.level, 'score', c.score,
    'scope_zh', c.scope_zh, 'scope_en', c.scope_en, 'issued_on', c.issued_on,
    'valid_from', c.valid_from, 'valid_until', c.valid_until, 'status', c.status,
    'current_revision', c.current_revision, 'event_count', c.event_count),
  'revisions', coalesce((SELECT json_agg(json_build_array(r.revision, r.jws, r.recorded_at)
                                         ORDER BY r.revision)
                         FROM certificate_revision AS r WHERE r.certificate = c.id), '[]'::json),
  'events', coalesce((SELECT json_agg(json_build_array(
                                e.seq, e.status, e.effective_at, e.reason, e.jws, e.recorded_at)
                              ORDER BY e.seq)
                      FROM status_event AS e WHERE e.certificate = c.id), '[]'::json),
  'keys', coalesce((SELECT json_agg(json_build_array(
                              k.kid, k.public_jwk, k.not_before, k.not_after, k.state,
                              k.compromised_at) ORDER BY k.id)
                    FROM signing_key AS k WHERE k.body = c.body), '[]'::json)
)::text AS snapshot
FROM certificate AS c JOIN certification_body AS b ON b.id = c.body
WHERE c.number = {}
"""


def canonical_number(text: str) -> str | None:
    """The upper-case certificate number, or None when `text` cannot be one."""
    try:
        return parse_certificate_number(text)
    except MalformedError:
        return None


# --------------------------------------------------------------------------- reading


class SnapshotReader(Protocol):
    async def read(self, number: str) -> str | None:
        """The snapshot JSON text of certificate `number` (canonical), or None."""

    def close(self) -> None:
        """Release connections."""


class _ThreadReader(threading.local):
    conn: sqlite3.Connection | None = None
    #: `PRAGMA data_version` when `snapshots` were read.
    version: int = -1
    snapshots: dict[str, str | None]

    def __init__(self) -> None:
        self.snapshots = {}


class SQLiteSnapshotReader:
    """Reads snapshots over one long-lived connection per thread.

    WAL mode (set by `db.start`) lets this reader see every committed write at
    its next query while writers proceed; `query_only` makes it unable to write.

    `PRAGMA data_version` changes whenever another connection (or process) has
    committed since this connection last asked (https://sqlite.org/pragma.html#pragma_data_version).
    While it stays the same, the snapshots this thread has read are still the
    database's current rows, so a request costs that pragma (about 3 µs) instead
    of the snapshot query (about 14 µs, bench/bench_verify_page.py).
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
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != local.version:
            snapshots.clear()
            local.version = version
        try:
            return snapshots[number]
        except KeyError:
            pass
        # A commit between the pragma and this query only makes the snapshot newer
        # than `version`: the next request sees a new version and reads again.
        row = conn.execute(_SQLITE_SNAPSHOT, (number,)).fetchone()
        snapshot = None if row is None else str(row[0])
        if len(snapshots) >= SNAPSHOTS_PER_THREAD:
            snapshots.clear()
        snapshots[number] = snapshot
        return snapshot

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

    async def read(self, number: str) -> str | None:
        rows = await self.engine.run_querystring(QueryString(_POSTGRES_SNAPSHOT, number))
        return None if not rows else str(rows[0]["snapshot"])

    def close(self) -> None:
        pass


def reader_for(engine: Engine[Any]) -> SnapshotReader:
    if isinstance(engine, SQLiteEngine):
        return SQLiteSnapshotReader(str(engine.connection_kwargs["database"]))
    return PiccoloSnapshotReader(engine)


# ----------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class EventLine:
    """A signed status event as the history shows it."""

    status: str
    effective_at: datetime
    reason: str | None
    #: Takes effect after the instant the page is about (`?at=` in the past).
    later: bool


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A rendered page around the place where the time of the check goes.

    `headers` are the answer's headers but its length, encoded once.
    """

    head: bytes
    tail: bytes
    etag: str
    headers: tuple[tuple[bytes, bytes], ...]

    def body(self, checked_at: bytes) -> bytes:
        return self.head + checked_at + self.tail


@dataclass(frozen=True, slots=True)
class CertificateView:
    """Everything the page shows about one certificate at one instant, verified."""

    number: str
    verdict: Verdict
    #: Signed events, in the order they take effect (empty unless the signatures hold).
    events: tuple[EventLine, ...]
    revision_count: int
    #: A "now" view is good until this instant (then verified again); None for `?at=`.
    fresh_until: datetime | None
    #: Rendered pages by language, filled on first use (the view's lifetime bounds them).
    pages: dict[str, RenderedPage] = field(default_factory=dict, compare=False, repr=False)


def _instant(value: Any) -> datetime:
    """A timestamp as SQLite (text) or PostgreSQL (ISO JSON) gives it, aware."""
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without offset: {value!r}")
    return parsed


def _optional_instant(value: Any) -> datetime | None:
    return None if value is None else _instant(value)


def _keys(rows: Sequence[Sequence[Any]], body_code: str) -> KeySet:
    return KeySet.of(
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
            for _, public_jwk, not_before, not_after, state, compromised_at in rows
        )
    )


def _signed_payload(token: str) -> dict[str, Any]:
    # Only called once `certificate_verdict` has verified every signature.
    payload: dict[str, Any] = json.loads(CompactJWS.parse(token).payload_bytes)
    return payload


def _same(db_value: Any, signed: Any) -> bool:
    """A copy column against the signed value, across both engines' representations."""
    if signed is None or db_value is None:
        return signed is None and db_value is None
    if isinstance(signed, Decimal):
        try:
            return Decimal(str(db_value)) == signed
        except InvalidOperation:
            return False
    if isinstance(signed, date):
        return str(db_value) == signed.isoformat()
    if isinstance(signed, int):
        return isinstance(db_value, int) and db_value == signed
    return bool(db_value == signed)


def record_problem(
    snapshot: Mapping[str, Any],
    revisions: Sequence[CertificatePayload],
    events: Sequence[StatusEventPayload],
) -> str | None:
    """How the stored rows disagree with their signed documents, or None.

    The certificate row copies the latest revision's fields and the status its
    events lead to (`registry.certificates.services`); event rows copy their
    event's status, time and reason. Lists and search read those copies, so a
    copy that differs means someone changed the database without a signature.
    """
    row = snapshot["certificate"]
    latest = revisions[-1]
    expected = certificate_columns(latest)
    for column in COPIED_COLUMNS:
        if not _same(row[column], expected[column]):
            return f"the certificate's {column} differs from signed revision {latest.revision}"
    if row["body_code"] != latest.issuer.code:
        return f"the certificate is filed under {row['body_code']}, not {latest.issuer.code}"
    if [r[0] for r in snapshot["revisions"]] != [p.revision for p in revisions]:
        return "the revision numbers differ from the signed revisions"
    if row["event_count"] != len(events):
        return f"the certificate counts {row['event_count']} events, {len(events)} are signed"
    for (_, status, effective_at, reason, _, _), event in zip(
        snapshot["events"], events, strict=True
    ):
        if (
            status != event.status.value
            or _instant(effective_at) != event.effective_at
            or reason != event.reason
        ):
            return f"a stored '{status}' event differs from its signed document"
    if events:
        # What the writer computed when it recorded the last event.
        last_recorded = _instant(snapshot["events"][-1][5])
        state = underlying_state(events, last_recorded)
    else:
        state = "valid"
    if row["status"] != state:
        return f"the stored status {row['status']!r} is not what the signed events say ({state})"
    return None


def _signature_invalid(number: str, *, at: datetime, now: datetime, reason: str) -> Verdict:
    return failed_verdict(
        VerdictStatus.SIGNATURE_INVALID,
        f"signature invalid: {reason}",
        number=number,
        at=at,
        now=now,
    )


def _next_change(
    revisions: Sequence[CertificatePayload],
    events: Sequence[StatusEventPayload],
    verdict: Verdict,
    now: datetime,
) -> datetime:
    """The first instant after `now` at which the status "now" could read differently."""
    candidates = [now + MAX_FRESHNESS]
    for revision in revisions:
        candidates += [
            start_of_day(revision.valid_from),
            end_of_validity(revision.valid_until),
            revision.signed_at,
        ]
    candidates += [event.effective_at for event in events]
    if verdict.status_at is not None:
        candidates.append(verdict.status_at.surveillance_due)
    return min(c for c in candidates if c > now)


def _verify(
    snapshot: Mapping[str, Any], *, number: str, at: datetime, now: datetime
) -> tuple[Verdict, list[CertificatePayload], list[StatusEventPayload]]:
    """The verdict on a snapshot, and its payloads when every signature holds.

    Raises:
        ValueError, TypeError, KeyError: a stored row cannot be read at all.
    """
    body_code = str(snapshot["certificate"]["body_code"])
    revisions_in = [
        SignedInput(jws, recorded_at=_instant(rec)) for _, jws, rec in snapshot["revisions"]
    ]
    events_in = [SignedInput(e[4], recorded_at=_instant(e[5])) for e in snapshot["events"]]
    try:
        keys = _keys(snapshot["keys"], body_code)
    except InvalidKeyError:
        keys = KeySet.of()  # a damaged key row vouches for nothing
    verdict = certificate_verdict(
        revisions=revisions_in, events=events_in, keys=keys, at=at, now=now, number=number
    )
    if not verdict.signature_valid:
        return verdict, [], []
    try:
        revisions = sorted(
            (CertificatePayload.from_json(_signed_payload(r.jws)) for r in revisions_in),
            key=lambda p: p.revision,
        )
        events = [StatusEventPayload.from_json(_signed_payload(e.jws)) for e in events_in]
    except SigningError:
        return verdict, [], []  # malformed: the verdict says so already
    problem = record_problem(snapshot, revisions, events)
    if problem is not None:
        reason = f"{problem}; it was changed without a signature"
        return _signature_invalid(number, at=at, now=now, reason=reason), revisions, events
    return verdict, revisions, events


def build_view(
    snapshot_text: str, *, number: str, at: datetime, now: datetime, is_now: bool
) -> CertificateView:
    """Verify a snapshot and gather what the page shows (see the module docstring)."""
    snapshot = json.loads(snapshot_text)
    try:
        verdict, revisions, events = _verify(snapshot, number=number, at=at, now=now)
    except (ValueError, TypeError, KeyError) as e:
        # A row damaged past reading (a timestamp, a key) is no evidence of anything.
        reason = f"a stored row cannot be read ({e})"
        verdict = _signature_invalid(number, at=at, now=now, reason=reason)
        revisions, events = [], []
    lines: tuple[EventLine, ...] = ()
    if verdict.certificate is not None:
        ordered = sorted(enumerate(events), key=lambda pair: (pair[1].effective_at, pair[0]))
        lines = tuple(
            EventLine(e.status.value, e.effective_at, e.reason, later=e.effective_at > at)
            for _, e in ordered
        )
    return CertificateView(
        number=number,
        verdict=verdict,
        events=lines,
        revision_count=len(snapshot["revisions"]),
        fresh_until=_next_change(revisions, events, verdict, now) if is_now else None,
    )


# ----------------------------------------------------------------------------- cache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A least-recently-used map with a size bound, safe to share between threads."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class VerificationService:
    """Current rows in, verified views out (cached by the rows' exact content)."""

    def __init__(self, reader: SnapshotReader, *, cache_size: int = VIEW_CACHE_SIZE) -> None:
        self.reader = reader
        self._views: BoundedCache[tuple[str, str], CertificateView] = BoundedCache(cache_size)

    @classmethod
    def for_engine(cls, engine: Engine[Any]) -> VerificationService:
        return cls(reader_for(engine))

    async def view(
        self, number: str, *, at: datetime | None, now: datetime
    ) -> CertificateView | None:
        """The verified view of certificate `number` (canonical) at `at` (None: now).

        None when the registry has no such certificate.
        """
        snapshot = await self.reader.read(number)
        if snapshot is None:
            return None
        at_key = "now" if at is None else format_instant(at)
        key = (snapshot, at_key)
        view = self._views.get(key)
        if view is not None and (view.fresh_until is None or now < view.fresh_until):
            return view
        view = build_view(
            snapshot, number=number, at=now if at is None else at, now=now, is_now=at is None
        )
        self._views.put(key, view)
        return view

    def close(self) -> None:
        self.reader.close()


# ----------------------------------------------------------------------------- marks


async def mark_bytes(
    service: VerificationService,
    number: str,
    fmt: MarkFormat,
    *,
    public_url: str,
    size_mm: float,
    dpi: int,
) -> tuple[str, bytes]:
    """The canonical number and the mark of a certificate whose signatures hold.

    The QR encodes `{public_url}/v/{NUMBER}` (PRODUCT §5); the level printed is
    the one of the revision in force now, read from its signed payload.

    Raises:
        NotFoundError: no such certificate.
        ConflictError: its signed record does not verify: no mark is made for it.
        InvalidInputError: the QR does not fit at this size and resolution.
    """
    canonical = canonical_number(number)
    now = datetime.now(UTC)
    view = None if canonical is None else await service.view(canonical, at=None, now=now)
    if view is None or canonical is None:
        raise NotFoundError(f"no certificate with number {number.strip().upper()[:60]}")
    level = view.verdict.level
    if view.verdict.certificate is None or level is None:
        raise ConflictError(
            f"certificate {canonical} does not verify ({view.verdict.status.value}); "
            "no mark is made for it"
        )
    url = mark_url(public_base_url=public_url, number=canonical)
    render = functools.partial(
        render_mark, fmt, url=url, number=canonical, level=level.value, size_mm=size_mm, dpi=dpi
    )
    try:
        # A first rendering takes milliseconds: off the event loop (cached after).
        return canonical, await anyio.to_thread.run_sync(render)
    except MarkSizeError as e:
        raise InvalidInputError(str(e), errors=[FieldError("size_mm", str(e))]) from e
