"""Import jobs (issue 12): a file uploaded once, run in the background by any process."""

from __future__ import annotations

from piccolo.columns import (
    UUID,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ImportJob(Table, tablename="import_job"):
    id = UUID(primary_key=True)
    #: The body whose certificates the file issues; its staff alone see the job.
    body_code = Varchar(length=32, index=True)
    #: The principal's actor (`token:<prefix>`, `cli`, later a console user): the
    #: audit records of the certificates name it.
    created_by = Varchar(length=64)
    file_name = Varchar(length=255)
    #: `csv` or `xlsx`, as the bytes say (registry/imports/reading.py).
    format = Varchar(length=8)
    all_or_nothing = Boolean(default=False)
    #: queued -> running -> done | failed. `done` includes a file refused by
    #: all_or_nothing (rows_refused > 0, rows_stored 0).
    state = Varchar(length=16, default="queued", index=True)
    total_rows = Integer(default=0)
    #: Rows handled so far (stored, already stored or refused), for progress.
    rows_done = Integer(default=0)
    rows_stored = Integer(default=0)
    #: Rows whose certificate an earlier run had stored already (resumed jobs).
    rows_already_stored = Integer(default=0)
    rows_refused = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    #: Written by the running worker every few seconds: a job `running` with an
    #: older heartbeat than the lease belongs to a process that died.
    heartbeat_at = Timestamptz(null=True, default=None)
    #: Which worker holds the job (`host:pid:random`), for the lease.
    worker = Varchar(length=96, null=True, default=None)
    #: How many times a worker took the job (more than 1: resumed).
    attempts = Integer(default=0)
    #: Why a job failed (never the rows' problems: those are the report).
    error = Text(null=True, default=None)
    #: The uploaded file, kept so that whichever process claims the job can run it.
    data = Bytea()


class ImportJobRow(Table, tablename="import_job_row"):
    """The row report: one problem of one refused row."""

    id = Serial(primary_key=True)
    job = ForeignKey(references=ImportJob, index=True)
    #: The file's line (CSV) or Excel's row number.
    line = Integer()
    number = Varchar(length=64, default="")
    #: The column (as the importer names it), or "" for the whole row.
    field = Varchar(length=32, default="")
    problem = Text()
