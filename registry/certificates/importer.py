"""Bulk issuance from CSV (`starmark cert import`), PRODUCT §4.

Rows are validated and signed (`registry.certificates.preparing`, in worker
processes for a large file) and stored in batches as they become ready: one
transaction per batch (or one for the whole file with all_or_nothing), with
one prepared INSERT per table run for every row, because a round trip per
certificate would cap the import far below the 2,000 certificates per second
target.

An import is resumable (PRODUCT §4): run again after a crash, the same file
stores the rows the crash lost and counts a row whose certificate is already
stored, signed with the same content, as done. A number held by a different
certificate is still an error for that row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry.audit.services import audit_entry
from registry.bodies.services import get_body, load_keyset
from registry.bodies.tables import SigningKey
from registry.certificates.columns import COPIED_COLUMNS
from registry.certificates.preparing import PROCESS_MIN_ROWS, Issuer, Prepared, Refused, prepared
from registry.certificates.tables import Certificate, CertificateRevision
from registry.csv_input import read_csv
from registry.db import insert_rows, is_unique_violation, write_transaction
from registry.errors import FieldError, InvalidInputError
from registry.log.store import NewEntry, append_entries
from registry.principals import Principal
from signing.documents import CertificatePayload
from signing.errors import InvalidPayloadError, MalformedError, UnverifiedSignatureError
from signing.jwks import KeySet
from signing.jws import CERTIFICATE_TYP, open_signed
from signing.keys import PrivateKey

REQUIRED_COLUMNS = ("number", "holder_name", "uscc", "scope_zh", "score", "issued_on", "valid_from")
OPTIONAL_COLUMNS = ("holder_name_en", "address", "scope_en", "valid_until", "sites")
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: Rows a batch writes in one transaction. SQLite's full-text search index
#: (registry/search) writes a segment per transaction and merges them as they
#: pile up: with 2,000 rows a transaction a certificate costs about a fifth less
#: to write than with 500 (docs/benchmarks.md, "Bulk issuance").
BATCH_SIZE = 2000
#: The columns of the `certificate` and `certificate_revision` rows a bulk load
#: writes (also bench/generate_certificates.py), in the order of its tuples.
CERTIFICATE_COLUMNS = (
    "id",
    "number",
    "body",
    "status",
    "event_count",
    *COPIED_COLUMNS,
    "created_at",
    "updated_at",
)
REVISION_COLUMNS = (
    "certificate",
    "revision",
    "jws",
    "key",
    "signed_at",
    "recorded_at",
    "log_index",
)


@dataclass(frozen=True)
class RowError:
    line: int
    number: str
    message: str


@dataclass
class ImportReport:
    stored: int = 0
    #: Rows whose certificate was already stored with the same signed content
    #: (an earlier run of the same file): done, not stored again.
    already_stored: int = 0
    rejected: list[RowError] = field(default_factory=list)
    #: True when all_or_nothing refused the whole file.
    refused: bool = False


def read_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; the header is line 1. Raises on a bad header.

    `text` is a file decoded by `registry.csv_input.decode_csv`; blank rows are
    passed over, and a row's line is the one it starts on.

    Raises:
        InvalidInputError: no header, a header that does not name the columns,
            or text that is not CSV.
    """
    rows = read_csv(text)
    try:
        header = next(rows)
    except StopIteration:
        raise InvalidInputError("the file is empty: it needs a header row") from None
    names = [h.lower() for h in header.cells]
    unknown = [n for n in names if n not in ALL_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if unknown or missing or duplicated:
        problems = [FieldError(n, "unknown column") for n in unknown]
        problems += [FieldError(n, "required column is missing") for n in missing]
        problems += [FieldError(n, "column appears twice") for n in duplicated]
        raise InvalidInputError(
            "the header row must name these columns: "
            + ", ".join(ALL_COLUMNS)
            + " (the last five may be left out)",
            errors=problems,
        )
    for row in rows:
        values = row.cells
        if len(values) != len(names):
            yield row.line, {"__error__": f"has {len(values)} cells, the header has {len(names)}"}
            continue
        yield row.line, dict(zip(names, values, strict=True))


class _Refuse(Exception):
    """Rolls back an all-or-nothing import that found a bad row."""


async def import_certificates(
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    body_code: str,
    signer: PrivateKey,
    principal: Principal,
    now: datetime,
    all_or_nothing: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    process_min_rows: int = PROCESS_MIN_ROWS,
) -> ImportReport:
    """Validate, sign and store every row; report the rows refused, by line.

    Rows are prepared (validated and signed, `registry.certificates.preparing`)
    and stored as they come: a batch is written while the rows after it are
    being signed, in worker processes for `process_min_rows` rows or more.
    With `all_or_nothing` the whole file is one transaction, rolled back when
    any row is refused; every refused row is still reported.
    """
    body = await get_body(body_code)
    keys = await load_keyset(body_code=body["code"])
    record = keys.get(signer.kid)  # raises if the key is not this body's
    record.check_usable(now, recorded_at=now)
    key_row = await SigningKey.select(SigningKey.id).where(SigningKey.kid == signer.kid).first()
    assert key_row is not None
    store = _Store(
        report=ImportReport(),
        body=body,
        key_id=key_row["id"],
        keys=keys,
        principal=principal,
        now=now,
        all_or_nothing=all_or_nothing,
        progress=progress,
    )
    items = prepared(
        rows if isinstance(rows, Sequence) else list(rows),
        issuer=Issuer(body["code"], body["name"], now),
        signer=signer,
        workers=workers,
        process_min_rows=process_min_rows,
    )
    if all_or_nothing:
        try:
            async with write_transaction(Certificate._meta.db):
                await store.consume(items, batch_size)
                if store.report.rejected:
                    raise _Refuse
        except _Refuse:
            store.report.refused = True
            store.report.stored = 0
    else:
        await store.consume(items, batch_size)
    store.report.rejected.sort(key=lambda r: r.line)
    return store.report


@dataclass
class _Store:
    """Stores prepared rows batch by batch into one import's report."""

    report: ImportReport
    body: dict[str, Any]
    key_id: int
    keys: KeySet
    principal: Principal
    now: datetime
    all_or_nothing: bool
    progress: Callable[[int], None] | None

    async def consume(
        self, items: AsyncGenerator[Prepared | Refused, None], batch_size: int
    ) -> None:
        seen: dict[str, int] = {}
        batch: list[Prepared] = []
        async with aclosing(items) as ready:
            async for item in ready:
                if item.given in seen:
                    self._refuse(
                        item.line,
                        item.given,
                        f"number repeats line {seen[item.given]} of this file",
                    )
                elif isinstance(item, Refused):
                    self._refuse(item.line, item.given, item.message)
                else:
                    seen[item.number] = item.line
                    batch.append(item)
                    if len(batch) >= batch_size:
                        await self._store(batch)
                        batch = []
        await self._store(batch)

    def _refuse(self, line: int, number: str, message: str) -> None:
        self.report.rejected.append(RowError(line, number, message))

    async def _store(self, batch: list[Prepared]) -> None:
        """Stores `batch` but the numbers already in the registry (found before any write).

        A stored number is done when the stored certificate says what the row
        says (an earlier run of the same file), and a row error otherwise.
        """
        if not batch:
            return
        stored = await _stored_latest_revisions([p.number for p in batch])
        fresh = []
        for p in batch:
            if p.number not in stored:
                fresh.append(p)
            elif _same_certificate(p.jws, stored[p.number], self.keys):
                self.report.already_stored += 1
            else:
                self._refuse(p.line, p.number, "number is already taken")
        if self.progress and len(fresh) < len(batch):
            self.progress(len(batch) - len(fresh))
        if self.all_or_nothing:
            # In the file's one transaction; once a row is refused the file will
            # be rolled back, so the rest is only checked, not written.
            if not self.report.rejected:
                await self._write(fresh)
                self.report.stored += len(fresh)
        else:
            await self._store_committed(fresh)
        if self.progress and fresh:
            self.progress(len(fresh))

    async def _store_committed(self, fresh: list[Prepared]) -> None:
        """`fresh` in a transaction of its own; row by row if another writer took a number."""
        engine = Certificate._meta.db
        try:
            async with write_transaction(engine):
                await self._write(fresh)
        except Exception as e:
            if not is_unique_violation(e):
                raise
        else:
            self.report.stored += len(fresh)
            return
        # Someone took one of these numbers meanwhile: store row by row.
        for p in fresh:
            try:
                async with write_transaction(engine):
                    await self._write([p])
                self.report.stored += 1
            except Exception as e:
                if not is_unique_violation(e):
                    raise
                now_stored = await _stored_latest_revisions([p.number])
                token = now_stored.get(p.number)
                if token is not None and _same_certificate(p.jws, token, self.keys):
                    self.report.already_stored += 1
                else:
                    self._refuse(p.line, p.number, "number is already taken")

    async def _write(self, batch: Sequence[Prepared]) -> None:
        if not batch:
            return
        now = self.now
        # Their leaves first, in the batch's order, in this transaction (registry/log).
        indexes = await append_entries(
            [
                NewEntry(CERTIFICATE_TYP, p.jws, body=self.body["code"], number=p.number)
                for p in batch
            ],
            recorded_at=now,
        )
        certificates = []
        revisions = []
        for p, log_index in zip(batch, indexes, strict=True):
            certificate_id = uuid.uuid4()
            certificates.append(
                (certificate_id, p.number, self.body["id"], "valid", 0, *p.copies, now, now)
            )
            revisions.append((certificate_id, 1, p.jws, self.key_id, p.signed_at, now, log_index))
        # Plain rows through the transaction's connection, not Piccolo objects
        # (registry.db.insert_rows): the same columns and values a `Certificate`
        # and a `CertificateRevision` would store.
        engine = Certificate._meta.db
        await insert_rows(engine, "certificate", CERTIFICATE_COLUMNS, certificates)
        await insert_rows(engine, "certificate_revision", REVISION_COLUMNS, revisions)
        await audit_entry(
            self.principal,
            "certificate.import",
            f"{batch[0].number}..{batch[-1].number}",
            count=len(batch),
        )


async def _stored_latest_revisions(numbers: Sequence[str]) -> dict[str, str]:
    """The latest revision's JWS of each stored certificate among `numbers`.

    Two indexed lookups, the numbers first: a join from the revisions (Piccolo
    writes a LEFT JOIN, which SQLite does not reorder) read every revision
    for each batch, 176 µs a certificate by 100,000 stored.
    """
    latest: dict[str, tuple[int, str]] = {}
    for start in range(0, len(numbers), 900):
        chunk = list(numbers[start : start + 900])
        found = await Certificate.select(Certificate.id, Certificate.number).where(
            Certificate.number.is_in(chunk)
        )
        if not found:
            continue
        number_of = {r["id"]: r["number"] for r in found}
        rows = await CertificateRevision.select(
            CertificateRevision.certificate,
            CertificateRevision.revision,
            CertificateRevision.jws,
        ).where(CertificateRevision.certificate.is_in(list(number_of)))
        for r in rows:
            number = number_of[r["certificate"]]
            if number not in latest or latest[number][0] < r["revision"]:
                latest[number] = (r["revision"], r["jws"])
    return {number: jws for number, (_, jws) in latest.items()}


def _same_certificate(row_jws: str, stored_jws: str, keys: KeySet) -> bool:
    """True when `stored_jws`, verified with the body's keys, signs what `row_jws` says.

    Every payload field counts but `signed_at` (each run signs at its own time);
    the issuer among them, so another body's certificate is never the same.
    `row_jws` is this import's own, signed with one of `keys`.
    """
    try:
        stored, row = (
            CertificatePayload.from_json(open_signed(jws, keys=keys, typ=CERTIFICATE_TYP).payload)
            for jws in (stored_jws, row_jws)
        )
    except (UnverifiedSignatureError, MalformedError, InvalidPayloadError):
        return False
    return _content(stored) == _content(row)


def _content(payload: CertificatePayload) -> dict[str, Any]:
    return {k: v for k, v in payload.to_json().items() if k != "signed_at"}
