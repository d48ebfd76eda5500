"""The read side: every answer about a certificate, from its signed documents.

One truth (PRODUCT §3, issue "One read path"): the verification page, `GET
/api/v1/certificates/{number}` and its `/verification`, bulk checks and their
receipts, search results, marks and the CLI all ask `VerificationService`.
It loads snapshots (`snapshots.py`: one query for one certificate or for
many), judges them (`judging.py`: every signature verified, the status folded
by `signing`, the database's copies compared with the signed payloads) and
answers. Columns copied out of the payloads only find candidates.

The page is the hot path, so its answers are cached by content:

* What is derived from a snapshot (the verdict and the rendered page) is
  cached under the snapshot text itself. A changed row, a damaged JWS or a key
  marked compromised changes the text, so it is verified afresh; nothing is
  served from a cache that the database no longer backs.
* The status "now" changes with time alone (expiry at midnight CST, a start of
  validity, surveillance falling overdue, an event published a little ahead of
  its effective time). A "now" entry is kept only until the next such instant
  (`CertificateView.fresh_until`, at most an hour).
* The page says which signed checkpoint first covered each document
  (`CertificateView.log`). That never changes once there is one; while a
  document has none yet (checkpoints are signed on demand), each request looks
  again, one small query, until one does.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections import OrderedDict
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Generic, TypeVar

import anyio.to_thread
from litestar.datastructures import State
from piccolo.engine.base import Engine

from registry.errors import (
    ConflictError,
    FieldError,
    GoneError,
    InvalidInputError,
    NotFoundError,
)
from registry.log.services import covering_checkpoint_sizes
from registry.marks import MarkSizeError, mark_url, render_mark
from registry.marks.pdf import render_pdf_sheet
from registry.marks.render import MarkFormat
from registry.verification.judging import Reading, judge_text
from registry.verification.snapshots import (
    BodyCard,
    PiccoloSnapshotReader,
    Snapshot,
    SnapshotReader,
    reader_for,
)
from signing.documents import CertificatePayload, StatusEventPayload
from signing.errors import MalformedError
from signing.identifiers import parse_certificate_number
from signing.instants import CST, end_of_validity, format_instant, start_of_day
from signing.jws import CompactJWS
from signing.scheme import StarLevel
from signing.verdict import Verdict, not_found_verdict

__all__ = [
    "CertificateView",
    "EventLine",
    "LogLine",
    "MarkUnavailableError",
    "RenderedPage",
    "VerificationService",
    "canonical_number",
    "mark_bytes",
    "provide_read_path",
]

#: A "now" answer is re-verified at least this often, whatever the documents say.
MAX_FRESHNESS: Final = timedelta(hours=1)
#: Views (verdict + page data) kept; each holds its rendered pages (5-10 KB a language),
#: so the cache stays under about 25 MB (PRODUCT §7: under 200 MB a worker).
VIEW_CACHE_SIZE: Final = 1024


def canonical_number(text: str) -> str | None:
    """The upper-case certificate number, or None when `text` cannot be one."""
    try:
        return parse_certificate_number(text)
    except MalformedError:
        return None


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
class LogLine:
    """Where one of the certificate's signed documents sits in the transparency log."""

    #: "revision" (starmark-cert+jws) or "event" (starmark-status+jws).
    kind: str
    #: The revision number, or the event's status, as signed (None when it does not verify).
    label: int | str | None
    #: The leaf index (`GET /api/v1/log/bundle?index=`).
    log_index: int
    #: The size of the first signed checkpoint covering the leaf; None while none does.
    checkpoint_size: int | None = None


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
    #: The certificate's documents in log order, with the checkpoints covering them.
    log: tuple[LogLine, ...] = ()
    #: The issuing body's English name and contact details (registry data, not signed).
    body: BodyCard = field(default_factory=BodyCard)
    #: Rendered pages by language, filled on first use (the view's lifetime bounds them).
    pages: dict[str, RenderedPage] = field(default_factory=dict, compare=False, repr=False)
    #: The reader's `generation` when the checkpoints covering `log` were looked up.
    log_generation: int | None = field(default=None, compare=False)


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


