"""The import worker: runs queued import jobs in the background of every app process.

Each app process runs one `ImportWorker` for its life (`import_worker_lifespan`).
A worker claims a job atomically, so that with several processes on one
database each job runs exactly once:

- the claim is a conditional UPDATE (`state = 'queued'`, or `running` with a
  heartbeat older than the lease) that returns the job only to the one writer
  whose UPDATE changed the row. On PostgreSQL the candidate is picked with
  `SELECT ... FOR UPDATE SKIP LOCKED`, so two workers pick different jobs
  rather than queue on one; on SQLite the pick and the UPDATE share the
  writer's IMMEDIATE transaction, which no other writer can interleave;
- while it runs, the worker writes the rows done and a heartbeat every
  `lease / 3`; a worker whose process died stops doing so, and once its
  heartbeat is older than the lease another worker takes the job over and runs
  the same file again. The import is resumable (registry/certificates/importer.py):
  certificates the dead run stored count as already stored, so nothing is
  stored twice and the counts come out whole;
- every write of the job's end is conditional on the worker still holding
  the job, so a worker that was presumed dead and comes back changes nothing.

The certificates are stored by the importer `starmark cert import` uses, signed
with the body's hosted key, with the job's creator as the actor of the audit
records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Final

import anyio.to_thread
from litestar import Litestar
from piccolo.engine.postgres import PostgresEngine

from registry.bodies.services import HostedKeyVault, active_hosted_signer
from registry.certificates import importer
from registry.db import write_transaction
from registry.errors import RegistryError
from registry.imports.reading import Row, read_table
from registry.imports.tables import ImportJob, ImportJobRow
from registry.metrics import IMPORT_ROWS
from registry.principals import Principal
from registry.settings import ImportSettings

__all__ = ["ImportWorker", "import_worker_lifespan", "report_problems"]

log = logging.getLogger(__name__)

#: A job taken over this many times (its process died each time) fails instead.
MAX_ATTEMPTS: Final = 3
#: Rows given to the importer at a time (its batch: one transaction each).
CHUNK_ROWS: Final = importer.BATCH_SIZE
#: "holder_name: must not be empty" in the importer's row messages.
_COLUMN_PROBLEM: Final = re.compile(
    r"^(?P<field>" + "|".join(importer.ALL_COLUMNS) + r"|[a-z_]+(?:\.[a-z_]+|\[\d+\])+): "
    r"(?P<problem>.+)$",
    re.S,
)


def _without_repeats(rows: list[Row]) -> tuple[list[Row], importer.ImportReport]:
    """The rows but those whose number an earlier row of the file has, and a report
    that refuses them as the importer would."""
    report = importer.ImportReport()
    first: dict[str, int] = {}
    kept = []
    for line, cells in rows:
        number = cells.get("number", "").strip().upper()
        if number and "__error__" not in cells:
            if number in first:
                report.rejected.append(
                    importer.RowError(
                        line, number, f"number repeats line {first[number]} of this file"
                    )
                )
                continue
            first[number] = line
        kept.append((line, cells))
    return kept, report


def report_problems(message: str) -> list[tuple[str, str]]:
    """(field, problem) pairs of one refused row's message.

    The importer joins a row's problems as `column: problem; column: problem`;
    a message about the row as a whole has no column, and one about the
    number (taken, repeated) names `number`.
    """
    pairs = []
    for part in message.split("; "):
        match = _COLUMN_PROBLEM.match(part)
        if match:
            pairs.append((match["field"], match["problem"]))
        elif part.startswith("number "):
            pairs.append(("number", part))
        else:
            pairs.append(("", part))
    return pairs


class ImportWorker:
    """Claims and runs import jobs; one per app process (or per test)."""

    def __init__(
        self,
        *,
        vault: HostedKeyVault,
        settings: ImportSettings,
        clock: Callable[[], datetime],
        name: str | None = None,
    ) -> None:
        self.vault = vault
        self.settings = settings
        self.clock = clock
        #: Who holds a job: host, process and a random part (two workers in one process differ).
        self.name = name or f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._wake = asyncio.Event()

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    def wake(self) -> None:
        """A job was queued in this process: look now rather than at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                ran = await self.run_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A database that went away for a moment: try again at the next poll.
                log.exception("import worker: claiming or running a job failed")
                ran = False
            if ran:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_seconds)

    async def run_next(self) -> bool:
        """Claim one job and run it to its end; False when there was none to claim."""
        job_id = await self.claim()
        if job_id is None:
            return False
        await self.run(job_id)
        return True

    def _claimable(self, now: datetime) -> Any:
        stale = now - self.lease
        return (ImportJob.state == "queued") | (
            (ImportJob.state == "running") & (ImportJob.heartbeat_at < stale)
        )

    async def claim(self) -> uuid.UUID | None:
        """Take the oldest queued job, or a running one whose worker stopped beating."""
        now = self.clock()
        # A plain read first: an idle worker never takes the write lock.
        if not await ImportJob.exists().where(self._claimable(now)):
            return None
        engine = ImportJob._meta.db
        async with write_transaction(engine):
            pick = (
                ImportJob.select(ImportJob.id)
                .where(self._claimable(now))
                .order_by(ImportJob.created_at)
                .limit(1)
            )
            if isinstance(engine, PostgresEngine):
                pick = pick.lock_rows("UPDATE", skip_locked=True)
            rows = await pick
            if not rows:
                return None
            job_id: uuid.UUID = rows[0]["id"]
            # Conditional: under PostgreSQL's READ COMMITTED the condition is
            # checked again on the row as the other writer left it.
            claimed = (
                await ImportJob.update(
                    {
                        ImportJob.state: "running",
                        ImportJob.worker: self.name,
                        ImportJob.heartbeat_at: now,
                        ImportJob.attempts: ImportJob.attempts + 1,
                    }
                )
                .where((ImportJob.id == job_id) & self._claimable(now))
                .returning(ImportJob.id, ImportJob.started_at, ImportJob.attempts)
            )
            if not claimed:
                return None
            if claimed[0]["attempts"] > MAX_ATTEMPTS:
                # Its process died every time (a workbook that exhausts memory?):
                # stop taking it over, say so.
                await ImportJob.update(
                    {
                        ImportJob.state: "failed",
                        ImportJob.error: f"the import stopped {MAX_ATTEMPTS} times without "
                        "finishing: split the file and import the parts",
                        ImportJob.finished_at: now,
                    }
                ).where(ImportJob.id == job_id)
                return None
            if claimed[0]["started_at"] is None:
                await ImportJob.update({ImportJob.started_at: now}).where(ImportJob.id == job_id)
        log.info("import job %s claimed by %s", job_id, self.name)
        return job_id

    def _mine(self, job_id: uuid.UUID) -> Any:
        return (ImportJob.id == job_id) & (ImportJob.worker == self.name)

    async def run(self, job_id: uuid.UUID) -> None:
        """Run a claimed job: read its file, import, record the report and the counts."""
        row = (
            await ImportJob.select(
                ImportJob.body_code,
                ImportJob.created_by,
                ImportJob.file_name,
                ImportJob.all_or_nothing,
                ImportJob.data,
            )
            .where(ImportJob.id == job_id)
            .first()
        )
        if row is None:  # pragma: no cover - deleted meanwhile
            return
        done = [0]
        beating = asyncio.create_task(self._beat(job_id, done))
        try:
            report = await self._import(row, done)
        except RegistryError as e:
            await self._fail(job_id, e.detail)
            return
        except Exception as e:
            log.exception("import job %s failed", job_id)
            await self._fail(
                job_id, f"the import stopped on an internal error ({type(e).__name__})"
            )
            return
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        await self._finish(job_id, report)

    async def _import(self, row: dict[str, Any], done: list[int]) -> importer.ImportReport:
        data = bytes(row["data"])
        # Reading a large workbook is CPU work: off the event loop.
        table = await anyio.to_thread.run_sync(read_table, row["file_name"], data)
        now = self.clock()
        body_code: str = row["body_code"]
        signer = await active_hosted_signer(body_code, vault=self.vault, now=now)
        IMPORT_ROWS.labels(kind="total").set(len(table.rows))
        IMPORT_ROWS.labels(kind="done").set(0)
        principal = Principal(actor=row["created_by"], body_code=body_code)

        async def store(rows: list[Row]) -> importer.ImportReport:
            return await importer.import_certificates(
                rows,
                body_code=body_code,
                signer=signer,
                principal=principal,
                now=now,
                all_or_nothing=row["all_or_nothing"],
            )

        if row["all_or_nothing"]:
            # One transaction for the whole file: one call.
            report = await store(table.rows)
            self._advance(done, len(table.rows))
            return report
        # Chunk by chunk, so that the progress moves chunk by chunk. A chunk is
        # signed in this process (under the importer's PROCESS_MIN_ROWS), which
        # lets the app's requests and this job's heartbeat run every 500 rows.
        # A number repeated across chunks is found here, as the importer finds
        # one within a call.
        rows, report = _without_repeats(table.rows)
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            part = await store(chunk)
            report.stored += part.stored
            report.already_stored += part.already_stored
            report.rejected.extend(part.rejected)
            self._advance(done, len(chunk))
            await asyncio.sleep(0)
        self._advance(done, len(table.rows) - len(rows))
        report.rejected.sort(key=lambda r: r.line)
        return report

    @staticmethod
    def _advance(done: list[int], n: int) -> None:
        done[0] += n
        IMPORT_ROWS.labels(kind="done").set(done[0])

    async def _beat(self, job_id: uuid.UUID, done: list[int]) -> None:
        """Progress and the heartbeat, written while the job runs (a reload shows them)."""
        every = max(self.settings.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(every)
            try:
                await ImportJob.update(
                    {ImportJob.rows_done: done[0], ImportJob.heartbeat_at: self.clock()}
                ).where(self._mine(job_id) & (ImportJob.state == "running"))
            except Exception:  # pragma: no cover - the next beat tries again
                log.exception("import job %s: heartbeat failed", job_id)

    async def _finish(self, job_id: uuid.UUID, report: importer.ImportReport) -> None:
        now = self.clock()
        problems = [
            ImportJobRow(job=job_id, line=r.line, number=r.number[:64], field=f[:32], problem=p)
            for r in report.rejected
            for f, p in report_problems(r.message)
        ]
        stored = 0 if report.refused else report.stored
        async with write_transaction(ImportJob._meta.db):
            updated = (
                await ImportJob.update(
                    {
                        ImportJob.state: "done",
                        ImportJob.rows_done: report.stored
                        + report.already_stored
                        + len(report.rejected),
                        ImportJob.rows_stored: stored,
                        ImportJob.rows_already_stored: report.already_stored,
                        ImportJob.rows_refused: len(report.rejected),
                        ImportJob.finished_at: now,
                        ImportJob.heartbeat_at: now,
                    }
                )
                .where(self._mine(job_id) & (ImportJob.state == "running"))
                .returning(ImportJob.id)
            )
            if not updated:
                # Taken over meanwhile: the other worker reports.
                return
            # A resumed job reports once, from its last run.
            await ImportJobRow.delete().where(ImportJobRow.job == job_id)
            for start in range(0, len(problems), 500):
                await ImportJobRow.insert(*problems[start : start + 500])
        log.info(
            "import job %s done: %d stored, %d already stored, %d refused",
            job_id,
            stored,
            report.already_stored,
            len(report.rejected),
        )

    async def _fail(self, job_id: uuid.UUID, error: str) -> None:
        now = self.clock()
        await ImportJob.update(
            {
                ImportJob.state: "failed",
                ImportJob.error: error,
                ImportJob.finished_at: now,
                ImportJob.heartbeat_at: now,
            }
        ).where(self._mine(job_id) & (ImportJob.state == "running"))


def import_worker_lifespan(
    settings: ImportSettings, *, clock: Callable[[], datetime]
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Run an `ImportWorker` in the background for the life of the app (after the
    database lifespan has bound the engine); `app.state.import_worker` can be woken."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        worker = ImportWorker(vault=app.state.vault, settings=settings, clock=clock)
        app.state.import_worker = worker
        task = asyncio.create_task(worker.run_forever()) if settings.worker else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan
