"""Bulk issuance from CSV (`starmark cert import`), PRODUCT §4.

Rows are validated and signed one by one, then stored in batches: one
transaction per batch (or one for the whole file with all_or_nothing), with
one multi-row INSERT per table, because a round trip per certificate would
cap the import far below the 2,000 certificates per second target.

An import is resumable (PRODUCT §4): run again after a crash, the same file
stores the rows the crash lost and counts a row whose certificate is already
stored, signed with the same content, as done. A number held by a different
certificate is still an error for that row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry.audit.services import audit_entry
from registry.bodies.services import get_body, load_keyset
from registry.bodies.tables import SigningKey
from registry.certificates.columns import COPIED_COLUMNS, certificate_columns
from registry.certificates.tables import Certificate, CertificateRevision
from registry.csv_input import read_csv
from registry.db import insert_rows, is_unique_violation, write_transaction
from registry.errors import FieldError, InvalidInputError
from registry.log.store import NewEntry, append_entries
from registry.principals import Principal
from signing.documents import CertificatePayload
from signing.errors import InvalidPayloadError, MalformedError, UnverifiedSignatureError
from signing.jwks import KeySet
from signing.jws import CERTIFICATE_TYP, open_signed, sign_compact
from signing.keys import PrivateKey

REQUIRED_COLUMNS = ("number", "holder_name", "uscc", "scope_zh", "score", "issued_on", "valid_from")
OPTIONAL_COLUMNS = ("holder_name_en", "address", "scope_en", "valid_until", "sites")
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: Rows a batch writes in one transaction. SQLite's full-text search index
#: (registry/search) writes a segment per transaction and merges them as they
#: pile up: with 2,000 rows a transaction a certificate costs about a fifth less
#: to write than with 500 (docs/benchmarks.md, "Bulk issuance").
BATCH_SIZE = 2000
_CERTIFICATE_COLUMNS = (
    "id",
    "number",
    "body",
    "status",
    "event_count",
    *COPIED_COLUMNS,
    "created_at",
    "updated_at",
)
_REVISION_COLUMNS = (
    "certificate",
    "revision",
    "jws",
    "key",
    "signed_at",
    "recorded_at",
    "log_index",
)
#: Column names as the payload names them, for messages that point at the CSV.
FIELD_TO_COLUMN = {
    "holder.name": "holder_name",
    "holder.name_en": "holder_name_en",
    "holder.uscc": "uscc",
    "holder.address": "address",
    "scope.zh": "scope_zh",
    "scope.en": "scope_en",
}


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


def row_to_fields(row: dict[str, str]) -> dict[str, Any]:
    def optional(name: str) -> str | None:
        return row.get(name) or None

    holder: dict[str, Any] = {"name": row["holder_name"], "uscc": row["uscc"]}
    if optional("holder_name_en"):
        holder["name_en"] = row["holder_name_en"]
    if optional("address"):
        holder["address"] = row["address"]
    scope: dict[str, Any] = {"zh": row["scope_zh"]}
    if optional("scope_en"):
        scope["en"] = row["scope_en"]
    fields: dict[str, Any] = {
        "number": row["number"],
        "score": row["score"],
        "holder": holder,
        "scope": scope,
        "issued_on": row["issued_on"],
        "valid_from": row["valid_from"],
    }
    if optional("valid_until"):
        fields["valid_until"] = row["valid_until"]
    if optional("sites"):
        fields["sites"] = [s.strip() for s in row["sites"].split(";") if s.strip()]
    return fields


def _problem_text(err: InvalidPayloadError) -> str:
    return "; ".join(f"{FIELD_TO_COLUMN.get(p.field, p.field)}: {p.message}" for p in err.problems)


@dataclass(frozen=True)
class _Signed:
    line: int
    payload: CertificatePayload
    jws: str


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
) -> ImportReport:
    """Validate, sign and store every row; report the rows refused, by line."""
    body = await get_body(body_code)
    keys = await load_keyset(body_code=body["code"])
    record = keys.get(signer.kid)  # raises if the key is not this body's
    record.check_usable(now, recorded_at=now)
    key_row = await SigningKey.select(SigningKey.id).where(SigningKey.kid == signer.kid).first()
    assert key_row is not None
    report = ImportReport()
    seen: dict[str, int] = {}
    signed: list[_Signed] = []

    for line, row in rows:
        if "__error__" in row:
            report.rejected.append(RowError(line, "", row["__error__"]))
            continue
        number = row.get("number", "").upper()
        if number in seen:
            report.rejected.append(
                RowError(line, number, f"number repeats line {seen[number]} of this file")
            )
            continue
        try:
            payload = CertificatePayload.build(
                row_to_fields(row),
                issuer_code=body["code"],
                issuer_name=body["name"],
                revision=1,
                signed_at=now,
            )
        except InvalidPayloadError as e:
            report.rejected.append(RowError(line, number, _problem_text(e)))
            continue
        seen[payload.number] = line
        signed.append(
            _Signed(line, payload, sign_compact(payload.to_json(), key=signer, typ=CERTIFICATE_TYP))
        )

    # Numbers already in the registry, found before any write: done when the
    # stored certificate says what the row says, a row error otherwise.
    fresh = []
    stored = await _stored_latest_revisions([s.payload.number for s in signed])
    for s in signed:
        if s.payload.number not in stored:
            fresh.append(s)
        elif _same_certificate(s.payload, stored[s.payload.number], keys):
            report.already_stored += 1
        else:
            report.rejected.append(RowError(s.line, s.payload.number, "number is already taken"))
    report.rejected.sort(key=lambda r: r.line)
    if progress and report.already_stored:
        progress(report.already_stored)

    if all_or_nothing and report.rejected:
        report.refused = True
        return report

    engine = Certificate._meta.db
    if all_or_nothing:
        async with write_transaction(engine):
            for start in range(0, len(fresh), batch_size):
                await _store_batch(
                    fresh[start : start + batch_size], body, key_row["id"], principal, now
                )
                report.stored += len(fresh[start : start + batch_size])
                if progress:
                    progress(len(fresh[start : start + batch_size]))
        return report
    for start in range(0, len(fresh), batch_size):
        batch = fresh[start : start + batch_size]
        try:
            async with write_transaction(engine):
                await _store_batch(batch, body, key_row["id"], principal, now)
        except Exception as e:
            if not is_unique_violation(e):
                raise
            # Someone took one of these numbers meanwhile: store row by row.
            for s in batch:
                try:
                    async with write_transaction(engine):
                        await _store_batch([s], body, key_row["id"], principal, now)
                    report.stored += 1
                except Exception as e2:
                    if not is_unique_violation(e2):
                        raise
                    now_stored = await _stored_latest_revisions([s.payload.number])
                    token = now_stored.get(s.payload.number)
                    if token is not None and _same_certificate(s.payload, token, keys):
                        report.already_stored += 1
                    else:
                        report.rejected.append(
                            RowError(s.line, s.payload.number, "number is already taken")
                        )
        else:
            report.stored += len(batch)
        if progress:
            progress(len(batch))
    report.rejected.sort(key=lambda r: r.line)
    return report


async def _stored_latest_revisions(numbers: Sequence[str]) -> dict[str, str]:
    """The latest revision's JWS of each stored certificate among `numbers`."""
    latest: dict[str, tuple[int, str]] = {}
    for start in range(0, len(numbers), 900):
        chunk = list(numbers[start : start + 900])
        rows = await CertificateRevision.select(
            CertificateRevision.certificate.number.as_alias("number"),
            CertificateRevision.revision,
            CertificateRevision.jws,
        ).where(CertificateRevision.certificate.number.is_in(chunk))
        for r in rows:
            if r["number"] not in latest or latest[r["number"]][0] < r["revision"]:
                latest[r["number"]] = (r["revision"], r["jws"])
    return {number: jws for number, (_, jws) in latest.items()}


def _same_certificate(row: CertificatePayload, stored_jws: str, keys: KeySet) -> bool:
    """True when `stored_jws`, verified with the body's keys, signs what `row` says.

    Every payload field counts but `signed_at` (each run signs at its own time);
    the issuer among them, so another body's certificate is never the same.
    """
    try:
        document = open_signed(stored_jws, keys=keys, typ=CERTIFICATE_TYP)
        stored = CertificatePayload.from_json(document.payload)
    except (UnverifiedSignatureError, MalformedError, InvalidPayloadError):
        return False
    return _content(stored) == _content(row)


def _content(payload: CertificatePayload) -> dict[str, Any]:
    return {k: v for k, v in payload.to_json().items() if k != "signed_at"}


async def _store_batch(
    batch: Sequence[_Signed],
    body: dict[str, Any],
    key_id: int,
    principal: Principal,
    now: datetime,
) -> None:
    if not batch:
        return
    certificates = []
    revisions = []
    # Their leaves first, in the batch's order, in this transaction (registry/log).
    indexes = await append_entries(
        [
            NewEntry(CERTIFICATE_TYP, s.jws, body=body["code"], number=s.payload.number)
            for s in batch
        ],
        recorded_at=now,
    )
    for s, log_index in zip(batch, indexes, strict=True):
        p = s.payload
        certificate_id = uuid.uuid4()
        copies = certificate_columns(p)
        certificates.append(
            (
                certificate_id,
                p.number,
                body["id"],
                "valid",
                0,
                *[copies[column] for column in COPIED_COLUMNS],
                now,
                now,
            )
        )
        revisions.append((certificate_id, 1, s.jws, key_id, p.signed_at, now, log_index))
    # Plain rows through the transaction's connection, not Piccolo objects
    # (registry.db.insert_rows): the same columns and values a `Certificate`
    # and a `CertificateRevision` would store.
    engine = Certificate._meta.db
    await insert_rows(engine, "certificate", _CERTIFICATE_COLUMNS, certificates)
    await insert_rows(engine, "certificate_revision", _REVISION_COLUMNS, revisions)
    await audit_entry(
        principal,
        "certificate.import",
        f"{batch[0].payload.number}..{batch[-1].payload.number}",
        count=len(batch),
    )