def build_view(snapshot_text: str, *, at: datetime, now: datetime, is_now: bool) -> CertificateView:
    """Judge a snapshot and gather what the page shows (see the module docstring)."""
    reading = judge_text(snapshot_text, at=at, now=now)
    verdict = reading.verdict
    lines: tuple[EventLine, ...] = ()
    if verdict.certificate is not None:
        ordered = sorted(
            enumerate(reading.events), key=lambda pair: (pair[1].effective_at, pair[0])
        )
        lines = tuple(
            EventLine(e.status.value, e.effective_at, e.reason, later=e.effective_at > at)
            for _, e in ordered
        )
    snapshot = reading.snapshot
    return CertificateView(
        log=() if snapshot is None else _log_lines(reading, snapshot),
        body=BodyCard() if snapshot is None else snapshot.body,
        number=reading.number,
        verdict=verdict,
        events=lines,
        revision_count=0 if snapshot is None else len(snapshot.revisions),
        fresh_until=_next_change(reading.revisions, reading.events, verdict, now)
        if is_now
        else None,
    )


def _log_lines(reading: Reading, snapshot: Snapshot) -> tuple[LogLine, ...]:
    """The documents in log order, labelled from their verified payloads only."""
    revisions = [
        LogLine(
            "revision", reading.revisions[i].revision if reading.revisions else None, d.log_index
        )
        for i, d in enumerate(snapshot.revisions)
    ]
    events = [
        LogLine("event", reading.events[i].status.value if reading.events else None, d.log_index)
        for i, d in enumerate(snapshot.events)
    ]
    return tuple(sorted([*revisions, *events], key=lambda line: line.log_index))


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
    """The one read path: snapshots in, judged answers out (page views cached by content)."""

    def __init__(
        self,
        reader: SnapshotReader,
        *,
        in_transaction: SnapshotReader | None = None,
        log_engine: Engine[Any] | None = None,
        cache_size: int = VIEW_CACHE_SIZE,
    ) -> None:
        self.reader = reader
        #: Reads which checkpoints cover the documents (None: the page shows none).
        self.log_engine = log_engine
        #: Reads through the engine, so inside a write's transaction it sees the
        #: write (`document`: a write answers before it commits, with its reply).
        self.in_transaction = in_transaction or reader
        self._views: BoundedCache[tuple[str, str], CertificateView] = BoundedCache(cache_size)

    @classmethod
    def for_engine(
        cls, engine: Engine[Any], *, replica: Engine[Any] | None = None
    ) -> VerificationService:
        """Public reads through `replica` (DATABASE_REPLICA_URL) when there is one, else
        through `engine`; a write's own answer (`document`) always through `engine`, the
        primary, inside the write's transaction (PRODUCT §6)."""
        return cls(
            reader_for(replica or engine),
            in_transaction=PiccoloSnapshotReader(engine),
            log_engine=replica or engine,
        )

    async def view(
        self, number: str, *, at: datetime | None, now: datetime
    ) -> CertificateView | None:
        """The verified view of certificate `number` (canonical) at `at` (None: now).

        None when the registry has no such certificate.
        """
        snapshot = await self.reader.read(number)
        if snapshot is None:
            return None
        generation = self.reader.generation()
        at_key = "now" if at is None else format_instant(at)
        key = (snapshot, at_key)
        view = self._views.get(key)
        if view is None or (view.fresh_until is not None and now >= view.fresh_until):
            view = build_view(snapshot, at=now if at is None else at, now=now, is_now=at is None)
        elif all(line.checkpoint_size is not None for line in view.log):
            return view
        elif generation is not None and view.log_generation == generation:
            # Nothing was committed since the last look: no checkpoint either.
            return view
        # Checkpoints are signed on demand (registry/log/services.py): a document
        # none covers yet is looked up again, when the database has changed,
        # until one does; then the view is settled.
        view = await self._with_checkpoints(view, generation)
        self._views.put(key, view)
        return view

    async def _with_checkpoints(
        self, view: CertificateView, generation: int | None
    ) -> CertificateView:
        """`view` with the first checkpoint covering each of its documents."""
        if self.log_engine is None or not view.log:
            return view
        sizes = await covering_checkpoint_sizes(
            [line.log_index for line in view.log], engine=self.log_engine
        )
        log = tuple(
            dataclasses.replace(line, checkpoint_size=sizes.get(line.log_index))
            for line in view.log
        )
        if log == view.log:
            # The same pages, with the generation they were looked up at.
            return dataclasses.replace(view, log_generation=generation)
        # A new view, so its pages are rendered afresh with the sizes.
        return dataclasses.replace(view, log=log, pages={}, log_generation=generation)

    async def reading(
        self,
        number: str,
        *,
        at: datetime,
        now: datetime,
        min_level: StarLevel | None = None,
    ) -> Reading | None:
        """The judged certificate `number` (any case) at `at`; None when there is none."""
        canonical = canonical_number(number)
        text = None if canonical is None else await self.reader.read(canonical)
        if text is None:
            return None
        return judge_text(text, at=at, now=now, min_level=min_level)

    async def verdict(
        self,
        number: str,
        *,
        at: datetime,
        now: datetime,
        min_level: StarLevel | None = None,
    ) -> Verdict:
        """The verdict on certificate `number` at `at`: `not_found` when there is none."""
        found = await self.reading(number, at=at, now=now, min_level=min_level)
        if found is None:
            shown = canonical_number(number) or number.strip().upper()[:60]
            return not_found_verdict(shown, at=at, now=now, min_level=min_level)
        return found.verdict

    async def readings(
        self,
        *,
        numbers: Collection[str] = (),
        usccs: Collection[str] = (),
        at: datetime,
        now: datetime,
        min_level: StarLevel | None = None,
    ) -> list[Reading]:
        """Every certificate with one of these numbers, or a USCC copy among `usccs`,
        judged at `at`, in number order: one query whatever their count.

        A certificate found by its USCC copy is returned whatever its signed
        payload says; callers that look up by USCC match on `Reading.signed_uscc`.
        """
        texts = await self.reader.read_many(numbers=numbers, usccs=usccs)
        return [judge_text(t, at=at, now=now, min_level=min_level) for t in texts]

    async def document(self, number: str, *, now: datetime) -> dict[str, Any]:
        """A write's answer: `public_document` read through the primary, inside the
        write's transaction (a write answers before it commits, with its reply).

        Raises:
            NotFoundError: no such certificate.
        """
        return await self._document(self.in_transaction, number, now=now)

    async def public_document(self, number: str, *, now: datetime) -> dict[str, Any]:
        """`GET /api/v1/certificates/{number}` (PRODUCT §4), every member from the JWSs.

        ``certificate`` is the latest verified revision's payload, null when the
        documents do not verify; each event's status, time and reason are read
        from its verified payload (null otherwise). The JWSs are always given:
        they are the evidence anyone can check. Read like every public answer
        (the replica, when there is one).

        Raises:
            NotFoundError: no such certificate.
        """
        return await self._document(self.reader, number, now=now)

    async def _document(
        self, reader: SnapshotReader, number: str, *, now: datetime
    ) -> dict[str, Any]:
        canonical = canonical_number(number)
        text = None if canonical is None else await reader.read(canonical)
        found = None if text is None else judge_text(text, at=now, now=now)
        if found is None:
            raise NotFoundError(f"no certificate with number {number.strip().upper()[:60]}")
        if found.snapshot is None:  # rows that cannot be read: nothing to give but the verdict
            return {"number": found.number, "status": found.verdict.status.value}
        return certificate_document(found, found.snapshot)

    def close(self) -> None:
        self.reader.close()


