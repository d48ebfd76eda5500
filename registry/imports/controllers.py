"""`/api/v1/imports`: upload a CSV or `.xlsx` of certificates, follow the job, get the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException
from litestar.params import FromPath

from registry.dependencies import provide_principal
from registry.errors import (
    FieldError,
    InvalidInputError,
    MalformedRequestError,
    PayloadTooLargeError,
    problem_responses,
)
from registry.imports import services
from registry.imports.reading import MAX_FILE_BYTES
from registry.imports.schemas import ImportJobDocument
from registry.principals import Principal

#: The file may be 10 MB; the multipart envelope around it is small.
UPLOAD_MAX_BODY: Final = MAX_FILE_BYTES + 64 * 1024
_YES: Final = ("1", "true", "yes", "on")
_NO: Final = ("", "0", "false", "no", "off")


async def _upload(request: Request[Any, Any, Any]) -> Mapping[str, Any]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInputError(
            "send the file as multipart/form-data, in the field `file`",
            errors=[FieldError("file", "required")],
        )
    try:
        form: Mapping[str, Any] = await request.form()
    except ClientException as e:
        if e.status_code == 413 or "Too Large" in (e.detail or ""):
            raise PayloadTooLargeError(
                f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB: split it into "
                "smaller files",
                errors=[FieldError("file", "over 10 MB")],
            ) from e
        raise MalformedRequestError(f"the upload cannot be read: {e.detail}") from e
    return form


def _flag(form: Mapping[str, Any], name: str) -> bool:
    value = form.get(name)
    text = value.strip().lower() if isinstance(value, str) else ""
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidInputError(
        f"{name} must be true or false", errors=[FieldError(name, "must be true or false")]
    )


def _document(view: services.ImportJobView) -> ImportJobDocument:
    return ImportJobDocument.from_view(view)


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["imports"]
    dependencies = {"principal": Provide(provide_principal)}

    @post(
        "/",
        summary="Upload a CSV or .xlsx of certificates; it is imported in the background",
        status_code=202,
        request_max_body_size=UPLOAD_MAX_BODY,
        responses=problem_responses(400, 401, 403, 404, 413, 422),
    )
    async def start(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Response[ImportJobDocument]:
        form = await _upload(request)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInputError(
                "attach the file in the form field `file`",
                errors=[FieldError("file", "required")],
            )
        data = await upload.read()
        body = form.get("body")
        view = await services.start_import(
            principal,
            upload.filename,
            data,
            all_or_nothing=_flag(form, "all_or_nothing"),
            body_code=body if isinstance(body, str) and body.strip() else None,
        )
        worker = getattr(request.app.state, "import_worker", None)
        if worker is not None:
            worker.wake()
        return Response(
            content=_document(view),
            status_code=202,
            headers={"Location": f"/api/v1/imports/{view.id}"},
        )

    @get(
        "/{job_id:str}",
        summary="An import job: state, progress and counts",
        responses=problem_responses(401, 404),
    )
    async def show(
        self, job_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> ImportJobDocument:
        return _document(await services.job(principal, job_id))

    @get(
        "/{job_id:str}/report.csv",
        summary="The row report: line, number, field, problem (CSV for Excel)",
        media_type="text/csv; charset=utf-8",
        responses=problem_responses(401, 404),
    )
    async def report(
        self, job_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> Response[bytes]:
        view = await services.job(principal, job_id)
        data = await services.report_csv(principal, view.id)
        stem = view.file_name.rsplit(".", 1)[0] or "import"
        return Response(
            content=data,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="import-{view.id}.csv"; '
                f"filename*=UTF-8''{_quote(stem)}-report.csv",
            },
        )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
