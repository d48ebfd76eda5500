"""What `/api/v1/imports` answers (issue 12), for clients and `/schema`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from msgspec import Meta, Struct

if TYPE_CHECKING:
    from registry.imports.services import ImportJobView

JobState = Literal["queued", "running", "done", "failed"]


class ImportCounts(Struct, forbid_unknown_fields=True):
    total: Annotated[int, Meta(description="data rows in the file (blank rows not counted)")]
    done: Annotated[int, Meta(description="rows handled so far: the progress")]
    stored: Annotated[int, Meta(description="certificates this job stored")]
    already_stored: Annotated[
        int, Meta(description="rows whose identical certificate was stored before (a re-run)")
    ]
    refused: Annotated[int, Meta(description="rows refused; see the report")]


class ImportJobDocument(Struct, forbid_unknown_fields=True):
    """One import job. `report` lists the refused rows once the job is done."""

    id: str
    body: str
    file_name: str
    format: Literal["csv", "xlsx"]
    all_or_nothing: bool
    state: JobState
    rows: ImportCounts
    created_by: Annotated[str, Meta(description="who started it: the audit records' actor")]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: Annotated[str | None, Meta(description="why a failed job stopped")]
    report_url: str

    @classmethod
    def from_view(cls, view: ImportJobView) -> ImportJobDocument:
        return cls(
            id=str(view.id),
            body=view.body_code,
            file_name=view.file_name,
            format="xlsx" if view.format == "xlsx" else "csv",
            all_or_nothing=view.all_or_nothing,
            state=view.state,  # type: ignore[arg-type]
            rows=ImportCounts(
                total=view.total_rows,
                done=view.rows_done,
                stored=view.rows_stored,
                already_stored=view.rows_already_stored,
                refused=view.rows_refused,
            ),
            created_by=view.created_by,
            created_at=view.created_at,
            started_at=view.started_at,
            finished_at=view.finished_at,
            error=view.error,
            report_url=f"/api/v1/imports/{view.id}/report.csv",
        )