def provide_read_path(state: State) -> VerificationService:
    """The `read_path` dependency of every handler that answers about certificates."""
    service: VerificationService = state.verification
    return service


def _instant(value: datetime) -> str:
    """RFC 3339 in UTC with ``Z``, microseconds kept (`recorded_at` has them)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _kid(token: str) -> str | None:
    try:
        return CompactJWS.parse(token).kid
    except MalformedError:
        return None


def certificate_document(reading: Reading, snapshot: Snapshot) -> dict[str, Any]:
    """The certificate's documents as `GET /api/v1/certificates/{number}` gives them."""
    verified = bool(reading.revisions)
    signed_events: Sequence[StatusEventPayload | None] = (
        reading.events if verified else [None] * len(snapshot.events)
    )
    latest: CertificatePayload | None = reading.revisions[-1] if verified else None
    # Revisions are logged in revision order (revision k+1 needs revision k).
    revision_numbers = (
        [p.revision for p in reading.revisions]
        if verified
        else list(range(1, len(snapshot.revisions) + 1))
    )
    return {
        "number": reading.number,
        "status": reading.verdict.status.value,
        "body": latest.issuer.code if latest is not None else None,
        "certificate": latest.to_json() if latest is not None else None,
        "revisions": [
            {"revision": number, "kid": _kid(r.jws), "jws": r.jws, "log_index": r.log_index}
            for number, r in zip(revision_numbers, snapshot.revisions, strict=True)
        ],
        "events": [
            {
                "status": None if event is None else event.status.value,
                "effective_at": None if event is None else _instant(event.effective_at),
                "recorded_at": _instant(stored.recorded_at),
                "reason": None if event is None else event.reason,
                "kid": _kid(stored.jws),
                "jws": stored.jws,
                "log_index": stored.log_index,
            }
            for stored, event in zip(snapshot.events, signed_events, strict=True)
        ],
    }


# ----------------------------------------------------------------------------- marks


class MarkUnavailableError(GoneError):
    """A certificate whose signatures hold but which is not valid now: no mark for it.

    The detail is the verdict's reason (English, for the API and the CLI); the page
    (errors/mark_unavailable.html) says it in the page's language from `page_context`.
    """

    title = "No mark for this certificate"
    slug = "mark-unavailable"

    def __init__(self, view: CertificateView) -> None:
        verdict = view.verdict
        super().__init__(
            f"certificate {view.number} is not valid now ({verdict.reason}); "
            "a mark is made only for a certificate that is valid now"
        )
        self.view = view

    @property
    def page_context(self) -> dict[str, object]:
        verdict = self.view.verdict
        state = verdict.status_at
        event = None if state is None else state.last_event
        certificate = verdict.certificate
        return {
            "number": self.view.number,
            "status": verdict.status.value,
            # The page's times are China Standard Time, as on /v/.
            "since": None
            if state is None
            else state.since.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
            "event_reason": None if event is None else event.reason,
            "valid_from": None if certificate is None else certificate.valid_from.isoformat(),
            "valid_until": None if certificate is None else certificate.valid_until.isoformat(),
        }


async def mark_bytes(
    service: VerificationService,
    number: str,
    fmt: MarkFormat,
    *,
    public_url: str,
    size_mm: float,
    dpi: int,
) -> tuple[str, bytes]:
    """The canonical number and the mark of a certificate valid now.

    The QR encodes `{public_url}/v/{NUMBER}` (PRODUCT §5); the level printed is
    the one of the revision in force now, read from its signed payload.

    Raises:
        NotFoundError: no such certificate.
        ConflictError: its signed record does not verify: no mark is made for it.
        MarkUnavailableError: it verifies but is not valid now (suspended,
            revoked, withdrawn, expired, not yet valid): 410 with the reason.
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
    if not view.verdict.is_valid:
        raise MarkUnavailableError(view)
    url = mark_url(public_base_url=public_url, number=canonical)
    render = functools.partial(
        render_mark, fmt, url=url, number=canonical, level=level.value, size_mm=size_mm, dpi=dpi
    )
    try:
        # A first rendering takes milliseconds: off the event loop (cached after).
        return canonical, await anyio.to_thread.run_sync(render)
    except MarkSizeError as e:
        raise InvalidInputError(str(e), errors=[FieldError("size_mm", str(e))]) from e


@dataclass(frozen=True)
class MarkSheet:
    """The marks of several certificates in one PDF (one page each)."""

    #: The certificates whose marks are in the PDF, in the order asked.
    numbers: list[str]
    #: (number, why not): unknown, not verifying, or not valid now.
    skipped: list[tuple[str, str]]
    #: None when no certificate asked for is valid now.
    pdf: bytes | None


async def mark_sheet(
    service: VerificationService,
    numbers: Sequence[str],
    *,
    public_url: str,
    size_mm: float,
    dpi: int,
) -> MarkSheet:
    """The PDF sheet of the marks of `numbers` that are valid now (as :func:`mark_bytes`
    judges one), the others named with the reason they were left out."""
    now = datetime.now(UTC)
    chosen: list[tuple[str, str, str]] = []
    skipped: list[tuple[str, str]] = []
    for number in dict.fromkeys(numbers):
        canonical = canonical_number(number)
        view = None if canonical is None else await service.view(canonical, at=None, now=now)
        if view is None or canonical is None:
            skipped.append((number.strip().upper()[:60], "not found"))
            continue
        level = view.verdict.level
        if view.verdict.certificate is None or level is None or not view.verdict.is_valid:
            skipped.append((canonical, view.verdict.status.value))
        else:
            url = mark_url(public_base_url=public_url, number=canonical)
            chosen.append((url, canonical, level.value))
    if not chosen:
        return MarkSheet(numbers=[], skipped=skipped, pdf=None)
    render = functools.partial(render_pdf_sheet, chosen, size_mm=size_mm, dpi=dpi)
    try:
        pdf = await anyio.to_thread.run_sync(render)
    except MarkSizeError as e:
        raise InvalidInputError(str(e), errors=[FieldError("size_mm", str(e))]) from e
    return MarkSheet(numbers=[c[1] for c in chosen], skipped=skipped, pdf=pdf)
