"""Import jobs: start one, read its progress and its row report (issue 12).

The shape every surface calls, the API now and the console's import page next:

- `start_import(principal, filename, data, all_or_nothing=...)` reads and checks
  the whole file first (registry/imports/reading.py), so a file that is not a
  table, too large, too long or with a wrong header is refused on the spot
  and nothing is recorded; otherwise it records a `queued` job holding the
  file's bytes and returns it. A worker in any app process runs it
  (registry/imports/worker.py).
- `job(principal, id)`, `report_rows(principal, id)`, `report_csv(principal, id)`:
  a body's staff see their body's jobs only; another body's job is "not found".
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import anyio.to_thread

from registry.bodies.services import get_body
from registry.errors import FieldError, InvalidInputError, NotFoundError
from registry.imports.reading import read_table
from registry.imports.tables import ImportJob, ImportJobRow
from registry.principals import Principal

__all__ = [
    "ImportJobView",
    "ReportRow",
    "job",
    "recent_jobs",
    "report_csv",
    "report_rows",
    "start_import",
]

#: What a job's view reads (never `data`, the file's bytes).
_VIEW_COLUMNS: Final = (
    ImportJob.id,
    ImportJob.body_code,
    ImportJob.created_by,
    ImportJob.file_name,
    ImportJob.format,
    ImportJob.all_or_nothing,
    ImportJob.state,
    ImportJob.total_rows,
    ImportJob.rows_done,
    ImportJob.rows_stored,
    ImportJob.rows_already_stored,
    ImportJob.rows_refused,
    ImportJob.created_at,
    ImportJob.started_at,
    ImportJob.finished_at,
    ImportJob.error,
)
#: Excel runs a cell that starts with one of these as a formula (CSV injection);
#: a leading apostrophe makes it text, as in the /verify results download.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
REPORT_CSV_HEADER: Final = ("line", "number", "field", "problem")


@dataclass(frozen=True)
class ImportJobView:
    id: uuid.UUID
    body_code: str
    created_by: str
    file_name: str
    format: str
    all_or_nothing: bool
    #: queued, running, done or failed.
    state: str
    total_rows: int
    rows_done: int
    rows_stored: int
    rows_already_stored: int
    rows_refused: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def refused_whole_file(self) -> bool:
        """All-or-nothing and a row was wrong: nothing was stored."""
        return self.state == "done" and self.all_or_nothing and self.rows_refused > 0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ImportJobView:
        return cls(**{c._meta.name: row[c._meta.name] for c in _VIEW_COLUMNS})


@dataclass(frozen=True)
class ReportRow:
    """One problem of one refused row."""

    line: int
    number: str
    #: The column, or "" when the row as a whole is wrong.
    field: str
    problem: str

    def text(self) -> str:
        """`line N: number: field: problem`, as the report shows it."""
        return f"line {self.line}: {self.number or '-'}: {self.field or '-'}: {self.problem}"


def job_body(principal: Principal, body_code: str | None) -> str:
    """The body a job is for: the token's own, or the one an operator names."""
    code = (body_code or principal.body_code or "").upper()
    if not code:
        raise InvalidInputError(
            "name the certification body the certificates belong to",
            errors=[FieldError("body", "required for operator tokens")],
        )
    if not principal.is_operator:
        principal.require_body(code)
    return code


async def start_import(
    principal: Principal,
    filename: str,
    data: bytes,
    *,
    all_or_nothing: bool = False,
    body_code: str | None = None,
) -> ImportJobView:
    """Check the file and record a queued job; a worker runs it.

    Raises:
        PayloadTooLargeError: over 10 MB.
        InvalidInputError: not CSV or `.xlsx`, more than 50,000 rows, a header
            that does not name the columns (nothing is recorded).
        NotFoundError: no such body.
        ForbiddenError: a body's token naming another body.
    """
    code = job_body(principal, body_code)
    await get_body(code)
    # Reading a large workbook is CPU work: off the event loop.
    table = await anyio.to_thread.run_sync(read_table, filename, data)
    job_id = uuid.uuid4()
    await ImportJob.insert(
        ImportJob(
            id=job_id,
            body_code=code,
            created_by=principal.actor,
            file_name=_file_name(filename),
            format=table.format,
            all_or_nothing=all_or_nothing,
            state="queued",
            total_rows=len(table.rows),
            data=data,
        )
    )
    return await _load(job_id)


def _file_name(filename: str) -> str:
    """The name shown back: no folders, at most 255 characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"
    return name[:255]


async def _load(job_id: uuid.UUID) -> ImportJobView:
    row = await ImportJob.select(*_VIEW_COLUMNS).where(ImportJob.id == job_id).first()
    if row is None:
        raise NotFoundError(f"no import job {job_id}")
    return ImportJobView.from_row(row)


def _parse_id(job_id: str | uuid.UUID) -> uuid.UUID:
    if isinstance(job_id, uuid.UUID):
        return job_id
    try:
        return uuid.UUID(job_id)
    except ValueError:
        raise NotFoundError(f"no import job {job_id}") from None


async def job(principal: Principal, job_id: str | uuid.UUID) -> ImportJobView:
    """The job, if `principal` may see it (its body's staff, or an operator).

    Raises:
        NotFoundError: no such job, or another body's.
    """
    view = await _load(_parse_id(job_id))
    if not principal.is_operator and principal.body_code != view.body_code:
        raise NotFoundError(f"no import job {job_id}")
    return view


async def report_rows(principal: Principal, job_id: str | uuid.UUID) -> list[ReportRow]:
    """The refused rows' problems, by line (empty while the job has not finished)."""
    view = await job(principal, job_id)
    rows = (
        await ImportJobRow.select(
            ImportJobRow.line, ImportJobRow.number, ImportJobRow.field, ImportJobRow.problem
        )
        .where(ImportJobRow.job == view.id)
        .order_by(ImportJobRow.line)
        .order_by(ImportJobRow.id)
    )
    return [ReportRow(r["line"], r["number"], r["field"], r["problem"]) for r in rows]


def _text_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv_bytes(rows: Sequence[ReportRow]) -> bytes:
    """The report for Excel: UTF-8 with a BOM, CRLF, every cell formula-neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_CSV_HEADER)
    for r in rows:
        writer.writerow([_text_cell(c) for c in (r.line, r.number, r.field, r.problem)])
    return buffer.getvalue().encode("utf-8-sig")


async def report_csv(principal: Principal, job_id: str | uuid.UUID) -> bytes:
    return report_csv_bytes(await report_rows(principal, job_id))


async def recent_jobs(
    principal: Principal, *, body_code: str | None = None, limit: int = 20
) -> list[ImportJobView]:
    """The latest jobs, newest first: the principal's body's (an operator's: all, or
    `body_code`'s)."""
    code = principal.body_code if not principal.is_operator else body_code
    query = ImportJob.select(*_VIEW_COLUMNS)
    if code:
        query = query.where(ImportJob.body_code == code.upper())
    rows = await query.order_by(ImportJob.created_at, ascending=False).limit(limit)
    return [ImportJobView.from_row(row) for row in rows]
