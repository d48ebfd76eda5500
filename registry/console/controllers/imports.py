"""`/console/import`: upload a CSV or `.xlsx` of certificates, follow the job, read its report.

The upload goes through the same import service as `POST /api/v1/imports`
(registry/imports/services.py): the same checks (CSV or `.xlsx`, 10 MB,
50,000 rows, the header), the same background job, run by the import worker of
any app process, the same row report. The job page is drawn by the server; a
small script (static/js/console-import.js) polls `/status` and reloads the page
when the job has finished; without scripts the page refreshes itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.console.accounts import ConsoleAccount
from registry.console.guards import require_writer
from registry.console.pages import _, error, ok, page
from registry.errors import InvalidInputError, PayloadTooLargeError
from registry.imports import services
from registry.imports.controllers import UPLOAD_MAX_BODY
from registry.imports.reading import MAX_FILE_BYTES

#: How often the page without scripts reloads itself while the job runs (seconds).
REFRESH_SECONDS: Final = 3
RECENT_JOBS: Final = 20


def finished_message(view: services.ImportJobView) -> dict[str, str] | None:
    """The outcome hook of a finished job (None while it runs): ok when every row
    went in, error when a row was refused or the job failed."""
    if not view.finished:
        return None
    if view.state == "failed":
        return error(_("The import failed: %(error)s") % {"error": view.error or ""})
    counts = {
        "stored": view.rows_stored,
        "already": view.rows_already_stored,
        "refused": view.rows_refused,
    }
    if view.refused_whole_file:
        return error(
            _(
                "Nothing was stored: %(refused)s rows are wrong and you chose all or nothing. "
                "See the report below."
            )
            % counts
        )
    text = (
        _("Import finished: %(stored)s stored, %(already)s already stored, %(refused)s refused.")
        % counts
    )
    return error(text) if view.rows_refused else ok(text)


def job_state(state: str) -> str:
    """A job's state in the page's language."""
    words = {
        "queued": _("waiting"),
        "running": _("running"),
        "done": _("finished"),
        "failed": _("failed"),
    }
    return words.get(state, state)


def status_document(view: services.ImportJobView) -> dict[str, Any]:
    """What the page's script polls: the job's state and counts."""
    return {
        "id": str(view.id),
        "state": view.state,
        "finished": view.finished,
        "total": view.total_rows,
        "done": view.rows_done,
        "stored": view.rows_stored,
        "already_stored": view.rows_already_stored,
        "refused": view.rows_refused,
    }


class ImportPages(Controller):
    path = "/import"

    async def _form_page(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
        message: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        jobs = await services.recent_jobs(account.principal, limit=RECENT_JOBS)
        return page(
            request,
            "import.html",
            account=account,
            message=message,
            status_code=status_code,
            values=values or {},
            errors=errors or {},
            jobs=jobs,
            max_mb=MAX_FILE_BYTES // 1_000_000,
            job_state=job_state,
        )

    @get("/", name="console-import")
    async def form(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template:
        return await self._form_page(request, account)

    @post("/", status_code=303, request_max_body_size=UPLOAD_MAX_BODY)
    async def start(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template | Redirect:
        require_writer(account)
        values: dict[str, str] = {}
        try:
            form: Mapping[str, Any] = await request.form()
        except ClientException as e:
            problem: InvalidInputError | PayloadTooLargeError = PayloadTooLargeError(
                _("The file is larger than %(mb)s MB: split it into smaller files.")
                % {"mb": MAX_FILE_BYTES // 1_000_000}
            )
            if e.status_code != 413 and "Too Large" not in (e.detail or ""):
                problem = InvalidInputError(_("The upload cannot be read."))
            return await self._refused(request, account, problem, values)
        all_or_nothing = str(form.get("all_or_nothing", "")) in ("1", "yes", "on", "true")
        body = str(form.get("body", "")).strip() if account.is_operator else ""
        values = {"all_or_nothing": "yes" if all_or_nothing else "", "body": body}
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._refused(
                request, account, InvalidInputError(_("Choose a CSV or .xlsx file.")), values
            )
        data = await upload.read()
        try:
            view = await services.start_import(
                account.principal,
                upload.filename,
                data,
                all_or_nothing=all_or_nothing,
                body_code=body or None,
            )
        except (InvalidInputError, PayloadTooLargeError) as e:
            return await self._refused(request, account, e, values)
        worker = getattr(request.app.state, "import_worker", None)
        if worker is not None:
            worker.wake()
        return Redirect(f"/console/import/{view.id}", status_code=303)

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        problem: InvalidInputError | PayloadTooLargeError,
        values: dict[str, str],
    ) -> Template:
        """The form again, the reason beside the file field; nothing was stored."""
        errors: dict[str, list[str]] = {}
        for e in problem.errors:
            name = "body" if e.field == "body" else "file"
            errors.setdefault(name, []).append(e.message)
        errors.setdefault("file", [problem.detail])
        return await self._form_page(
            request,
            account,
            values=values,
            errors=errors,
            message=error(_("Nothing was imported: %(detail)s") % {"detail": problem.detail}),
            status_code=problem.status_code,
        )

    @get("/{job_id:str}", name="console-import-job")
    async def show(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        job_id: FromPath[str],
    ) -> Template:
        view = await services.job(account.principal, job_id)
        rows = await services.report_rows(account.principal, view.id) if view.finished else []
        return page(
            request,
            "import_job.html",
            account=account,
            message=finished_message(view),
            job=view,
            report=rows,
            refresh_seconds=REFRESH_SECONDS,
            job_state=job_state,
        )

    @get("/{job_id:str}/status", name="console-import-status")
    async def status(
        self, account: NamedDependency[ConsoleAccount], job_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        view = await services.job(account.principal, job_id)
        return Response(status_document(view), headers={"Cache-Control": "no-store"})

    @get("/{job_id:str}/report.csv", name="console-import-report")
    async def report(
        self, account: NamedDependency[ConsoleAccount], job_id: FromPath[str]
    ) -> Response[bytes]:
        view = await services.job(account.principal, job_id)
        data = await services.report_csv(account.principal, view.id)
        return Response(
            content=data,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="import-{view.id}-report.csv"',
                "Cache-Control": "no-store",
            },
        )
