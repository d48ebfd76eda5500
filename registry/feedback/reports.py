"""Consumer reports (举报): stored from the verification page, read by the body.

A report names no one: where the product was bought, what was wrong, the
reporter's words and, only if they chose to give it, a way to reach them. A
photo is kept only as `photos.reencode_photo` drew it again. A report is
stored whole or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from registry.db import write_transaction
from registry.errors import FieldError, InvalidInputError, NotFoundError
from registry.feedback.photos import Photo, PhotoError, reencode_photo
from registry.feedback.tables import ConsumerReport
from registry.principals import Principal

__all__ = [
    "PROBLEMS",
    "ReportInputError",
    "ReportPage",
    "StoredReport",
    "count_new_reports",
    "list_reports",
    "mark_seen",
    "report_photo",
    "require_report",
    "submit_report",
]

#: What was wrong, as the form offers it (the page words are in the template).
PROBLEMS: Final = (
    "fake_mark",
    "wrong_company",
    "wrong_level",
    "service_refused",
    "other",
)
MAX_WHERE: Final = 200
MAX_DETAILS: Final = 2000
MAX_CONTACT: Final = 200
#: Report ids are a 32-bit SERIAL: anything larger names no report (and would
#: overflow PostgreSQL's integer before it is compared).
MAX_ID: Final = 2**31 - 1
#: Control characters other than line breaks and tabs are refused in typed text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ReportInputError(InvalidInputError):
    """A report that is not stored; `codes` names each field's problem for the form."""

    def __init__(self, codes: dict[str, str], errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
        self.codes = codes


@dataclass(frozen=True)
class StoredReport:
    id: int
    number: str
    body_code: str
    created_at: datetime
    bought_where: str
    problem: str
    details: str
    contact: str
    has_photo: bool
    photo_type: str | None
    status: str


@dataclass(frozen=True)
class ReportPage:
    items: list[StoredReport]
    #: The id to pass as `cursor` for the next (older) page; None at the end.
    next_cursor: str | None


def _text(
    value: str | None, field: str, limit: int, codes: dict[str, str], errors: list[FieldError]
) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        codes[field] = "too_long"
        errors.append(FieldError(field, f"at most {limit} characters"))
    elif _CONTROL.search(text):
        codes[field] = "control"
        errors.append(FieldError(field, "no control characters"))
    return text


async def submit_report(
    *,
    number: str,
    body_code: str,
    bought_where: str | None,
    problem: str | None,
    details: str | None,
    contact: str | None,
    photo: bytes | None,
    now: datetime,
) -> int:
    """Store a report about certificate `number` (canonical) of body `body_code`.

    The caller has found the certificate; `photo` is the upload's bytes (None or
    empty: no photo). Returns the report's id.

    Raises:
        ReportInputError: a field missing, too long, or a photo that is not kept;
            nothing is stored.
    """
    codes: dict[str, str] = {}
    errors: list[FieldError] = []
    where = _text(bought_where, "where", MAX_WHERE, codes, errors)
    if not where and "where" not in codes:
        codes["where"] = "missing"
        errors.append(FieldError("where", "say where it was bought"))
    chosen = (problem or "").strip()
    if chosen not in PROBLEMS:
        codes["problem"] = "missing"
        errors.append(FieldError("problem", f"one of {', '.join(PROBLEMS)}"))
    text = _text(details, "details", MAX_DETAILS, codes, errors)
    if chosen == "other" and not text and "details" not in codes:
        codes["details"] = "missing"
        errors.append(FieldError("details", "say what was wrong"))
    reach = _text(contact, "contact", MAX_CONTACT, codes, errors)
    kept: Photo | None = None
    if photo:
        try:
            kept = reencode_photo(photo)
        except PhotoError as e:
            codes["photo"] = e.code
            errors.append(FieldError("photo", str(e)))
    if errors:
        raise ReportInputError(codes, errors)
    row = ConsumerReport(
        number=number,
        body_code=body_code,
        created_at=now,
        bought_where=where,
        problem=chosen,
        details=text,
        contact=reach,
        photo=kept.data if kept else None,
        photo_type=kept.media_type if kept else None,
        status="new",
    )
    async with write_transaction(ConsumerReport._meta.db):
        inserted = await ConsumerReport.insert(row).returning(ConsumerReport.id)
    return int(inserted[0]["id"])


def _require_body(principal: Principal, body_code: str) -> str:
    code = body_code.strip().upper()
    if not principal.is_operator:
        principal.require_body(code)
    return code


_LISTED: Final = (
    ConsumerReport.id,
    ConsumerReport.number,
    ConsumerReport.body_code,
    ConsumerReport.created_at,
    ConsumerReport.bought_where,
    ConsumerReport.problem,
    ConsumerReport.details,
    ConsumerReport.contact,
    ConsumerReport.photo_type,
    ConsumerReport.status,
)


def _stored(row: dict[str, Any]) -> StoredReport:
    return StoredReport(
        id=int(row["id"]),
        number=row["number"],
        body_code=row["body_code"],
        created_at=row["created_at"],
        bought_where=row["bought_where"],
        problem=row["problem"],
        details=row["details"],
        contact=row["contact"],
        has_photo=row["photo_type"] is not None,
        photo_type=row["photo_type"],
        status=row["status"],
    )


async def list_reports(
    body_code: str,
    *,
    principal: Principal,
    limit: int = 20,
    cursor: str | None = None,
    number: str | None = None,
    new_only: bool = False,
) -> ReportPage:
    """The body's reports, newest first, `limit` at a time (about certificate
    `number` only, or those not yet seen only, when given).

    Raises:
        ForbiddenError: a token of another body.
        InvalidInputError: a cursor this list did not issue.
    """
    code = _require_body(principal, body_code)
    query = ConsumerReport.select(*_LISTED).where(ConsumerReport.body_code == code)
    if number is not None:
        query = query.where(ConsumerReport.number == number.strip().upper())
    if new_only:
        query = query.where(ConsumerReport.status == "new")
    if cursor is not None:
        digits = cursor.isascii() and cursor.isdigit() and len(cursor) <= 10
        if not digits or not 0 < int(cursor) <= MAX_ID:
            raise InvalidInputError(
                f"cursor {cursor[:40]!r} was not issued by this list",
                errors=[FieldError("cursor", "the next_cursor of a previous page, or nothing")],
            )
        query = query.where(ConsumerReport.id < int(cursor))
    rows = await query.order_by(ConsumerReport.id, ascending=False).limit(limit + 1)
    items = [_stored(row) for row in rows[:limit]]
    next_cursor = str(items[-1].id) if len(rows) > limit else None
    return ReportPage(items=items, next_cursor=next_cursor)


async def _own_report(report_id: int, body_code: str, principal: Principal) -> dict[str, Any]:
    code = _require_body(principal, body_code)
    if not 0 < report_id <= MAX_ID:
        raise NotFoundError(f"certification body {code} has no report {report_id}")
    row: dict[str, Any] | None = (
        await ConsumerReport.select(
            ConsumerReport.id, ConsumerReport.photo, ConsumerReport.photo_type
        )
        .where(ConsumerReport.id == report_id, ConsumerReport.body_code == code)
        .first()
    )
    if row is None:
        raise NotFoundError(f"certification body {code} has no report {report_id}")
    return row


async def report_photo(report_id: int, body_code: str, *, principal: Principal) -> Photo:
    """The stored (re-encoded) photo of one of the body's reports.

    Raises:
        ForbiddenError: a token of another body.
        NotFoundError: no such report of this body, or it has no photo.
    """
    row = await _own_report(report_id, body_code, principal)
    if row["photo"] is None or row["photo_type"] is None:
        raise NotFoundError(f"report {report_id} has no photo")
    return Photo(bytes(row["photo"]), str(row["photo_type"]))


async def mark_seen(report_id: int, body_code: str, *, principal: Principal) -> StoredReport:
    """The body has looked at the report: `new` becomes `seen`. Returns it as it now is.

    Raises:
        ForbiddenError: a token of another body.
        NotFoundError: no such report of this body.
    """
    row = await _own_report(report_id, body_code, principal)
    async with write_transaction(ConsumerReport._meta.db):
        await ConsumerReport.update({ConsumerReport.status: "seen"}).where(
            ConsumerReport.id == row["id"]
        )
    updated = await ConsumerReport.select(*_LISTED).where(ConsumerReport.id == row["id"]).first()
    assert updated is not None
    return _stored(updated)


async def count_new_reports(body_code: str | None, *, principal: Principal) -> int:
    """How many reports the body (every body: None, for an operator) has not yet seen."""
    query = ConsumerReport.count().where(ConsumerReport.status == "new")
    if body_code is not None or not principal.is_operator:
        query = query.where(ConsumerReport.body_code == _require_body(principal, body_code or ""))
    return int(await query)


async def require_report(report_id: int, body_code: str, *, principal: Principal) -> None:
    """Raises:
    ForbiddenError: a token of another body.
    NotFoundError: no such report of this body.
    """
    await _own_report(report_id, body_code, principal)
